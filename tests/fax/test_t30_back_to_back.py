"""Two T.30 engines back to back over a simulated line, with faults injected on the line.

Pages are real: coded by ``t4`` through ``documents.FaxPage`` in the session DCS fixed, and
judged by the receiver's default checker (``t4.check_page`` + ``CopyQualityPolicy``).
"""

import functools
from dataclasses import replace

import pytest

from drivers.fax import frames, t4
from drivers.fax.documents import FaxPage
from drivers.fax.frames import FCF, Coding, Frame, Resolution, Speed
from drivers.fax.record import CallStatus, HangupCode, PageStatus, call_status
from drivers.fax.t30 import EngineConfig, Role, RtnMethod, RtnPolicy, T30Engine

from .helpers import BackToBack, text_bitmap


@functools.cache
def page(n: int) -> FaxPage:
    return FaxPage(text_bitmap(200, seed=n), Resolution.FINE)


def received_bitmap(received) -> t4.Bitmap:
    return t4.decode(received.data, received.session.coding).bitmap


def spoil(data: bytes) -> bytes:
    """Line noise over the middle third of the page: scattered bit errors, each spoiling the
    line it lands in (one solid burst would instead merge lines and hide how many were lost)."""
    out = bytearray(data)
    for i in range(len(out) // 3, 2 * len(out) // 3, 29):
        out[i] ^= 0x24
    return bytes(out)


def call(n_pages=1, policy=RtnPolicy(), manipulator=None, sender_cfg=None, receiver_cfg=None, **kw):
    sender = T30Engine(Role.SENDER, sender_cfg or EngineConfig(station_id="+86 10 5550100",
                                                               rtn_policy=policy),
                       pages=[page(i + 1) for i in range(n_pages)], number="5550199")
    receiver = T30Engine(Role.RECEIVER, receiver_cfg or EngineConfig(station_id="LAB"))
    link = BackToBack(sender, receiver, manipulator, **kw)
    link.run()
    return sender.outcome, receiver.outcome, link


def images(side):
    """Manipulator helper: applies ``fn`` to the side's n-th transmission that is a page image."""
    def wrap(fn):
        seen = []

        def manipulate(t, count):
            if t.side == side and t.image is not None and len(t.image) != t.speed.bit_rate * 1.5 / 8:
                seen.append(t)
                return fn(t, len(seen))
            return t
        return manipulate
    return wrap


def test_one_page():
    s, r, link = call(1)
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert [p.delivered for p in s.pages] == [True]
    assert s.pages[0].attempts[0].status is PageStatus.CONFIRMED
    assert s.pages[0].attempts[0].bit_rate == 14400
    assert s.remote_station_id == "LAB" and r.remote_station_id == "+86 10 5550100"
    assert r.hangup.code is HangupCode.NORMAL and len(r.received) == 1
    assert s.session.coding is Coding.MR  # both ends offer 2-D coding
    assert received_bitmap(r.received[0]) == page(1).bitmap
    assert r.pages[0].attempts[0].good_lines == 200 and r.pages[0].attempts[0].bad_lines == 0


def test_three_pages_one_training():
    s, r, link = call(3)
    assert [p.delivered for p in s.pages] == [True] * 3
    assert [received_bitmap(p) for p in r.received] == [page(i).bitmap for i in (1, 2, 3)]
    assert sum("TSI+DCS" in t.label for t in link.line) == 1
    assert call_status(s.pages, 3) is CallStatus.COMPLETED


def corrupt_page_2_once(t, n):
    return replace(t, image=spoil(t.image)) if n == 2 else t


def test_rtn_on_page_2_is_an_error_page_resent_slower():
    s, r, link = call(3, manipulator=images(0)(corrupt_page_2_once))
    p2 = s.pages[1]
    assert p2.error_page and p2.delivered
    assert [a.status for a in p2.attempts] == [PageStatus.RETRAIN_NEGATIVE, PageStatus.CONFIRMED]
    assert p2.attempts[1].bit_rate < p2.attempts[0].bit_rate
    assert not s.pages[0].error_page and not s.pages[2].error_page
    assert s.hangup.code is HangupCode.NORMAL
    # The receiver counts page 2 once, as an ErrorPage with both transmissions, and keeps
    # its good copy in place of the one it rejected.
    assert [[a.status for a in p.attempts] for p in r.pages] == [
        [PageStatus.RECEIVED_GOOD], [PageStatus.RECEIVED_BAD, PageStatus.RECEIVED_GOOD],
        [PageStatus.RECEIVED_GOOD]]
    assert [p.error_page for p in r.pages] == [False, True, False]
    assert [p.delivered for p in r.pages] == [True] * 3
    assert [received_bitmap(p) for p in r.received] == [page(i).bitmap for i in (1, 2, 3)]


def test_rtn_on_the_last_page_refused_by_dcn_is_recorded_as_such():
    """spandsp as receiver answers the retrain after RTN on the last page (EOP) with DCN; the
    page is not delivered and the call says why (not "carrier lost"), for the job to resend it."""
    spoil_2 = images(0)(corrupt_page_2_once)
    dcn = frames.encode(Frame(FCF.DCN), False)

    said_rtn = []

    def refuse_retrain(t, n):
        said_rtn.extend([t] if t.side == 1 and t.label == "RTN" else [])
        if t.side == 1 and t.label == "CFR" and said_rtn:
            return replace(t, frames=(dcn + frames.fcs(dcn),), label="DCN")
        return spoil_2(t, n)

    sender = T30Engine(Role.SENDER, EngineConfig(station_id="+86 10 5550100"),
                       pages=[page(1), page(2)], number="5550199", page_numbers=[3, 4])
    link = BackToBack(sender, T30Engine(Role.RECEIVER, EngineConfig(station_id="LAB")), refuse_retrain)
    link.run()
    s = sender.outcome
    assert s.hangup.code is HangupCode.RTN_REFUSED, link.log
    # Pages named as the job numbers them (this call sent the job's pages 3 and 4).
    assert s.hangup.reason == "page 4 answered RTN; the far end hung up instead of taking it again"
    assert [(p.page, [a.status for a in p.attempts], p.delivered) for p in s.pages] == [
        (3, [PageStatus.CONFIRMED], True), (4, [PageStatus.RETRAIN_NEGATIVE], False)]
    assert call_status(s.pages, 2) is CallStatus.PARTIAL


def test_rtn_giveup():
    s, r, _ = call(3, policy=RtnPolicy(RtnMethod.GIVEUP), manipulator=images(0)(corrupt_page_2_once))
    assert s.hangup.code is HangupCode.RTN_GIVE_UP
    assert [p.delivered for p in s.pages] == [True, False, False]
    assert s.pages[1].error_page
    assert call_status(s.pages, 3) is CallStatus.PARTIAL


def test_rtn_ignore_goes_on():
    s, r, _ = call(3, policy=RtnPolicy(RtnMethod.IGNORE), manipulator=images(0)(corrupt_page_2_once))
    assert [p.delivered for p in s.pages] == [True, True, True]
    assert [p.error_page for p in s.pages] == [False, True, False]
    assert len(s.pages[1].attempts) == 1
    assert s.hangup.code is HangupCode.NORMAL
    # The sender went on to page 3 after our RTN: the receiver does not take it for page 2 again.
    assert [[a.status for a in p.attempts] for p in r.pages] == [
        [PageStatus.RECEIVED_GOOD], [PageStatus.RECEIVED_BAD], [PageStatus.RECEIVED_GOOD]]
    assert received_bitmap(r.received[2]) == page(3).bitmap


def test_retransmit_gives_up_after_k():
    always_bad = images(0)(lambda t, n: replace(t, image=spoil(t.image)) if n >= 2 else t)
    s, r, _ = call(2, policy=RtnPolicy(RtnMethod.RETRANSMIT, max_retransmits=2), manipulator=always_bad)
    assert [a.status for a in s.pages[1].attempts] == [PageStatus.RETRAIN_NEGATIVE] * 3
    assert s.hangup.code is HangupCode.RTN_GIVE_UP
    assert not s.pages[1].delivered


def test_lost_dcs_is_repeated():
    lose_first_dcs = lambda t, n: None if t.side == 0 and "DCS" in t.label and n < 2 else t
    s, r, link = call(1, manipulator=lose_first_dcs)
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert sum("DCS" in t.label for t in link.line) == 2


def test_lost_mcf_the_receiver_repeats_it_without_a_duplicate_page():
    state = {"n": 0}

    def lose_first_mcf(t, n):
        if t.side == 1 and t.label == "MCF":
            state["n"] += 1
            if state["n"] == 1:
                return None
        return t
    s, r, link = call(2, manipulator=lose_first_mcf)
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert len(r.received) == 2
    assert [len(p.attempts) for p in s.pages] == [1, 1]


def test_garbled_cfr_makes_the_sender_repeat_dcs():
    def garble(t, n):
        if t.side == 1 and t.label == "CFR" and n < 3:
            return replace(t, frames=(b"\xff\x13\x84\x00\x00",))  # bad FCS
        return t
    s, r, link = call(1, manipulator=garble)
    assert s.hangup.code is HangupCode.NORMAL, link.log


def test_bad_training_falls_back_a_speed():
    def noisy_tcf(t, n):
        if t.side == 0 and t.image is not None and t.speed is Speed.V17_14400:
            return replace(t, image=bytes([0x55]) * len(t.image))
        return t
    s, r, link = call(1, manipulator=noisy_tcf)
    assert s.hangup.code is HangupCode.NORMAL, link.log
    assert s.pages[0].attempts[0].bit_rate == 12000
    assert s.session.speed is Speed.V17_12000


def test_no_common_modem_below_v27_fails_training_cleanly():
    def always_noise(t, n):
        if t.side == 0 and t.image is not None:
            return replace(t, image=bytes([0x55]) * len(t.image))
        return t
    s, r, link = call(1, manipulator=always_noise)
    assert s.hangup.code is HangupCode.TRAINING_FAILED
    assert s.pages[0].attempts == () and not s.pages[0].delivered
    assert call_status(s.pages, 1) is CallStatus.FAILED


@pytest.mark.parametrize("flag,code", [("busy", HangupCode.BUSY), ("no_answer", HangupCode.NO_ANSWER)])
def test_busy_and_no_answer(flag, code):
    s, r, link = call(1, **{flag: True})
    assert s.hangup.code is code
    assert s.connected_at is None
    assert call_status(s.pages, 1) is CallStatus.FAILED


def test_receiver_goes_silent_after_page_1():
    mute = lambda t, n: None if t.side == 1 and n >= 3 else t
    s, r, link = call(2, manipulator=mute)
    assert s.hangup.code is HangupCode.NO_RESPONSE, link.log
    assert [p.delivered for p in s.pages] == [True, False]
    assert s.pages[1].attempts[-1].status is PageStatus.NO_RESPONSE


def test_sender_never_answers_dis_t1_expires():
    mute = lambda t, n: None if t.side == 0 else t
    s, r, link = call(1, manipulator=mute)
    assert r.hangup.code is HangupCode.NO_FAX_PEER
    assert s.hangup.code is HangupCode.TRAINING_FAILED  # its DCS was sent 3 times, unanswered


def test_fine_resolution_and_v29_only_peer():
    cfg = EngineConfig(station_id="OLD", families=frozenset({"V.29", "V.27ter"}), fine=False)
    s, r, link = call(1, receiver_cfg=cfg)
    assert s.session.speed is Speed.V29_9600
    assert s.session.resolution.name == "STANDARD"
    assert r.session == s.session
