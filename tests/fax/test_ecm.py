"""ECM (T.30 Annex A): the frame/block helpers alone, then two engines back to back with frames
lost, RNR, CTC and EOR -- pages coded for real (MMR) and compared pel for pel."""

from __future__ import annotations

import functools
from dataclasses import replace


from drivers.fax import ecm, frames, hdlc, t4
from drivers.fax.documents import FaxPage
from drivers.fax.frames import FCF, Coding, Resolution, Speed
from drivers.fax.record import CallStatus, HangupCode, PageStatus, call_status
from drivers.fax.t30 import EngineConfig, Role, T30Engine

from .helpers import BackToBack, text_bitmap

# ---------------------------------------------------------------- the helpers alone


def test_blocks_cut_a_page_into_256_frames_at_most_and_pad_the_last():
    data = bytes(range(256)) * 300  # 76,800 octets: 300 frames of 256
    out = ecm.blocks(data, page=4)
    assert [b.count for b in out] == [256, 44] and [b.last for b in out] == [False, True]
    assert [b.number for b in out] == [0, 1] and out[0].page == 4
    assert b"".join(f for b in out for f in b.frames) == data
    small = ecm.blocks(b"\x01" * 100, page=0, frame_size=64)
    assert small[0].frames == (b"\x01" * 64, b"\x01" * 36 + bytes(28))


def test_pps_and_ppr_fields():
    pps = ecm.PartialPageSignal(int(FCF.MPS) | frames.X_BIT, page=3, block=1, frames=256)
    assert pps.encode() == bytes((0x4F, 3, 1, 255))
    assert ecm.PartialPageSignal.decode(pps.encode()) == pps and pps.command is FCF.MPS
    assert ecm.PartialPageSignal(ecm.NULL_PPM, 0, 0, 1).command is None
    # PPR: bit j of octet i is frame 8i + j (spandsp builds and reads it so)
    fif = ecm.ppr_map([0, 9, 255])
    assert fif[0] == 0x01 and fif[1] == 0x02 and fif[31] == 0x80 and len(fif) == 32
    assert ecm.ppr_frames(fif) == {0, 9, 255}


def test_a_block_survives_the_hdlc_round_trip_and_bad_frames_are_missing():
    block = ecm.blocks(bytes(range(256)) * 5, page=0)[0]
    image = ecm.encode_block(block, range(block.count), 14400)
    collector = ecm.BlockCollector()
    collector.feed(image)
    assert collector.rcp_seen and collector.missing(5) == []
    assert collector.data(5) == bytes(range(256)) * 5
    collector = ecm.BlockCollector()
    collector.feed(lose_frames(image, {1, 3}))
    assert collector.missing(5) == [1, 3]
    collector.feed(ecm.encode_block(block, [1, 3], 14400))  # the resent frames complete it
    assert collector.missing(5) == [] and collector.data(5) == bytes(range(256)) * 5


def lose_frames(image: bytes, numbers: set[int]) -> bytes:
    """The same burst with the FCD frames ``numbers`` gone (as if their FCS failed)."""
    kept = [f.data for f in hdlc.HdlcDecoder().feed(image)
            if not (f.data[2] == FCF.FCD and f.data[3] in numbers)]
    return hdlc.encode_frames(kept, preamble_flags=8)


# ---------------------------------------------------------------- back to back


@functools.cache
def page(n: int, rows: int = 300) -> FaxPage:
    return FaxPage(text_bitmap(rows, seed=n), Resolution.FINE)


def ecm_config(**kw) -> EngineConfig:
    return EngineConfig(**{"station_id": "ECM", "ecm": True, **kw})


def call(n_pages=1, manipulator=None, sender=None, receiver=None, rows=300):
    s = T30Engine(Role.SENDER, sender or ecm_config(), number="5550199",
                  pages=[page(i + 1, rows) for i in range(n_pages)])
    r = T30Engine(Role.RECEIVER, receiver or ecm_config())
    link = BackToBack(s, r, manipulator)
    link.run()
    return s.outcome, r.outcome, link


def bitmaps(outcome) -> list[t4.Bitmap]:
    return [t4.decode(p.data, p.session.coding).bitmap for p in outcome.received]


def fcd_numbers(t) -> list[int]:
    return [f.data[3] for f in hdlc.HdlcDecoder().feed(t.image) if f.data[2] == FCF.FCD]


def blocks_sent(link) -> list:
    return [t for t in link.line if t.side == 0 and t.image is not None and fcd_numbers(t)]


def test_ecm_pages_go_in_mmr_and_arrive_whole():
    s, r, link = call(3)
    assert s.hangup.code is HangupCode.NORMAL and r.hangup.code is HangupCode.NORMAL, link.log
    assert s.session.ecm and s.session.coding is Coding.MMR and r.session == s.session
    assert bitmaps(r) == [page(i).bitmap for i in (1, 2, 3)]
    assert [[a.status for a in p.attempts] for p in s.pages] == [[PageStatus.CONFIRMED]] * 3
    assert all(a.ecm for p in s.pages for a in p.attempts)
    assert [p.attempts[-1].status for p in r.pages] == [PageStatus.RECEIVED_GOOD] * 3
    assert [t.label for t in link.line if t.side == 0 and t.label == "PPS"] == ["PPS"] * 3
    assert call_status(s.pages, 3) is CallStatus.COMPLETED


def test_no_ecm_when_the_far_end_does_not_offer_it():
    s, r, _ = call(1, receiver=EngineConfig(station_id="OLD"))
    assert not s.session.ecm and s.session.coding is Coding.MR
    assert bitmaps(r) == [page(1).bitmap]


def losing(numbers: set[int], times: int = 1, page_block: int = 2):
    """Lose ``numbers`` from the ``page_block``-th block transmission and the next
    ``times - 1`` transmissions of it (the resends)."""
    seen = []

    def manipulate(t, count):
        if t.side == 0 and t.image is not None and fcd_numbers(t):
            seen.append(t)
            if page_block <= len(seen) < page_block + times:
                return replace(t, image=lose_frames(t.image, numbers))
        return t
    return manipulate


def test_lost_frames_are_asked_for_with_ppr_and_only_they_are_resent():
    s, r, link = call(3, manipulator=losing({1, 3}))
    assert s.hangup.code is HangupCode.NORMAL, link.log
    p2 = s.pages[1]
    assert [a.status for a in p2.attempts] == [PageStatus.PARTIAL_PAGE_REQUEST,
                                               PageStatus.CONFIRMED]
    assert p2.error_page and p2.delivered and s.pages[0].attempts[0].status is PageStatus.CONFIRMED
    assert fcd_numbers(blocks_sent(link)[2]) == [1, 3]  # the resend: just the two frames
    assert bitmaps(r) == [page(i).bitmap for i in (1, 2, 3)]
    assert [a.status for a in r.pages[1].attempts] == [PageStatus.PARTIAL_PAGE_REQUEST,
                                                       PageStatus.RECEIVED_GOOD]
    assert not r.pages[1].error_page  # the receiver's copy is exact
    assert call_status(s.pages, 3) is CallStatus.COMPLETED


def test_64_octet_frames_and_pages_of_several_blocks():
    cfg = ecm_config(ecm_frame_size=64)
    s, r, link = call(2, sender=cfg, rows=1400, manipulator=losing({0, 255}, page_block=2))
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert s.session.ecm_frame_size == 64 and r.session.ecm_frame_size == 64
    assert len(page(1, 1400).encode(s.session)) > 256 * 64  # more than one block a page
    assert bitmaps(r) == [page(1, 1400).bitmap, page(2, 1400).bitmap]
    assert [a.status for a in s.pages[0].attempts] == [PageStatus.PARTIAL_PAGE_REQUEST,
                                                       PageStatus.CONFIRMED]


def test_four_pprs_then_ctc_goes_on_one_speed_lower():
    s, r, link = call(1, manipulator=losing({2}, times=4, page_block=1))
    assert s.hangup.code is HangupCode.NORMAL, link.log
    statuses = [a.status for a in s.pages[0].attempts]
    assert statuses == [PageStatus.PARTIAL_PAGE_REQUEST] * 4 + [PageStatus.CONFIRMED]
    assert s.pages[0].attempts[-1].bit_rate == 12000 and r.session.speed is Speed.V17_12000
    assert any(t.label == "CTC" for t in link.line) and any(t.label == "CTR" for t in link.line)
    assert bitmaps(r) == [page(1).bitmap]


def test_four_pprs_at_the_lowest_speed_give_the_block_up_with_eor():
    slow = ecm_config(families=frozenset({"V.27ter"}), max_speed=Speed.V27_2400)
    s, r, link = call(1, sender=slow, manipulator=losing({2}, times=10, page_block=1))
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert any(t.label == "EOR" for t in link.line) and any(t.label == "ERR" for t in link.line)
    p = s.pages[0]
    assert [a.status for a in p.attempts] == [PageStatus.PARTIAL_PAGE_REQUEST] * 4
    assert p.delivered and p.error_page
    # the receiver kept what came, one frame short: decoded, it is a bad page
    assert r.pages[0].error_page and r.pages[0].attempts[-1].status is PageStatus.RECEIVED_BAD


def replace_frame(side: int, old: FCF, new: frames.Frame, times: int = 1):
    done = []

    def manipulate(t, count):
        if t.side == side and t.label == old.name and len(done) < times:
            done.append(t)
            raw = frames.encode(new, x_bit=False)
            return replace(t, frames=(raw + frames.fcs(raw),), label=new.fcf.name)
        return t
    return manipulate


def test_rnr_is_answered_with_rr_until_the_receiver_is_ready():
    s, r, link = call(2, manipulator=replace_frame(1, FCF.MCF, frames.Frame(FCF.RNR), times=2))
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert sum(t.label == "RR" for t in link.line) == 2
    assert bitmaps(r) == [page(1).bitmap, page(2).bitmap]
    assert [a.status for a in s.pages[0].attempts] == [PageStatus.CONFIRMED]


def test_a_lost_mcf_to_pps_is_repeated_not_taken_for_a_new_block():
    lose = []

    def lose_first_mcf(t, count):
        if t.side == 1 and t.label == "MCF" and not lose:
            lose.append(t)
            return None
        return t
    s, r, link = call(2, manipulator=lose_first_mcf)
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert bitmaps(r) == [page(1).bitmap, page(2).bitmap]
    assert len(r.received) == 2


def test_a_pps_counting_only_the_resent_frames_does_not_shorten_the_block():
    """spandsp 0.0.6 says, after a PPR, how many frames it resent, not how many the block has."""
    pps_seen = []
    lose = losing({1, 3})

    def burst_count(t, count):
        if t.side == 0 and t.label == "PPS":
            pps_seen.append(t)
            if len(pps_seen) == 3:  # page 2's PPS after the resend of frames 1 and 3
                frame = frames.decode(t.frames[0])
                fif = frame.fif[:3] + bytes((1,))  # "2 frames"
                raw = frames.encode(replace(frame, fif=fif), x_bit=True)
                return replace(t, frames=(raw + frames.fcs(raw),))
        return lose(t, count)
    s, r, link = call(3, manipulator=burst_count)
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert bitmaps(r) == [page(i).bitmap for i in (1, 2, 3)]
