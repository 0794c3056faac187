"""What every step of the T.30 engine shares: sending and listening, ending the call, the
signals every state handles alike (DCN, carrier loss, a modem failure), and the outcome."""

from __future__ import annotations

from . import frames
from .class1 import CarrierLost, Command, HangUp, ModemEvent, ModemFailed, ReceiveFrames, SendFrames
from .frames import FCF, Capabilities, Frame, Width
from .pages import ReceivedPage, received_page_results, received_transmissions
from .record import HangupCause, HangupCode, PageAttempt, PageResult, PageStatus
from .t30_model import Role, State, Signal, MAX_TRIES, _PageLog


class Steps:
    """The engine's state (set up by ``T30Engine.__init__``) and the steps both roles use."""

    # ------------------------------------------------------------------ sending and ending

    def _frame(self, fcf: FCF, fif: bytes = b"") -> Frame:
        return Frame(fcf, fif)

    def _burst(self, *parts: Frame) -> tuple[Frame, ...]:
        """Only the last frame of a burst carries the final bit (T.30 5.3.5)."""
        return tuple(Frame(f.fcf, f.fif, final=(i == len(parts) - 1)) for i, f in enumerate(parts))

    def _dis_burst(self) -> tuple[Frame, ...]:
        caps = Capabilities(families=self.config.families, fine=self.config.fine,
                            mr=self.config.mr, ecm=self.config.ecm, mmr=self.config.ecm,
                            width=Width.A4, min_scan_ms=0)
        return self._burst(Frame(FCF.CSI, frames.encode_station_id(self.config.station_id)),
                           Frame(FCF.DIS, caps.encode()))

    def _listen(self, state: State, timeout: float) -> Command:
        self.state = state
        return ReceiveFrames(timeout)

    def _send(self, state: State, *parts: Frame) -> Command:
        self.state = state
        return SendFrames(self._burst(*parts), x_bit=self._x_bit)

    def _end(self, code: HangupCode, reason: str, now: float, modem_result: str | None = None,
             dcn: bool = True) -> Command:
        """Record why, then DCN (if the line is still up) and hang up."""
        self._judge_page(complete=False)
        if self._cause is None:
            self._cause = HangupCause(code, reason, self.state.phase.name, modem_result)
        if dcn:
            return self._send(State.SEND_DCN, Frame(FCF.DCN))
        return self._hang_up(None, now)

    def _hang_up(self, event: ModemEvent | None, now: float) -> Command:
        self._judge_page(complete=False)
        if self._cause is None:
            self._cause = HangupCause(HangupCode.NORMAL, "call completed", "E")
        self.state = State.HANGING_UP
        return HangUp()

    def _done(self, event: ModemEvent, now: float) -> None:
        self._ended = now
        self.state = State.DONE

    def _retry(self) -> bool:
        self._tries += 1
        return self._tries < MAX_TRIES

    # ------------------------------------------------------------------ any state

    def _refused_resend(self, now: float, modem_result: str | None = None) -> Command:
        """The far end answered a page RTN and then hung up (DCN, or its carrier gone) while we
        trained to send it again: spandsp does so after RTN on the last page (EOP). Not a line
        failure: the page goes on the next call, per the ErrorPage policy."""
        assert self._rtn_page is not None
        return self._end(HangupCode.RTN_REFUSED,
                         f"page {self._number(self._rtn_page)} answered RTN; the far end hung up instead "
                         "of taking it again", now, modem_result, dcn=False)

    def _on_dcn(self, event: ModemEvent, now: float) -> Command:
        if self._rtn_page is not None:
            return self._refused_resend(now)
        if self.role is Role.RECEIVER and self.state in (State.R_WAIT_DCN, State.R_WAIT_PPM,
                                                          State.R_WAIT_COMMAND) \
                and self._last_ppm is Signal.EOP:
            return self._hang_up(event, now)
        if self.role is Role.SENDER and self.state in (State.S_WAIT_MCF, State.S_WAIT_PPS_ANSWER):
            self._attempt(PageStatus.INTERRUPTED)
        where = f"in {self.state.name} (phase {self.state.phase.name})"
        return self._end(HangupCode.REMOTE_DISCONNECT, f"far end sent DCN {where}", now, dcn=False)

    def _on_carrier_lost(self, event: CarrierLost, now: float) -> Command:
        if self._rtn_page is not None:
            return self._refused_resend(now, event.result)
        where = f"in {self.state.name}"
        if self.state in (State.S_SEND_PAGE, State.S_SEND_BLOCK):
            self._attempt(PageStatus.INTERRUPTED)
            where = f"during page {self._number()}"
        return self._end(HangupCode.CARRIER_LOST, f"the line dropped {where}", now,
                         event.result, dcn=False)

    def _on_modem_failed(self, event: ModemFailed, now: float) -> None:
        if self.state in (State.S_SEND_PAGE, State.S_SEND_BLOCK):
            self._attempt(PageStatus.INTERRUPTED)
        self._cause = self._cause or HangupCause(HangupCode.MODEM_ERROR, event.reason,
                                                 self.state.phase.name)
        return self._done(event, now)

    def _unexpected(self, event: ModemEvent, now: float) -> Command | None:
        if self.state is State.HANGING_UP:
            return self._done(event, now)  # whatever ATH0 answered, the line is down
        return self._end(HangupCode.PROTOCOL_ERROR,
                         f"unexpected {type(event).__name__} in {self.state.name}", now)

    # ------------------------------------------------------------------ outcome

    def _received_transmissions(self) -> list[list[ReceivedPage]]:
        return received_transmissions(self._received, self._rtn_answered)

    def _kept_copies(self) -> tuple[ReceivedPage, ...]:
        """What is stored: each page's last copy (a resend replaces the copy we rejected)."""
        return tuple(copies[-1] for copies in self._received_transmissions())

    def _page_results(self) -> tuple[PageResult, ...]:
        if self.role is Role.RECEIVER:
            return received_page_results(self._received_transmissions())
        results = []
        for i in range(len(self._pages)):
            log = self._log[i] if i < len(self._log) else _PageLog()
            error = any(a.status.error_page for a in log.attempts)
            results.append(PageResult(self._number(i), tuple(log.attempts), log.delivered, error))
        return tuple(results)
