"""ECM (T.30 Annex A) steps of both roles: blocks of numbered frames, PPS and its answers
(MCF, PPR, RNR), RR, CTC/CTR (go on one speed lower) and EOR/ERR (give the block up)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from . import ecm, frames
from .class1 import Command, ImageReceived, ModemEvent, ReceiveImage, SendImage
from .frames import FCF, Frame, FrameError, Session
from .record import HangupCode, PageStatus
from .t30_model import State, Signal, _FRAME_SIGNALS, _Unjudged
from .t30_steps import Steps


class EcmSenderSteps(Steps):
    """ECM, sending: blocks, PPS, and what PPR/RNR/CTC/EOR lead to."""

    # ------------------------------------------------------------------ sender: ECM

    def _send_block(self, numbers: Iterable[int]) -> Command:
        assert self.session is not None
        self.state = State.S_SEND_BLOCK
        self._tries = 0
        data = ecm.encode_block(self._blocks[self._block], numbers, self.session.speed.bit_rate)
        short = not self._long_train
        self._long_train = False
        return SendImage(self.session.speed, data, short_train=short)

    def _pps(self) -> Frame:
        block = self._blocks[self._block]
        ppm = (int(self._ppm()) | (frames.X_BIT if self._x_bit else 0)) if block.last \
            else ecm.NULL_PPM
        return Frame(FCF.PPS, ecm.PartialPageSignal(ppm, block.page, block.number,
                                                    block.count).encode())

    def _send_pps(self, event: ModemEvent, now: float) -> Command:
        return self._send(State.S_SEND_PPS, self._pps())

    def _await_pps_answer(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.S_WAIT_PPS_ANSWER, self.timers.t4)

    def _repeat_pps(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            self._attempt(PageStatus.NO_RESPONSE)
            return self._end(HangupCode.NO_RESPONSE,
                             f"no answer to PPS after page {self._number()} block "
                             f"{self._block + 1}, 3 tries", now)
        return self._send(State.S_SEND_PPS, self._pps())

    def _on_block_confirmed(self, event: ModemEvent, now: float) -> Command:
        """MCF (or ERR after EOR): the block is the receiver's; on to the next, or page done."""
        self._pprs = 0
        self._rnr_since = None
        if not self._blocks[self._block].last:
            self._block += 1
            return self._send_block(range(self._blocks[self._block].count))
        if self._signal is Signal.MCF:
            self._attempt(PageStatus.CONFIRMED)
        self._log[self._page].delivered = True
        self._retrain = False
        return self._next_page(now)

    def _on_ppr(self, event: ModemEvent, now: float) -> Command:
        """Frames were lost: resend them, or after the fourth PPR go slower (CTC) or give the
        block up (EOR) -- T.30 Annex A; spandsp's PPR_LIMIT_BEFORE_CTC_OR_EOR is 4 too."""
        assert self._frame is not None and self.session is not None
        self._attempt(PageStatus.PARTIAL_PAGE_REQUEST)
        self._rnr_since = None
        block = self._blocks[self._block]
        try:
            wanted = sorted(n for n in ecm.ppr_frames(self._frame.fif) if n < block.count)
        except ecm.EcmError:
            wanted = list(range(block.count))  # an unreadable map: resend everything
        if not wanted:
            wanted = list(range(block.count))
        self._pprs += 1
        self._resend = wanted
        if self._pprs < ecm.PPR_LIMIT:
            return self._send_block(wanted)
        self._pprs = 0
        self._tries = 0
        if self._fall_back():
            return self._send(State.S_SEND_CTC, self._ctc())
        return self._send(State.S_SEND_EOR, self._eor())

    def _ctc(self) -> Frame:
        assert self.session is not None
        # CTC's FIF: DCS's first two octets, naming the new data rate (as spandsp sends it).
        return Frame(FCF.CTC, self.session.encode()[:2])

    def _eor(self) -> Frame:
        block = self._blocks[self._block]
        ppm = (int(self._ppm()) | (frames.X_BIT if self._x_bit else 0)) if block.last \
            else ecm.NULL_PPM
        return Frame(FCF.EOR, bytes((ppm,)))

    def _await_ctr(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.S_WAIT_CTR, self.timers.t4)

    def _repeat_ctc(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            return self._end(HangupCode.NO_RESPONSE, "no CTR after CTC sent 3 times", now)
        return self._send(State.S_SEND_CTC, self._ctc())

    def _on_ctr(self, event: ModemEvent, now: float) -> Command:
        self._long_train = True  # a new data rate: the receiver's modem trains afresh
        return self._send_block(self._resend)

    def _await_err(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.S_WAIT_ERR, self.timers.t4)

    def _repeat_eor(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            return self._end(HangupCode.NO_RESPONSE, "no ERR after EOR sent 3 times", now)
        return self._send(State.S_SEND_EOR, self._eor())

    def _on_rnr(self, event: ModemEvent, now: float) -> Command:
        """Receiver not ready: ask again with RR until it is, for at most T5 (T.30 5.4.3)."""
        if self._rnr_since is None:
            self._rnr_since = now
        elif now - self._rnr_since >= self.timers.t5:
            return self._end(HangupCode.NO_RESPONSE,
                             f"receiver not ready for {self.timers.t5:.0f} s (T5)", now)
        self._tries = 0
        return self._send(State.S_SEND_RR, Frame(FCF.RR))

    def _await_rr_answer(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.S_WAIT_RR_ANSWER, self.timers.t4)

    def _repeat_rr(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            return self._end(HangupCode.NO_RESPONSE, "no answer to RR sent 3 times", now)
        return self._send(State.S_SEND_RR, Frame(FCF.RR))


class EcmReceiverSteps(Steps):
    """ECM, receiving: frames collected per block, PPS answered MCF or PPR."""

    # ------------------------------------------------------------------ receiver: ECM

    def _await_block(self, event: ModemEvent, now: float) -> Command:
        assert self.session is not None
        self.state = State.R_WAIT_BLOCK
        short = not self._long_train
        self._long_train = False
        return ReceiveImage(self.session.speed, self.timers.t2, short_train=short)

    def _on_block(self, event: ImageReceived, now: float) -> Command:
        self._collector.feed(event.data)
        self._tries = 0
        return self._listen(State.R_WAIT_PPS, self.timers.t2)

    def _await_ecm_command(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.R_WAIT_PPS, self.timers.t2)

    def _await_ecm_command_again(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            return self._end(HangupCode.CARRIER_LOST,
                             f"no PPS from the sender in page {len(self._received) + 1}", now)
        return self._listen(State.R_WAIT_PPS, self.timers.t2)

    def _send_ecm_response(self, frame: Frame) -> Command:
        self._last_ecm_response = frame
        return self._send(State.R_SEND_ECM_RESPONSE, frame)

    def _on_pps(self, event: ModemEvent, now: float) -> Command:
        assert self._frame is not None and self.session is not None
        try:
            pps = ecm.PartialPageSignal.decode(self._frame.fif)
            command = pps.command
        except ecm.EcmError:
            return self._await_ecm_command_again(event, now)
        if (pps.page, pps.block) == self._answered_pps:
            # Our MCF was not heard and the sender asks again: the block is already ours.
            return self._repeat_ecm_response(event, now)
        # T.30 leaves the count ambiguous: the block's frames, or this burst's. spandsp 0.0.6
        # sends the burst's after a PPR (measured: a resend of 9 frames said 9), so the block
        # is as long as the most any PPS or frame of it said.
        count = max(pps.frames, self._collector.count)
        self._collector.count = count
        self._last_pps = pps
        missing = self._collector.missing(count)
        if missing:
            self._ecm_pprs += 1
            return self._send_ecm_response(Frame(FCF.PPR, ecm.ppr_map(missing)))
        self._take_block(count, (pps.page, pps.block), command)
        return self._send_ecm_response(Frame(FCF.MCF))

    def _take_block(self, count: int, key: tuple[int, int], command: FCF | None) -> None:
        assert self.session is not None
        self._ecm_page += self._collector.data(count)
        self._collector = ecm.BlockCollector()
        self._answered_pps = key
        self._last_ppm = None if command is None else _FRAME_SIGNALS[command]
        if command is not None:
            # The page is whole; it is decoded and judged when the call is over, as its
            # answer (MCF) does not depend on it and decoding must not delay the next +FRM.
            self._unjudged.append(_Unjudged(bytes(self._ecm_page), self.session, complete=True,
                                            pprs=self._ecm_pprs))
            self._ecm_page.clear()
            self._ecm_pprs = 0

    def _on_eor(self, event: ModemEvent, now: float) -> Command:
        """The sender gives the block up after four PPRs: keep what came, answer ERR."""
        assert self._frame is not None
        ppm = self._frame.fif[0] if self._frame.fif else ecm.NULL_PPM
        try:
            command = ecm.PartialPageSignal(ppm, 0, 0, 1).command
        except ecm.EcmError:
            command = None
        last = self._last_pps
        count = max(self._collector.count, max(self._collector.frames, default=-1) + 1)
        key = (last.page, last.block) if last else (-1, -1)
        if key != self._answered_pps:
            self._take_block(count, key, command)
        return self._send_ecm_response(Frame(FCF.ERR))

    def _on_ctc(self, event: ModemEvent, now: float) -> Command:
        """Continue to correct at the data rate CTC names: CTR, then the frames
        come with long training at the new rate."""
        assert self._frame is not None and self.session is not None
        try:
            speed = Session.decode(self._frame.fif[:2] + self.session.encode()[2:]).speed
        except FrameError:
            return self._await_ecm_command_again(event, now)
        self.session = dataclasses.replace(self.session, speed=speed)
        self._long_train = True
        return self._send_ecm_response(Frame(FCF.CTR))

    def _repeat_ecm_response(self, event: ModemEvent, now: float) -> Command:
        """RR, or a repeated PPS/EOR: say again what we said last."""
        if self._last_ecm_response is None:
            return self._listen(State.R_WAIT_PPS, self.timers.t2)
        return self._send_ecm_response(self._last_ecm_response)

    def _after_ecm_response(self, event: ModemEvent, now: float) -> Command:
        assert self._last_ecm_response is not None
        if self._last_ecm_response.fcf in (FCF.PPR, FCF.CTR):
            return self._await_block(event, now)  # the frames asked for come next
        if self._last_ppm is None or self._last_ppm is Signal.MPS:
            return self._await_block(event, now)  # the next block, or the next page
        if self._last_ppm is Signal.EOM:
            return self._repeat_dis(event, now)
        return self._listen(State.R_WAIT_DCN, self.timers.t4)
