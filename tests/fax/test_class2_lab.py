"""gatewayd's Class 2 / 2.0 driver against the lab's Class 2 / 2.0 modem (tier 3: a real peer).

The same checks as the Class 1 lab tests (``test_send_lab.py``): our ``FaxCall`` and the far end's
record and TIFF, pixel for pixel. The modem here is ``faxmodem --class 2|2.0``, itself proven
with efax and mgetty's sendfax (``test_lab_class2.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.fax.channel import FlowControl, ModemChannel
from drivers.fax.class2_modem import Class2FaxModem, hangup_code
from drivers.fax.class2 import HANGUP_REASONS
from drivers.fax.classes import NoFaxClass, choose_class, listed_classes, open_modem
from drivers.fax.config import ModemConfig
from drivers.fax.modem import FaxModem
from drivers.fax.pages import PageQuality
from drivers.fax.record import CallStatus, Direction, HangupCode, PageStatus
from drivers.fax import t4
from drivers.fax.t4 import CopyQualityPolicy
from drivers.fax.t30 import RtnMethod, RtnPolicy

from .helpers import bar_tiff, two_page_tiff
from .test_send_lab import SPEED, STATION, pages, tiff_bitmaps

pytestmark = pytest.mark.slow

CLASSES = ["2", "2.0"]


def config_for(peer, tmp_path: Path, fax_class: str, **kw) -> ModemConfig:
    return ModemConfig(name="lab2", port=str(peer.pty), fax_class=fax_class,
                       flow_control=FlowControl.NONE, lock_dir=str(tmp_path), station_id=STATION,
                       timer_scale=1 / SPEED, rings_before_answer=1, own_number="5550100", **kw)


def opened(peer, tmp_path: Path, fax_class: str, **kw):
    cfg = config_for(peer, tmp_path, fax_class, **kw)
    return open_modem(cfg, ModemChannel(cfg.port, flow=cfg.flow_control, lock_dir=cfg.lock_dir))


def receive(fax_lab, tmp_path: Path, fax_class: str, document: Path, checker=None,
            modem_kw: dict | None = None, **peer_kw):
    """The lab's far end sends ``document`` to our modem: our call record and the far end's."""
    peer = fax_lab(fclass=fax_class, speed=SPEED, send=document, receive=False, **peer_kw)
    modem = opened(peer, tmp_path, fax_class, **(modem_kw or {}))
    try:
        call = modem.receive_fax(checker, wait=60, store_dir=tmp_path / "in")
    finally:
        modem.close()
    return call, peer.wait_call(timeout=60)


@pytest.mark.parametrize("fax_class", CLASSES)
@pytest.mark.parametrize("n", [1, 3])
def test_send_pages(fax_lab, tmp_path, fax_class, n):
    peer = fax_lab(fclass=fax_class, speed=SPEED)
    sent = pages(n)
    modem = opened(peer, tmp_path, fax_class)
    assert isinstance(modem, Class2FaxModem)
    try:
        call = modem.send_fax(sent, "5550199", job_id="job-7")
    finally:
        modem.close()
    record = peer.wait_call(timeout=60)

    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.hangup.code is HangupCode.NORMAL
    assert call.direction is Direction.OUTGOING and call.job_id == "job-7"
    assert call.pages_delivered == n and call.error_pages == ()
    assert [a.status for p in call.pages for a in p.attempts] == [PageStatus.CONFIRMED] * n
    assert call.remote_station_id == "+1 555 0100"
    assert call.bit_rate == 14400 and call.resolution == "7.7 l/mm"
    assert call.connected_at is not None and call.duration_s > 0
    assert record["status"] == "OK" and record["pages"] == n and record["remote_ident"] == STATION
    assert tiff_bitmaps(peer.received_tiff(1)) == [p.bitmap for p in sent]


@pytest.mark.parametrize("fax_class", CLASSES)
def test_receive_two_pages(fax_lab, tmp_path, fax_class):
    document = two_page_tiff(tmp_path / "two.tif")
    call, record = receive(fax_lab, tmp_path, fax_class, document)

    assert record["status"] == "OK" and record["pages"] == 2, record
    assert call.direction is Direction.INCOMING and call.status is CallStatus.COMPLETED, call.hangup
    assert call.hangup.code is HangupCode.NORMAL
    assert call.remote_station_id == "+1 555 0100"
    assert [a.status for p in call.pages for a in p.attempts] == [PageStatus.RECEIVED_GOOD] * 2
    stored = tiff_bitmaps(Path(call.document_path))
    assert stored == tiff_bitmaps(document)  # the pages exactly as the far end sent them


@pytest.mark.parametrize("fax_class", CLASSES)
def test_a_page_our_rule_rejects_is_answered_rtn_and_its_resend_is_one_page(fax_lab, tmp_path,
                                                                             fax_class):
    """The line is clean, so the modem's own check passes page 2; ours refuses its first copy.
    The modem answers RTN because we said AT+FPS=2 (AT+FPTS=2), the sender sends the page again,
    and the call has three pages: page 2 an ErrorPage, its resent copy the one stored."""
    document = bar_tiff(tmp_path / "three.tif", 3)
    copies: list[PageQuality] = []

    def checker(data, session):
        copies.append(t4.check_page(data, session))
        if len(copies) == 2:
            return PageQuality(0, copies[-1].lines, copies[-1].lines)  # every line bad
        return copies[-1]

    call, record = receive(fax_lab, tmp_path, fax_class, document, checker, ecm=False)

    assert record["rtn"] == 1 and record["status"] == "OK", record
    assert len(copies) == 4 and all(q.bad_lines == 0 for q in copies)
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert [p.page for p in call.pages] == [1, 2, 3] and call.error_pages == (2,)
    assert [a.status for a in call.pages[1].attempts] == [PageStatus.RECEIVED_BAD,
                                                          PageStatus.RECEIVED_GOOD]
    assert all(p.delivered for p in call.pages)
    assert tiff_bitmaps(Path(call.document_path)) == tiff_bitmaps(document)


@pytest.mark.parametrize("fax_class", CLASSES)
def test_a_spoilt_page_is_refused_by_the_modems_counts_and_sent_again(fax_lab, tmp_path,
                                                                      fax_class):
    """Noise over page 2's image: the modem repairs the rows it hands us, its +FPS line counts
    show the damage, our rule refuses the page (RTN) and the resend is stored."""
    document = bar_tiff(tmp_path / "three.tif", 3)
    call, record = receive(fax_lab, tmp_path, fax_class, document, corrupt=(2,), ecm=False)

    assert record["corrupted_pages"] == [2] and record["rtn"] == 1, record
    assert record["status"] == "OK"
    assert [p.page for p in call.pages] == [1, 2, 3] and call.error_pages == (2,)
    rejected = call.pages[1].attempts[0]
    assert rejected.status is PageStatus.RECEIVED_BAD and rejected.bad_lines > 0
    assert tiff_bitmaps(Path(call.document_path)) == tiff_bitmaps(document)


def test_a_page_our_lenient_rule_takes_is_confirmed_though_the_modem_would_refuse_it(
        fax_lab, tmp_path):
    """Our rule decides, not the modem's: with percent_good_lines 50 a page that noise cut
    short (the modem reports +FPS:2) is taken, answered MCF (AT+FPS=1), and kept."""
    document = bar_tiff(tmp_path / "three.tif", 3)
    lenient = {"copy_quality": CopyQualityPolicy(50.0, 10_000)}
    call, record = receive(fax_lab, tmp_path, "2.0", document, modem_kw=lenient, corrupt=(2,),
                           ecm=False)

    assert record["corrupted_pages"] == [2] and record["rtn"] == 0, record
    assert record["status"] == "OK" and record["pages"] == 3
    assert [p.page for p in call.pages] == [1, 2, 3] and call.error_pages == ()
    taken = call.pages[1].attempts
    assert len(taken) == 1 and taken[0].status is PageStatus.RECEIVED_GOOD and taken[0].bad_lines > 0


@pytest.mark.parametrize("fax_class", CLASSES)
def test_ecm_send_and_receive_through_the_modem(fax_lab, tmp_path, fax_class):
    """``ecm = true`` (the Class 1 key) asks the modem for T.30 Annex A (+FCC/+FDCC EC=1): noise
    over page 1 costs frames (PPR), not the page — each way the pages arrive exact, none an
    ErrorPage, and the call record says ECM."""
    sent = pages(2)
    peer = fax_lab(fclass=fax_class, speed=SPEED, corrupt=(1,))
    modem = opened(peer, tmp_path, fax_class, ecm=True)
    try:
        call = modem.send_fax(sent, "5550199")
    finally:
        modem.close()
    record = peer.wait_call(timeout=60)

    assert record["ecm"] and record["ppr"] >= 1 and record["rtn"] == 0, record
    assert call.ecm and call.status is CallStatus.COMPLETED, call.hangup
    assert call.pages_delivered == 2 and call.error_pages == ()
    assert tiff_bitmaps(peer.received_tiff(1)) == [p.bitmap for p in sent]

    document = two_page_tiff(tmp_path / "two.tif")
    call, record = receive(fax_lab, tmp_path, fax_class, document, corrupt=(1,))

    assert record["ecm"] and record["ppr"] >= 1 and record["rtn"] == 0, record
    assert call.ecm and call.status is CallStatus.COMPLETED, call.hangup
    assert [p.page for p in call.pages] == [1, 2] and call.error_pages == ()
    assert tiff_bitmaps(Path(call.document_path)) == tiff_bitmaps(document)


@pytest.mark.parametrize("fax_class", CLASSES)
def test_a_refused_page_is_an_error_page_resent_per_policy(fax_lab, tmp_path, fax_class):
    peer = fax_lab(fclass=fax_class, speed=SPEED, corrupt=(1,), ecm=False)
    sent = pages(2)
    modem = opened(peer, tmp_path, fax_class)
    try:
        call = modem.send_fax(sent, "5550199")
    finally:
        modem.close()
    record = peer.wait_call(timeout=60)

    assert record["corrupted_pages"] == [1] and record["rtn"] >= 1, peer.log()
    assert call.status is CallStatus.COMPLETED, call.hangup
    first = call.pages[0]
    assert first.error_page and first.delivered
    assert [a.status for a in first.attempts] == [PageStatus.RETRAIN_NEGATIVE,
                                                 PageStatus.CONFIRMED]
    assert call.error_pages == (1,) and call.pages_delivered == 2
    assert record["status"] == "OK" and record["pages"] == 2  # the far end ends all-good
    assert tiff_bitmaps(peer.received_tiff(1)) == [p.bitmap for p in sent]


def test_rtn_on_the_last_page_is_left_for_the_next_call(fax_lab, tmp_path):
    """spandsp ends the call after RTN to EOP: the page is an undelivered ErrorPage, the cause
    'RTN resend refused' (the job calls back at once), pages numbered as the job does."""
    peer = fax_lab(fclass="2.0", speed=SPEED, corrupt=(2,), ecm=False)
    modem = opened(peer, tmp_path, "2.0")
    try:
        call = modem.send_fax(pages(2), "5550199", page_numbers=[4, 5])
    finally:
        modem.close()
    record = peer.wait_call(timeout=60)

    assert record["corrupted_pages"] == [2] and record["pages"] == 1, record
    assert [p.page for p in call.pages] == [4, 5]
    assert call.pages[0].delivered and not call.pages[1].delivered
    assert call.error_pages == (5,)
    assert call.hangup.code is HangupCode.RTN_REFUSED, call.hangup
    assert call.status is CallStatus.PARTIAL


def test_giveup_policy_hangs_up_on_the_refused_page(fax_lab, tmp_path):
    peer = fax_lab(fclass="2.0", speed=SPEED, corrupt=(1,), ecm=False)
    modem = opened(peer, tmp_path, "2.0", rtn_policy=RtnPolicy(RtnMethod.GIVEUP))
    try:
        call = modem.send_fax(pages(2), "5550199")
    finally:
        modem.close()

    assert call.hangup.code is HangupCode.RTN_GIVE_UP
    assert call.status is CallStatus.FAILED and call.error_pages == (1,)


@pytest.mark.parametrize("fax_class", CLASSES)
@pytest.mark.parametrize("peer_kw, code", [({"busy": True}, HangupCode.BUSY),
                                           ({"no_answer": True, "no_answer_after_ms": 6000},
                                            HangupCode.NO_ANSWER)])
def test_busy_and_no_answer(fax_lab, tmp_path, fax_class, peer_kw, code):
    peer = fax_lab(fclass=fax_class, speed=SPEED, **peer_kw)
    modem = opened(peer, tmp_path, fax_class)
    try:
        call = modem.send_fax(pages(1), "5550199")
    finally:
        modem.close()

    assert call.hangup.code is code and call.status is CallStatus.FAILED
    assert call.connected_at is None and call.duration_s == 0.0


@pytest.mark.parametrize("fax_class, label", [("2", "+FHNG:03"), ("2.0", "+FHS:03")])
def test_far_end_hangs_up_mid_page(fax_lab, tmp_path, fax_class, label):
    peer = fax_lab(fclass=fax_class, speed=SPEED, hangup_page=2)
    modem = opened(peer, tmp_path, fax_class)
    try:
        call = modem.send_fax(pages(3), "5550199")
    finally:
        modem.close()

    assert call.status is CallStatus.PARTIAL and call.pages_delivered == 1
    assert call.hangup.code is HangupCode.CARRIER_LOST, call.hangup
    assert call.hangup.modem_result == label and "loop current" in call.hangup.reason


def test_auto_picks_by_preference(fax_lab, tmp_path):
    peer = fax_lab(fclass="2.0", speed=SPEED)
    modem = opened(peer, tmp_path, "auto")  # the lab's 2.0 modem lists 0,2.0
    try:
        assert isinstance(modem, Class2FaxModem) and modem.config.fax_class == "2.0"
    finally:
        modem.close()
    class1 = fax_lab(speed=SPEED)
    modem = opened(class1, tmp_path, "auto")
    try:
        assert isinstance(modem, FaxModem)
    finally:
        modem.close()


def test_class_lists_and_choice():
    assert listed_classes(["0,1,1.0,2,2.0,8"]) == ("0", "1", "1.0", "2", "2.0", "8")
    assert listed_classes(["(0-2,2.0)"]) == ("0", "1", "2", "2.0")
    assert choose_class(("0", "1", "2", "2.0"), ("2.0", "1")) == "2.0"
    assert choose_class(("0", "2"), ("1", "2.0", "2")) == "2"
    with pytest.raises(NoFaxClass, match="offers classes 0,8, none of 1, 2.0, 2"):
        choose_class(("0", "8"), ("1", "2.0", "2"))


def test_every_hangup_code_maps_to_a_cause():
    causes = {code: hangup_code(code) for code in HANGUP_REASONS}
    assert causes[0x00] is HangupCode.NORMAL
    assert causes[0x11] is HangupCode.NO_FAX_PEER
    assert causes[0x03] is HangupCode.CARRIER_LOST
    assert causes[0x27] is HangupCode.TRAINING_FAILED
    assert causes[0x54] is HangupCode.NO_RESPONSE
    assert all(c is not HangupCode.NORMAL for code, c in causes.items() if code)
