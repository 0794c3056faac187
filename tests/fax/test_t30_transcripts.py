"""Whole calls as AT command/response tables (spandsp ``t31_tests.c`` style), replayed by a
scripted modem on a pty: our DTE must say exactly what the table says, and read the replies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from drivers.fax.channel import FlowControl
from drivers.fax.config import ModemConfig
from drivers.fax.modem import FaxModem
from drivers.fax.pages import CodedPage
from drivers.fax.record import CallStatus, HangupCode, PageStatus

from .helpers import ScriptedModem, bar_page
from .record_transcript import BAR_EVERY, PAGE_ROWS

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "data" / "fax" / "transcripts"


def load(name: str) -> list[tuple[bytes, bytes]]:
    """'>' lines are what the DTE writes, '<' lines the modem's reply to it."""
    steps: list[tuple[bytes, bytes]] = []
    for line in (TRANSCRIPTS / name).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        direction, literal = line[0], ast.literal_eval(line[2:])
        if direction == ">":
            steps.append((literal, b""))
        else:
            steps[-1] = (steps[-1][0], steps[-1][1] + literal)
    return steps


def run(script, tmp_path, pages, timer_scale=0.2, ecm=False):
    fake = ScriptedModem(script).start()
    cfg = ModemConfig(name="t", port=fake.path, flow_control=FlowControl.NONE,
                      lock_dir=str(tmp_path), station_id="+86 10 5550100", timer_scale=timer_scale,
                      ecm=ecm)
    modem = FaxModem(cfg)
    modem.channel.open()
    try:
        return modem.send_fax(pages, "5550199"), fake
    finally:
        modem.close()
        fake.close()


def test_golden_one_page_send_against_spandsp(tmp_path):
    script = load("send_1page_v17_spandsp.txt")
    call, fake = run(script, tmp_path, [bar_page(PAGE_ROWS, BAR_EVERY)])
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.remote_station_id == "+1 555 0100"
    assert call.pages[0].attempts[0].status is PageStatus.CONFIRMED
    assert bytes(fake.received) == b"".join(dte for dte, _ in script)


def test_golden_one_page_ecm_send_against_spandsp(tmp_path):
    """ECM: the page in one block of HDLC frames we framed ourselves over +FTM, then PPS-EOP."""
    script = load("send_1page_v17_ecm_spandsp.txt")
    call, fake = run(script, tmp_path, [bar_page(PAGE_ROWS, BAR_EVERY)], ecm=True)
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.ecm and call.pages[0].attempts[0].status is PageStatus.CONFIRMED
    assert bytes(fake.received) == b"".join(dte for dte, _ in script)
    assert b"\xff\x13\xbf\x2f\x00\x00\x00\x10\x03" in fake.received  # PPS-EOP page 0 block 0, 1 frame


OK, CONNECT = b"\r\nOK\r\n", b"\r\nCONNECT\r\n"


@pytest.mark.parametrize("result,code", [(b"\r\nBUSY\r\n", HangupCode.BUSY),
                                         (b"\r\nNO DIALTONE\r\n", HangupCode.NO_DIALTONE),
                                         (b"\r\nNO CARRIER\r\n", HangupCode.NO_CARRIER)])
def test_dial_failures(tmp_path, result, code):
    call, fake = run([(b"ATDT5550199\r", result), (b"ATH0\r", OK)], tmp_path, [CodedPage(b"x")])
    assert call.hangup.code is code and call.hangup.modem_result == result.strip().decode()
    assert call.status is CallStatus.FAILED


def test_line_drops_after_dis_no_carrier_everywhere(tmp_path):
    """The golden call up to DIS, then the modem says NO CARRIER: the record says the line dropped."""
    script = load("send_1page_v17_spandsp.txt")[:2]
    script += [(b"AT+FRS=7\r", OK), (b"AT+FTH=3\r", b"\r\nNO CARRIER\r\n"), (b"ATH0\r", OK)]
    call, fake = run(script, tmp_path, [CodedPage(b"x")])
    assert call.hangup.code is HangupCode.CARRIER_LOST
    assert call.hangup.modem_result == "NO CARRIER"
    assert call.status is CallStatus.FAILED and call.pages_delivered == 0
