"""The sender's steps (phases A-D without ECM): dial, DIS -> DCS, training, each page and its
post-page answer (MCF, RTP, RTN per the ErrorPage policy)."""

from __future__ import annotations

import dataclasses

from . import ecm, frames
from .class1 import CallFailed, Command, Done, ModemEvent, SendImage
from .frames import FCF, Coding, Frame, Resolution, Session, Speed, Width
from .record import HangupCode, PageAttempt, PageStatus
from .t30_model import State, _ANSWER_STATUS, TCF_SECONDS, RtnMethod, _PageLog, after_bad_page
from .t30_steps import Steps


class SenderSteps(Steps):
    """The sender's steps without ECM; ``t30_table`` says when each runs."""

    # ------------------------------------------------------------------ sender: phase A/B

    def _on_call_failed(self, event: CallFailed, now: float) -> Command:
        code = {"BUSY": HangupCode.BUSY, "NO ANSWER": HangupCode.NO_ANSWER,
                "NO DIALTONE": HangupCode.NO_DIALTONE}.get(event.result, HangupCode.NO_CARRIER)
        self._connected = None
        return self._end(code, f"dialling {self.number}: {event.result}", now, event.result, dcn=False)

    def _await_dis(self, event: ModemEvent, now: float) -> Command:
        if now - self._started >= self.timers.t1:
            return self._end(HangupCode.NO_FAX_PEER, "no DIS from the called station within T1",
                             now, dcn=False)
        return self._listen(State.S_WAIT_DIS, self.timers.t4)

    def _on_dis(self, event: ModemEvent, now: float) -> Command:
        caps = self.remote_caps
        assert caps is not None  # _absorb_frames decoded it to produce Signal.DIS
        if not caps.can_receive:
            return self._end(HangupCode.INCOMPATIBLE, "the called station cannot receive faxes", now)
        common = caps.families & self.config.families
        speed = next((s for s in Speed if s.family in common
                      and s.bit_rate <= self.config.max_speed.bit_rate), None)
        if speed is None:
            return self._end(HangupCode.INCOMPATIBLE, "no modulation in common", now)
        resolution = Resolution.FINE if self.config.fine and caps.fine else Resolution.STANDARD
        use_ecm = self.config.ecm and caps.ecm
        # MMR exists only under ECM (T.30 Table 2: bit 31 goes with bit 27): an MMR error
        # spoils the rest of the page, so it is only sent where no error survives.
        coding = (Coding.MMR if use_ecm and caps.mmr else
                  Coding.MR if self.config.mr and caps.mr else Coding.MH)
        self.session = Session(
            speed=speed, resolution=resolution, coding=coding,
            width=Width.A4, length=frames.Length.UNLIMITED if caps.length is frames.Length.UNLIMITED
            else frames.Length.A4,
            # The ECM receiver buffers frames: no minimum scan line time (spandsp sends 0 ms too).
            min_scan_ms=0 if use_ecm else caps.scan_ms_for(resolution),
            ecm=use_ecm, ecm_frame_size=self.config.ecm_frame_size,
        )
        self._tries = 0
        return self._send_dcs()

    def _send_dcs(self) -> Command:
        assert self.session is not None
        return self._send(State.S_SEND_DCS,
                          Frame(FCF.TSI, frames.encode_station_id(self.config.station_id)),
                          Frame(FCF.DCS, self.session.encode()))

    def _send_tcf(self, event: ModemEvent, now: float) -> Command:
        assert self.session is not None
        self.state = State.S_SEND_TCF
        zeros = bytes(int(self.session.speed.bit_rate * TCF_SECONDS / 8))
        return SendImage(self.session.speed, zeros)

    def _await_cfr(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.S_WAIT_CFR, self.timers.t4)

    def _repeat_dcs(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            return self._end(HangupCode.TRAINING_FAILED, "no CFR/FTT after DCS sent 3 times", now)
        return self._send_dcs()

    def _on_ftt(self, event: ModemEvent, now: float) -> Command:
        if not self._fall_back():
            return self._end(HangupCode.TRAINING_FAILED, "FTT at the lowest speed", now)
        self._tries = 0
        return self._send_dcs()

    def _fall_back(self) -> bool:
        assert self.session is not None and self.remote_caps is not None
        lower = self.session.speed.fallback(self.remote_caps.families & self.config.families)
        if lower is None:
            return False
        self.session = dataclasses.replace(self.session, speed=lower)
        return True

    # ------------------------------------------------------------------ sender: phases C/D

    def _send_page(self, event: ModemEvent, now: float) -> Command:
        assert self.session is not None
        self._retrain = False
        self._rtn_page = None
        self._tries = 0
        while len(self._log) <= self._page:
            self._log.append(_PageLog())
        self.state = State.S_SEND_PAGE
        # Coded only now that DCS has fixed speed, resolution, coding and scan time; kept for a
        # resend in the same session (T.4 coding of a dense page takes a good fraction of a s).
        key = (self._page, self.session)
        data = self._coded.get(key)
        if data is None:
            data = self._coded[key] = self._pages[self._page].encode(self.session)
        if self.session.ecm:
            self._blocks = ecm.blocks(data, self._page, self.session.ecm_frame_size)
            self._block = 0
            return self._send_block(range(self._blocks[0].count))
        # V.17 pages after a good TCF use short training, as HylaFAX does (T.30 5.3.2.3 note).
        return SendImage(self.session.speed, data, short_train=True)

    def _number(self, index: int | None = None) -> int:
        """The job's number for the page at ``index`` (default: the current one)."""
        return self._page_numbers[self._page if index is None else index]

    def _ppm(self) -> FCF:
        return FCF.MPS if self._page + 1 < len(self._pages) else FCF.EOP

    def _send_ppm(self, event: ModemEvent, now: float) -> Command:
        return self._send(State.S_SEND_PPM, Frame(self._ppm()))

    def _await_mcf(self, event: ModemEvent, now: float) -> Command:
        return self._listen(State.S_WAIT_MCF, self.timers.t4)

    def _repeat_ppm(self, event: ModemEvent, now: float) -> Command:
        if not self._retry():
            self._attempt(PageStatus.NO_RESPONSE)
            return self._end(HangupCode.NO_RESPONSE,
                             f"no answer to {self._ppm().name} after page {self._number()}, 3 tries", now)
        return self._send(State.S_SEND_PPM, Frame(self._ppm()))

    def _attempt(self, status: PageStatus) -> PageAttempt:
        assert self.session is not None
        log = self._log[self._page]
        attempt = PageAttempt(len(log.attempts) + 1, status, self.session.speed.bit_rate,
                              self.session.resolution.value, ecm=self.session.ecm)
        log.attempts.append(attempt)
        return attempt

    def _on_page_answer(self, event: ModemEvent, now: float) -> Command:
        signal = self._signal
        status = _ANSWER_STATUS[signal]
        self._attempt(status)
        log = self._log[self._page]
        if status in (PageStatus.RETRAIN_NEGATIVE, PageStatus.INTERRUPT_NEGATIVE):
            action = after_bad_page(self.config.rtn_policy, len(log.attempts))
            if action is RtnMethod.GIVEUP:
                how = ("policy giveup" if self.config.rtn_policy.method is RtnMethod.GIVEUP
                       else f"{len(log.attempts)} times")
                return self._end(HangupCode.RTN_GIVE_UP,
                                 f"page {self._number()} answered {signal.value}: {how}", now)
            if action is RtnMethod.RETRANSMIT:
                self._fall_back()  # at the lowest speed, resend at it
                self._tries = 0
                self._rtn_page = self._page
                return self._send_dcs()  # T.30 5.3.6.2.5: RTN means retrain before any page
            log.delivered = True  # IGNORE: counted as sent, still an ErrorPage
            self._retrain = True
        else:
            log.delivered = True
            self._retrain = status is not PageStatus.CONFIRMED
        return self._next_page(now)

    def _next_page(self, now: float) -> Command:
        self._page += 1
        if self._page >= len(self._pages):
            return self._end(HangupCode.NORMAL, "all pages sent", now)
        if self._retrain:
            self._tries = 0
            return self._send_dcs()
        return self._send_page(Done(), now)
