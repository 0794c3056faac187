"""The Class 2 / 2.0 driver against scripted modems that misbehave in ways the lab modem does not:
every call still ends in a record that says what happened, and nothing is counted delivered that
the modem did not confirm."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.fax.channel import FlowControl
from drivers.fax.class2_modem import Class2FaxModem
from drivers.fax.config import ModemConfig
from drivers.fax.pages import CodedPage
from drivers.fax.record import CallStatus, HangupCode, PageStatus

from .helpers import ScriptedModem

OK = b"\r\nOK\r\n"
INIT = [(b"ATZ\r", OK), (b"ATE0V1Q0\r", OK), (b"AT+FCLASS=2.0\r", OK), (b"AT+FLI=", OK),
        (b"AT+FCC=", OK), (b"AT+FBO=0\r", OK), (b"AT+FCR=1\r", OK),
        (b"AT+FLO=0\r", OK)]  # flow_control "none" told to the modem
DIALLED = (b"ATDT5550199\r", b'\r\n+FCO\r\n\r\n+FCI:"REMOTE"\r\n\r\n+FIS:1,5,0,2,0,0,0,0\r\n' + OK)
PAGE = CodedPage(b"\x00\x10\x80" * 50)  # any bytes: a DLE in the data must reach the modem doubled


def call(script: list[tuple[bytes | None, bytes]], tmp_path: Path, pages: int = 1):
    fake = ScriptedModem(INIT + script).start()
    cfg = ModemConfig(name="scripted", port=fake.path, fax_class="2.0", flow_control=FlowControl.NONE,
                      lock_dir=str(tmp_path), station_id="ME", hangup_wait_s=1.0, timer_scale=0.05)
    modem = Class2FaxModem(cfg)
    try:
        modem.open()
        record = modem.send_fax([PAGE] * pages, "5550199")
    finally:
        modem.close()
        fake.close()
    return record, bytes(fake.received)


def test_a_page_confirmed_then_normal_end(tmp_path):
    record, sent = call([
        DIALLED,
        (b"AT+FDT\r", b"\r\n+FCS:1,5,0,2,0,0,0,0\r\n\r\nCONNECT\r\n"),
        (b"\x10\x03", OK),
        (b"AT+FET=2\r", b"\r\n+FPS:1\r\n\r\n+FHS:00\r\n" + OK),
        (b"ATH0\r", OK),
    ], tmp_path)

    assert record.status is CallStatus.COMPLETED and record.hangup.code is HangupCode.NORMAL
    assert record.remote_station_id == "REMOTE" and record.bit_rate == 14400
    assert b"\x10\x10\x80" in sent  # DLE shielded in the page data


def test_no_page_status_after_the_page_is_not_a_delivered_page(tmp_path):
    record, _ = call([
        DIALLED,
        (b"AT+FDT\r", b"\r\n+FCS:1,5,0,2,0,0,0,0\r\n\r\nCONNECT\r\n"),
        (b"\x10\x03", OK),
        (b"AT+FET=2\r", b"\r\n+FHS:54\r\n\r\nERROR\r\n"),  # no +FPS: no response to EOP
        (b"ATH0\r", OK),
    ], tmp_path)

    assert record.status is CallStatus.FAILED and record.pages_delivered == 0
    assert [a.status for a in record.pages[0].attempts] == [PageStatus.NO_RESPONSE]
    assert record.hangup.code is HangupCode.NO_RESPONSE
    assert record.hangup.modem_result == "+FHS:54" and "EOP" in record.hangup.reason


def test_garbled_reports_are_kept_out_of_the_record(tmp_path):
    record, _ = call([
        (b"ATDT5550199\r", b"\r\n+FCO\r\n\r\n+FIS:zz\r\n\r\n+FCI:\"R\"\r\n" + OK),
        (b"AT+FDT\r", b"\r\n+FCS:9,9\r\n\r\nCONNECT\r\n"),
        (b"\x10\x03", OK),
        (b"AT+FET=2\r", b"\r\n+FPS:7\r\n\r\n+FHS:00\r\n" + OK),  # an unknown page status
        (b"ATH0\r", OK),
    ], tmp_path)

    # +FPS:7 is no verdict: the page is not counted delivered; the call ended normally.
    assert record.pages_delivered == 0 and record.status is CallStatus.FAILED
    assert record.pages[0].attempts[0].status is PageStatus.NO_RESPONSE


@pytest.mark.parametrize("reply, code", [
    (b"\r\nBUSY\r\n", HangupCode.BUSY),
    (b"\r\nNO DIALTONE\r\n", HangupCode.NO_DIALTONE),
    (b"\r\n+FHS:11\r\n\r\nERROR\r\n", HangupCode.NO_FAX_PEER),
    (b"\r\nERROR\r\n", HangupCode.MODEM_ERROR),
])
def test_dialling_failures(tmp_path, reply, code):
    record, _ = call([(b"ATDT5550199\r", reply), (b"ATH0\r", OK)], tmp_path)

    assert record.hangup.code is code and record.status is CallStatus.FAILED
    assert record.connected_at is None and record.pages == ()


def test_a_modem_that_goes_quiet_mid_call_ends_the_call_with_a_record(tmp_path):
    record, _ = call([
        DIALLED,
        (b"AT+FDT\r", b""),  # never answers
    ], tmp_path)

    assert record.hangup.code is HangupCode.MODEM_ERROR and "no result" in record.hangup.reason
    assert record.pages_delivered == 0
