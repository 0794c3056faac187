"""gatewayd's fax driver against the lab's spandsp far end on a pty (tier 3: a real peer).

Each test checks both sides: our FaxCall and the far end's JSON call record (and the TIFF it
stored). The peer runs at 3x real time, and our T.30 timers are scaled to match. Pages are coded
by our ``t4`` (through ``documents.FaxPage``) and decoded by spandsp, and the other way round.
Calls here are without ECM (our side does not offer it), so a bad page is answered RTN; ECM
calls are in ``test_ecm_lab.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from drivers.fax import documents, t4
from drivers.fax.channel import FlowControl
from drivers.fax.config import ModemConfig
from drivers.fax.documents import FaxPage
from drivers.fax.modem import FaxModem
from drivers.fax.record import CallStatus, Direction, HangupCode, PageStatus
from drivers.fax.t30 import RtnMethod, RtnPolicy

from .helpers import bar_page, two_page_tiff

pytestmark = pytest.mark.slow

SPEED = 3.0
STATION = "+86 10 5550100"


def modem_for(peer, tmp_path: Path, **kw) -> FaxModem:
    kw.setdefault("ecm", False)
    cfg = ModemConfig(name="lab0", port=str(peer.pty), flow_control=FlowControl.NONE,
                      lock_dir=str(tmp_path), station_id=STATION, timer_scale=1 / SPEED,
                      rings_before_answer=2, own_number="5550100", **kw)
    modem = FaxModem(cfg)
    modem.open()
    return modem


def pages(n: int) -> list[FaxPage]:
    # A4 at 7.7 lines/mm; 2-3 s of image each at 14400 bit/s, so the lab's noise window lands
    # inside the page rather than in its training or after its end.
    return [bar_page(2290, 4 + i) for i in range(n)]


def tiff_pages(path: Path) -> list[tuple[int, int]]:
    with Image.open(path) as im:
        sizes = []
        for i in range(im.n_frames):
            im.seek(i)
            sizes.append(im.size)
        return sizes


def tiff_bitmaps(path: Path) -> list[t4.Bitmap]:
    with Image.open(path) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(t4.Bitmap.from_image(im.convert("1")))
        return out


def send(fax_lab, tmp_path, n, number="5550199", peer_kw=None, fax_pages=None, **modem_kw):
    peer = fax_lab(speed=SPEED, **(peer_kw or {}))
    modem = modem_for(peer, tmp_path, **modem_kw)
    try:
        call = modem.send_fax(fax_pages or pages(n), number, job_id="job-7")
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
    assert call.job_id == "job-7" and call.natural_key
    assert call.bit_rate == 14400 and call.duration_s > 0
    assert far["status"] == "OK" and far["pages_rx"] == n and far["bad_rows"] == 0
    assert far["remote_ident"].strip() == STATION
    assert tiff_bitmaps(Path(far["file"])) == [p.bitmap for p in pages(n)]


def test_send_a_rendered_document(fax_lab, tmp_path):
    """A guest's picture through documents.render, coded by t4 in the negotiated coding (MR
    with spandsp), arrives pel for pel."""
    image = Image.new("L", (1728, 620), 255)
    draw = ImageDraw.Draw(image)
    for row in range(12):
        draw.text((80, 20 + 48 * row), f"line {row}: the quick brown fox 0123456789", fill=0,
                  font_size=36)
    image.save(tmp_path / "note.png")
    fax_pages = documents.render(tmp_path / "note.png")
    call, peer = send(fax_lab, tmp_path, 1, fax_pages=fax_pages)
    far = peer.wait_call(30)
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert far["status"] == "OK" and far["encoding"] == 2  # spandsp's T4_COMPRESSION_ITU_T4_2D
    assert tiff_bitmaps(Path(far["file"])) == [fax_pages[0].bitmap]


def test_rtn_on_page_2_is_flagged_and_resent(fax_lab, tmp_path):
    call, peer = send(fax_lab, tmp_path, 3, peer_kw={"corrupt": (2,)},
                      rtn_policy=RtnPolicy(RtnMethod.RETRANSMIT, 2))
    far = peer.wait_call(30)
    p2 = call.pages[1]
    assert [a.status for a in p2.attempts] == [PageStatus.RETRAIN_NEGATIVE, PageStatus.CONFIRMED]
    assert p2.error_page and p2.delivered and call.error_pages == (2,)
    assert p2.attempts[1].bit_rate < p2.attempts[0].bit_rate
    assert call.status is CallStatus.COMPLETED
    # One RTN on the line: the post-page command is not repeated (it was, when a result's CR
    # and LF came in different reads and the LF spoiled the RTN frame that followed).
    assert far["rtn"] == 1 and far["status"] == "OK" and far["corrupted_pages"] == [2]
    # the far end ends with every page good (spandsp does not keep the spoiled copy)
    assert far["pages_rx"] == 3
    assert tiff_bitmaps(Path(far["file"])) == [p.bitmap for p in pages(3)]


def test_rtn_on_the_last_page_the_far_end_refuses_the_resend(fax_lab, tmp_path):
    """spandsp answers the retrain after RTN on the last page (EOP) with DCN: recorded as its
    refusal (the job resends the page on the next call), not as a line that dropped."""
    call, peer = send(fax_lab, tmp_path, 2, peer_kw={"corrupt": (2,)},
                      rtn_policy=RtnPolicy(RtnMethod.RETRANSMIT, 2))
    far = peer.wait_call(30)
    assert far["rtn"] == 1 and far["pages_rx"] == 1 and far["corrupted_pages"] == [2]
    assert call.hangup.code is HangupCode.RTN_REFUSED, call.hangup
    assert call.hangup.reason == "page 2 answered RTN; the far end hung up instead of taking it again"
    assert [[a.status for a in p.attempts] for p in call.pages] == [
        [PageStatus.CONFIRMED], [PageStatus.RETRAIN_NEGATIVE]]
    assert call.status is CallStatus.PARTIAL and call.error_pages == (2,)


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




def test_receive_two_pages(fax_lab, tmp_path):
    sent = two_page_tiff(tmp_path / "two.tif")
    peer = fax_lab(speed=SPEED, receive=False, send=sent, ident="+1 555 0177")
    modem = modem_for(peer, tmp_path)
    try:
        call = modem.receive_fax(store_dir=tmp_path / "spool", wait=30)
    finally:
        modem.close()
    far = peer.wait_call(30)
    assert call.direction is Direction.INCOMING
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.hangup.code is HangupCode.NORMAL
    assert call.remote_station_id == "+1 555 0177"
    assert [p.attempts[0].status for p in call.pages] == [PageStatus.RECEIVED_GOOD] * 2
    assert [p.attempts[0].bad_lines for p in call.pages] == [0, 0]
    assert far["status"] == "OK" and far["pages_tx"] == 2 and far["remote_ident"].strip() == STATION
    # stored by t4 + tiff.py as TIFF Class F: the pels spandsp sent, page for page
    assert call.document_path == str(tmp_path / "spool" / f"{call.call_id}.tif")
    assert tiff_bitmaps(Path(call.document_path)) == tiff_bitmaps(sent)
    assert Path(call.document_path).with_suffix(".png").exists()


def test_receive_a_corrupted_page_answers_rtn(fax_lab, tmp_path):
    """Noise over page 1: our decoder counts its bad lines and the copy-quality policy says
    RTN; spandsp, told its page was bad, sends it again."""
    peer = fax_lab(speed=SPEED, receive=False, send=two_page_tiff(tmp_path / "two.tif"),
                   corrupt=(1,))
    modem = modem_for(peer, tmp_path)
    try:
        call = modem.receive_fax(wait=30)
    finally:
        modem.close()
    far = peer.wait_call(30)
    assert far["corrupted_pages"] == [1] and far["rtn"] == 1 and far["pages_tx"] == 2
    # Page 1 came twice (rejected, resent): one page of the fax, an ErrorPage, counted once.
    assert len(call.pages) == 2 and call.pages_delivered == 2 and call.error_pages == (1,)
    first, again = call.pages[0].attempts
    assert first.status is PageStatus.RECEIVED_BAD and first.bad_lines > 0
    assert again.status is PageStatus.RECEIVED_GOOD and again.attempt == 2
    assert call.pages[1].attempts[0].status is PageStatus.RECEIVED_GOOD


def test_far_end_hangs_up_mid_page_while_we_send(fax_lab, tmp_path):
    call, peer = send(fax_lab, tmp_path, 3, peer_kw={"hangup_page": 2})
    far = peer.wait_call(30)
    assert far["hung_up_in_page"] == 2 and far["pages_rx"] == 1
    assert call.hangup.code is HangupCode.CARRIER_LOST and call.hangup.phase == "C"
    assert call.hangup.reason == "the line dropped during page 2"
    assert call.hangup.modem_result == "NO CARRIER"
    assert [[a.status for a in p.attempts] for p in call.pages] == [
        [PageStatus.CONFIRMED], [PageStatus.INTERRUPTED], []]
    assert call.status is CallStatus.PARTIAL and call.pages_delivered == 1


def test_far_end_hangs_up_mid_page_while_we_receive(fax_lab, tmp_path):
    peer = fax_lab(speed=SPEED, receive=False, send=two_page_tiff(tmp_path / "two.tif"),
                   hangup_page=2)
    modem = modem_for(peer, tmp_path)
    try:
        call = modem.receive_fax(store_dir=tmp_path / "spool", wait=30)
    finally:
        modem.close()
    far = peer.wait_call(30)
    assert far["hung_up_in_page"] == 2
    assert call.hangup.code is HangupCode.CARRIER_LOST
    assert call.hangup.reason == "nothing from the sender after page 2"
    # page 2 is kept (and stored) as far as it came, flagged, and not counted as received
    assert [p.attempts[0].status for p in call.pages] == [PageStatus.RECEIVED_GOOD,
                                                          PageStatus.INTERRUPTED]
    assert call.pages[1].error_page and not call.pages[1].delivered
    assert call.status is CallStatus.PARTIAL
    assert len(tiff_bitmaps(Path(call.document_path))) == 2


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
