"""gatewayd's fax driver against the lab's spandsp far end on a pty (tier 3: a real peer).

Each test checks both sides: our FaxCall and the far end's JSON call record (and the TIFF it
stored). The peer runs at 3x real time, and our T.30 timers are scaled to match.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from drivers.fax.channel import FlowControl
from drivers.fax.config import ModemConfig
from drivers.fax.modem import FaxModem
from drivers.fax.pages import CodedPage, eol_line_checker
from drivers.fax.record import CallStatus, Direction, HangupCode, PageStatus
from drivers.fax.t30 import RtnMethod, RtnPolicy

from .helpers import mh_test_page

pytestmark = pytest.mark.slow

SPEED = 3.0
STATION = "+86 10 5550100"


def modem_for(peer, tmp_path: Path, **kw) -> FaxModem:
    cfg = ModemConfig(name="lab0", port=str(peer.pty), flow_control=FlowControl.NONE,
                      lock_dir=str(tmp_path), station_id=STATION, timer_scale=1 / SPEED,
                      rings_before_answer=2, own_number="5550100", **kw)
    modem = FaxModem(cfg)
    modem.open()
    return modem


def pages(n: int) -> list[CodedPage]:
    # A4 at 7.7 lines/mm; ~5 s of image each at 14400 bit/s, so the lab's noise window lands
    # inside the page rather than in its training or after its end.
    return [CodedPage(mh_test_page(lines=2290, bar_every=4 + i)) for i in range(n)]


def tiff_pages(path: Path) -> list[tuple[int, int]]:
    with Image.open(path) as im:
        sizes = []
        for i in range(im.n_frames):
            im.seek(i)
            sizes.append(im.size)
        return sizes


def send(fax_lab, tmp_path, n, number="5550199", peer_kw=None, **modem_kw):
    peer = fax_lab(speed=SPEED, **(peer_kw or {}))
    modem = modem_for(peer, tmp_path, **modem_kw)
    try:
        call = modem.send_fax(pages(n), number, job_id="job-7", ticket_ref="T-42")
    finally:
        modem.close()
    return call, peer


@pytest.mark.parametrize("n", [1, 3])
def test_send_pages(fax_lab, tmp_path, n):
    call, peer = send(fax_lab, tmp_path, n)
    far = peer.wait_call(30)
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.hangup.code is HangupCode.NORMAL
    assert [p.attempts[0].status for p in call.pages] == [PageStatus.CONFIRMED] * n
    assert call.remote_station_id == "+1 555 0100"
    assert call.direction is Direction.OUTGOING and call.number == "5550199"
    assert call.job_id == "job-7" and call.ticket_ref == "T-42" and call.natural_key
    assert call.bit_rate == 14400 and call.duration_s > 0
    assert far["status"] == "OK" and far["pages_rx"] == n and far["bad_rows"] == 0
    assert far["remote_ident"].strip() == STATION
    assert tiff_pages(Path(far["file"])) == [(1728, 2290)] * n


LAB_RTN_XFAIL = pytest.mark.xfail(
    reason="lab faxmodem: maybe_corrupt() takes an energy blip right after its own CFR/MCF for the "
           "image carrier's start, disarms on the next silent tick, and never spoils our page "
           "(reported to the lab engineer)", strict=False)


@LAB_RTN_XFAIL
def test_rtn_on_page_2_is_flagged_and_resent(fax_lab, tmp_path):
    call, peer = send(fax_lab, tmp_path, 3, peer_kw={"corrupt": (2,)},
                      rtn_policy=RtnPolicy(RtnMethod.RETRANSMIT, 2))
    far = peer.wait_call(30)
    p2 = call.pages[1]
    assert [a.status for a in p2.attempts] == [PageStatus.RETRAIN_NEGATIVE, PageStatus.CONFIRMED]
    assert p2.error_page and p2.delivered and call.error_pages == (2,)
    assert p2.attempts[1].bit_rate < p2.attempts[0].bit_rate
    assert call.status is CallStatus.COMPLETED
    assert far["rtn"] == 1 and far["status"] == "OK" and far["corrupted_pages"] == [2]
    # the far end ends with every page good (the spoiled copy is not kept by spandsp)
    assert far["pages_rx"] >= 3


@LAB_RTN_XFAIL
def test_rtn_giveup_is_not_done(fax_lab, tmp_path):
    call, peer = send(fax_lab, tmp_path, 3, peer_kw={"corrupt": (2,)},
                      rtn_policy=RtnPolicy(RtnMethod.GIVEUP))
    peer.wait_call(30)
    assert call.hangup.code is HangupCode.RTN_GIVE_UP
    assert call.status is CallStatus.PARTIAL and call.pages_delivered == 1
    assert call.error_pages == (2,)


@pytest.mark.parametrize("flag,code,outcome", [("busy", HangupCode.BUSY, "busy"),
                                               ("no_answer", HangupCode.NO_ANSWER, "no_answer")])
def test_busy_and_no_answer(fax_lab, tmp_path, flag, code, outcome):
    call, peer = send(fax_lab, tmp_path, 1, peer_kw={flag: True, "no_answer_after_ms": 6000})
    far = peer.wait_call(30)
    assert call.hangup.code is code and call.hangup.modem_result
    assert call.status is CallStatus.FAILED and call.connected_at is None
    assert call.duration_s == 0 and call.pages_delivered == 0
    assert far["outcome"] == outcome


def two_page_tiff(path: Path) -> Path:
    images = []
    for n in range(2):
        im = Image.new("1", (1728, 1100), 1)
        ImageDraw.Draw(im).rectangle([100, 100 + n * 300, 1600, 160 + n * 300], fill=0)
        images.append(im)
    images[0].save(path, save_all=True, append_images=images[1:], compression="group3",
                   dpi=(204, 98))
    return path


def test_receive_two_pages(fax_lab, tmp_path):
    peer = fax_lab(speed=SPEED, receive=False, send=two_page_tiff(tmp_path / "two.tif"),
                   ident="+1 555 0177")
    modem = modem_for(peer, tmp_path)
    stored = {}

    def store(received, call_id):
        stored[call_id] = [p.data for p in received]
        return f"/spool/{call_id}.tif"
    try:
        call = modem.receive_fax(eol_line_checker, store=store, wait=30)
    finally:
        modem.close()
    far = peer.wait_call(30)
    assert call.direction is Direction.INCOMING
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.hangup.code is HangupCode.NORMAL
    assert call.remote_station_id == "+1 555 0177"
    assert [p.attempts[0].status for p in call.pages] == [PageStatus.RECEIVED_GOOD] * 2
    assert call.document_path == f"/spool/{call.call_id}.tif" and len(stored[call.call_id]) == 2
    assert far["status"] == "OK" and far["pages_tx"] == 2 and far["remote_ident"].strip() == STATION


def test_pty_closed_mid_call_is_a_clear_error(fax_lab, tmp_path):
    peer = fax_lab(speed=SPEED)
    modem = modem_for(peer, tmp_path)
    killer = threading.Timer(4.0, peer.stop)  # ~12 s of line time: inside page 1 or 2
    killer.start()
    t0 = time.monotonic()
    try:
        call = modem.send_fax(pages(3), "5550199")
    finally:
        killer.cancel()
        modem.close()
    assert time.monotonic() - t0 < 30
    assert call.hangup.code is HangupCode.MODEM_ERROR
    assert "port lost" in call.hangup.reason
    assert call.status is not CallStatus.COMPLETED
