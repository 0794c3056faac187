"""ECM against the lab's spandsp far end (tier 3): our HDLC-framed blocks over +FTM/+FRM.

spandsp 0.0.6 offers ECM and T.6, so these calls go in MMR, 256-octet frames. The far end's
noise window (``corrupt``) spoils frames of a page's first transmission: PPR, the frames are
resent, and the far end ends with every page exactly as sent.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from drivers.fax.documents import FaxPage, save_pages
from drivers.fax.frames import Resolution
from drivers.fax.record import CallStatus, HangupCode, PageStatus

from .helpers import text_bitmap
from .test_send_lab import SPEED, STATION, modem_for, tiff_bitmaps

pytestmark = pytest.mark.slow


@functools.cache
def text_pages(n: int) -> tuple[FaxPage, ...]:
    # ~19 KB of MMR a page: one block of ~75 frames, ~10 s of line time at 14400 bit/s, so a
    # 1.5 s noise window 0.5 s into the carrier spoils some of its frames, not all.
    return tuple(FaxPage(text_bitmap(800, seed=i + 1), Resolution.FINE) for i in range(n))


NOISE = {"corrupt_ms": 1500}


def send(fax_lab, tmp_path, n, **peer_kw):
    peer = fax_lab(speed=SPEED, **peer_kw)
    modem = modem_for(peer, tmp_path, ecm=True)
    try:
        call = modem.send_fax(list(text_pages(n)), "5550199")
    finally:
        modem.close()
    return call, peer.wait_call(30)


@pytest.mark.parametrize("n", [1, 3])
def test_send_pages_with_ecm(fax_lab, tmp_path, n):
    call, far = send(fax_lab, tmp_path, n)
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.ecm and call.bit_rate == 14400
    assert [[a.status for a in p.attempts] for p in call.pages] == [[PageStatus.CONFIRMED]] * n
    assert far["status"] == "OK" and far["ecm"] and far["encoding"] == 3  # T.6 (MMR)
    assert far["pages_rx"] == n and far["ppr"] == 0
    assert far["remote_ident"].strip() == STATION
    assert tiff_bitmaps(Path(far["file"])) == [p.bitmap for p in text_pages(n)]


def test_ppr_on_page_2_resends_frames_and_the_far_end_has_every_page(fax_lab, tmp_path):
    call, far = send(fax_lab, tmp_path, 3, corrupt=(2,), **NOISE)
    assert far["corrupted_pages"] == [2] and far["ppr"] >= 1
    p2 = call.pages[1]
    statuses = [a.status for a in p2.attempts]
    assert statuses == [PageStatus.PARTIAL_PAGE_REQUEST] * far["ppr"] + [PageStatus.CONFIRMED]
    assert p2.error_page and p2.delivered and call.error_pages == (2,)
    assert call.status is CallStatus.COMPLETED and call.hangup.code is HangupCode.NORMAL
    assert far["status"] == "OK" and far["pages_rx"] == 3 and far["rtn"] == 0
    assert tiff_bitmaps(Path(far["file"])) == [p.bitmap for p in text_pages(3)]


def test_receive_with_ecm_asks_for_spoiled_frames_again(fax_lab, tmp_path):
    sent = save_pages(tmp_path / "text.tif", text_pages(2))
    peer = fax_lab(speed=SPEED, receive=False, send=sent, corrupt=(1,), ident="+1 555 0177",
                   **NOISE)
    modem = modem_for(peer, tmp_path, ecm=True)
    try:
        call = modem.receive_fax(store_dir=tmp_path / "spool", wait=30)
    finally:
        modem.close()
    far = peer.wait_call(30)
    assert far["status"] == "OK" and far["ecm"] and far["corrupted_pages"] == [1]
    assert far["ppr"] >= 1  # the far end counts the PPRs it heard from us
    assert call.status is CallStatus.COMPLETED, call.hangup
    assert call.ecm and call.remote_station_id == "+1 555 0177"
    first = [a.status for a in call.pages[0].attempts]
    assert first == [PageStatus.PARTIAL_PAGE_REQUEST] * far["ppr"] + [PageStatus.RECEIVED_GOOD]
    assert [p.error_page for p in call.pages] == [False, False]  # our copy is exact
    assert tiff_bitmaps(Path(call.document_path)) == [p.bitmap for p in text_pages(2)]
