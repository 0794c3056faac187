"""What every step of the T.30 engine shares: sending and listening, ending the call, the
signals every state handles alike (DCN, carrier loss, a modem failure), and the outcome."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from . import frames, t4
from .class1 import CarrierLost, Command, HangUp, ModemEvent, ModemFailed, ReceiveFrames, SendFrames
from .frames import FCF, Capabilities, Frame, Width
from .pages import ReceivedPage
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
        """Received images grouped by page. After our RTN the sender may send the page again
        (spandsp, HylaFAX's "retransmit") or go on to the next one ("ignore"); T.30 does not
        say which, so an image after an RTN is the same page again when it looks like it."""
        pages: list[list[ReceivedPage]] = []
        for i, copy in enumerate(self._received):
            if i - 1 in self._rtn_answered and _same_image(self._received[i - 1], copy):
                pages[-1].append(copy)
            else:
                pages.append([copy])
        return pages

    def _kept_copies(self) -> tuple[ReceivedPage, ...]:
        """What is stored: each page's last copy (a resend replaces the copy we rejected)."""
        return tuple(copies[-1] for copies in self._received_transmissions())

    def _page_results(self) -> tuple[PageResult, ...]:
        if self.role is Role.RECEIVER:
            # One result per page however often it came, so it is counted (and billed) once;
            # rejected (RTN) or cut short, it is an ErrorPage. A page got whole through ECM
            # retransmission is not: its copy is exact.
            return tuple(
                PageResult(n + 1, _numbered(a for copy in copies for a in _received_attempts(copy)),
                           delivered=copies[-1].complete, error_page=not all(c.good for c in copies))
                for n, copies in enumerate(self._received_transmissions()))
        results = []
        for i in range(len(self._pages)):
            log = self._log[i] if i < len(self._log) else _PageLog()
            error = any(a.status.error_page for a in log.attempts)
            results.append(PageResult(self._number(i), tuple(log.attempts), log.delivered, error))
        return tuple(results)


def _received_attempts(page: ReceivedPage) -> tuple[PageAttempt, ...]:
    """A received page's PPRs (ECM: we asked for frames again), then how it ended."""
    rate, resolution, ecm_ = page.session.speed.bit_rate, page.session.resolution.value, \
        page.session.ecm
    pprs = tuple(PageAttempt(n + 1, PageStatus.PARTIAL_PAGE_REQUEST, rate, resolution, ecm_)
                 for n in range(page.pprs))
    return pprs + (PageAttempt(page.pprs + 1, _received_status(page), rate, resolution, ecm_,
                               good_lines=page.quality.good_lines,
                               bad_lines=page.quality.bad_lines),)


def _numbered(attempts: Iterable[PageAttempt]) -> tuple[PageAttempt, ...]:
    return tuple(dataclasses.replace(a, attempt=n + 1) for n, a in enumerate(attempts))


def _same_image(rejected: ReceivedPage, copy: ReceivedPage) -> bool:
    """Is ``copy`` the sender's resend of the page we ``rejected``? Most of its inked rows are
    also in the rejected copy: noise spoils some rows of a page, another page shares few."""
    def inked(page: ReceivedPage) -> list[bytes]:
        bitmap = t4.decode(page.data, page.session.coding, page.session.width.value[0]).bitmap
        return [row for row in bitmap.rows() if any(row)]

    before, after = set(inked(rejected)), inked(copy)
    if not after:
        return not before
    return 2 * sum(row in before for row in after) >= len(after)


def _received_status(page: ReceivedPage) -> PageStatus:
    if not page.complete:
        return PageStatus.INTERRUPTED  # kept (and stored) as far as it came, not delivered
    return PageStatus.RECEIVED_GOOD if page.good else PageStatus.RECEIVED_BAD
