"""The receiver's steps without ECM: answer with DIS, DCS and training (CFR/FTT), each page
judged for copy quality when its post-page command comes, MCF or RTN."""

from __future__ import annotations


from . import ecm
from .class1 import Command, ImageReceived, ModemEvent, ReceiveImage, SendFrames
from .frames import FCF, Frame, Session
from .pages import PageQuality, ReceivedPage
from .record import HangupCode
from .t30_model import State, Signal, TCF_SECONDS, TCF_MIN_ZERO_SECONDS, _Unjudged
from .t30_steps import Steps


class ReceiverSteps(Steps):
    """The receiver's steps without ECM; ``t30_table`` says when each runs."""

    # ------------------------------------------------------------------ receiver

    def _await_dcs(self, event: ModemEvent, now: float) -> Command:
        self._tries = 0
        return self._listen(State.R_WAIT_DCS, self.timers.t4)

    def _repeat_dis(self, event: ModemEvent, now: float) -> Command:
        # T.30 5.3.2: the called station repeats DIS until T1 expires.
        if now - self._started >= self.timers.t1:
            return self._end(HangupCode.NO_FAX_PEER, "no DCS from the caller within T1", now)
        self.state = State.R_SEND_DIS
        return SendFrames(self._dis_burst(), x_bit=self._x_bit)

    def _on_dcs(self, event: ModemEvent, now: float) -> Command:
        assert self.session is not None
        self.state = State.R_WAIT_TCF
        return ReceiveImage(self.session.speed, self.timers.t2, max_duration=TCF_SECONDS + 5.0)

    def _on_tcf(self, event: ImageReceived, now: float) -> Command:
        assert self.session is not None
        need = int(self.session.speed.bit_rate * TCF_MIN_ZERO_SECONDS / 8)
        if _longest_zero_run(event.data) >= need:
            return self._send(State.R_SEND_CFR, Frame(FCF.CFR))
        return self._send(State.R_SEND_FTT, Frame(FCF.FTT))

    def _send_ftt(self, event: ModemEvent, now: float) -> Command:
        return self._send(State.R_SEND_FTT, Frame(FCF.FTT))

    def _await_page(self, event: ModemEvent, now: float) -> Command:
        assert self.session is not None
        if self.session.ecm:
            return self._await_block(event, now)
        self.state = State.R_WAIT_PAGE
        return ReceiveImage(self.session.speed, self.timers.t2, short_train=True)

    def _await_command(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.R_WAIT_COMMAND, self.timers.t2)

    def _on_page(self, event: ImageReceived, now: float) -> Command:
        assert self.session is not None
        # Listen for the post-page command at once and judge the page when it has come: the
        # modem hears V.21 only while +FRH is pending, and decoding a dense page takes longer
        # than the 75 ms + preamble before the sender's MPS/EOP.
        self._unjudged.append(_Unjudged(event.data, self.session))
        self._tries = 0
        return self._listen(State.R_WAIT_PPM, self.timers.t2)

    def _judge_page(self, complete: bool = True) -> None:
        """Decode the pages received and not yet judged, and keep them, good or not. A page
        the sender never finished (the line dropped) is kept as bad: it was cut short."""
        if complete and self._unjudged:
            self._unjudged[-1].complete = True
        if not complete and (self._ecm_page or self._collector.frames):
            # ECM: the blocks of a page in progress, and the frames of its last block so far
            self._unjudged.append(_Unjudged(bytes(self._ecm_page) + self._collector.data(256),
                                            self.session or Session(), pprs=self._ecm_pprs))
            self._ecm_page.clear()
            self._collector = ecm.BlockCollector()
        for page in self._unjudged:
            quality: PageQuality = self._checker(page.data, page.session)
            good = page.complete and self.config.copy_quality.acceptable(quality)
            self._received.append(ReceivedPage(page.data, page.session, quality, good,
                                               page.complete, page.pprs))
        self._unjudged.clear()

    def _on_ppm(self, event: ModemEvent, now: float) -> Command:
        self._judge_page()
        signal = self._signal
        self._last_ppm = signal
        good = self._received[-1].good
        self._last_response = FCF.MCF if good else FCF.RTN
        if not good:
            self._rtn_answered.add(len(self._received) - 1)
        return self._send(State.R_SEND_RESPONSE, Frame(self._last_response))

    def _repeat_response(self, event: ModemEvent, now: float) -> Command:
        """The sender did not hear our MCF/RTN and repeated its post-page command."""
        if self._last_response is None:
            return self._listen(State.R_WAIT_COMMAND, self.timers.t2)
        return self._send(State.R_SEND_RESPONSE, Frame(self._last_response))

    def _after_response(self, event: ModemEvent, now: float) -> Command:
        if self._last_response is FCF.RTN:
            # The sender must retrain (DCS, TCF) before sending anything else (T.30 5.3.6.2.5).
            return self._listen(State.R_WAIT_DCS, self.timers.t2)
        if self._last_ppm is Signal.MPS:
            return self._await_page(event, now)
        if self._last_ppm is Signal.EOM:
            return self._repeat_dis(event, now)
        return self._listen(State.R_WAIT_DCN, self.timers.t4)

    def _await_ppm_again(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            page = len(self._received) + len(self._unjudged)
            return self._end(HangupCode.CARRIER_LOST,
                             f"nothing from the sender after page {page}", now)
        return self._listen(self.state, self.timers.t2)

    def _page_lost(self, event: ModemEvent, now: float) -> Command:
        return self._end(HangupCode.CARRIER_LOST,
                         f"no page image after CFR/MCF (page {len(self._received) + 1})", now)


def _longest_zero_run(data: bytes) -> int:
    best = run = 0
    for byte in data:
        run = run + 1 if byte == 0 else 0
        best = max(best, run)
    return best
