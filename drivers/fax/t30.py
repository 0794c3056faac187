"""The T.30 engine for Class 1 modems, sans-IO: both roles, one transition table.

Its files, each read in one sitting:

  t30_model.py     states, signals, timers, the ErrorPage policy, the configuration, the outcome
  t30_table.py     the whole transition table as data: (state, signal) -> step, and the states
                   each step may lead to; ``docs/T30.md`` is drawn from it
  t30.py           the engine: ``start``/``handle``, frames in -> a signal, the table's row run
  t30_steps.py     what both roles share: send, listen, end the call, DCN/carrier loss, outcome
  t30_sender.py    the sender without ECM: DIS -> DCS, training, pages, MCF/RTN
  t30_receiver.py  the receiver without ECM: DIS, training check, pages judged, MCF/RTN
  t30_ecm.py       ECM (Annex A), both roles

Input: the modem's answer to the previous command (``class1`` events) and ``now`` from a
monotonic clock. Output: the next Class 1 command. The engine never sleeps and never reads a
port; ``modem.py`` is the thin loop that does. Its record of the call (``outcome``) feeds the
``FaxCall`` event.

Call phases (T.30 clause 2): A call set-up, B pre-message procedure (DIS/DCS, training),
C message (page image), D post-message (MPS/EOP and MCF/RTN), E release (DCN).

ECM (T.30 Annex A), when both ends offer it: pages go in blocks of numbered HDLC frames
(``ecm.py``) that we frame ourselves over ``+FTM/+FRM``; PPS after each block, PPR for lost
frames (resent; each PPR is an attempt in the record, so the page is an ErrorPage), RR after
RNR, CTC/CTR (go on one speed lower) or EOR/ERR (give the block up) after the fourth PPR.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import ecm, frames, t4
from .class1 import (Answer, CallFailed, CarrierLost, Command, Dial, Done, FramesReceived,
                     ImageReceived, ModemEvent, ModemFailed, TimedOut, WrongCarrier)
from .frames import FCF, Capabilities, Frame, FrameError, Session
from .pages import OutgoingPage, PageChecker, ReceivedPage
from .record import HangupCause, HangupCode
from .t30_ecm import EcmReceiverSteps, EcmSenderSteps
from .t30_model import (ALL_FAMILIES, MAX_TRIES, TCF_MIN_ZERO_SECONDS, TCF_SECONDS, _FRAME_SIGNALS,
                        EngineConfig, LocalProtocolError, Outcome, Phase, RemoteProtocolError, Role,
                        RtnMethod, RtnPolicy, Signal, State, Timers, _PageLog, _Unjudged)
from .t30_receiver import ReceiverSteps
from .t30_sender import SenderSteps
from .t30_table import transition


#: The engine's vocabulary is imported from here; its parts live in the files named above.
__all__ = ["ALL_FAMILIES", "MAX_TRIES", "TCF_MIN_ZERO_SECONDS", "TCF_SECONDS", "EngineConfig",
           "LocalProtocolError", "Outcome", "Phase", "RemoteProtocolError", "Role", "RtnMethod",
           "RtnPolicy", "Signal", "State", "T30Engine", "Timers"]


class T30Engine(SenderSteps, EcmSenderSteps, ReceiverSteps, EcmReceiverSteps):
    """One call, one role. ``start(now)`` gives the first command; ``handle(event, now)`` the next."""

    def __init__(self, role: Role, config: EngineConfig, *,
                 pages: Sequence[OutgoingPage] = (), number: str = "",
                 checker: PageChecker | None = None, page_numbers: Sequence[int] | None = None):
        """``page_numbers``: the sender's pages as the job numbers them (a retry call sends
        only those not yet confirmed); the record and every reason use them. Default 1..n."""
        if role is Role.SENDER and not pages:
            raise LocalProtocolError("a sender needs at least one page")
        self._page_numbers = list(page_numbers or range(1, len(pages) + 1))
        if len(self._page_numbers) != len(pages):
            raise LocalProtocolError(f"{len(pages)} pages but {len(self._page_numbers)} page numbers")
        self.role = role
        self.config = config
        self.timers = config.timers
        self.number = number
        self._pages = list(pages)
        self._checker: PageChecker = checker or t4.check_page
        self._coded: dict[tuple[int, Session], bytes] = {}
        #: Receiver: page images not yet judged: non-ECM, the last one, until its post-page
        #: command; ECM pages until the call ends (their answer does not depend on it).
        self._unjudged: list[_Unjudged] = []
        # ECM, sender: the current page's blocks, which one is out, frames PPR asked for.
        self._blocks: list[ecm.Block] = []
        self._block = 0
        self._pprs = 0  # PPRs for the current block
        self._rnr_since: float | None = None
        self._long_train = False  # the next block follows a speed change (CTC): long training
        # ECM, receiver: the block being collected, the page so far, the last PPS answered.
        self._collector = ecm.BlockCollector()
        self._ecm_page = bytearray()
        self._ecm_pprs = 0
        self._last_pps: ecm.PartialPageSignal | None = None
        self._answered_pps: tuple[int, int] | None = None
        self._frame: Frame | None = None  # the frame that gave the last signal (its FIF)
        self._resend: list[int] = []  # ECM, sender: the frames the last PPR asked for
        self._last_ecm_response: Frame | None = None
        self.state = State.DIALLING if role is Role.SENDER else State.R_ANSWER
        self.remote_id = ""
        self.remote_caps: Capabilities | None = None
        self.session: Session | None = None
        self._x_bit = role is Role.SENDER  # T.30 5.3.6.1: set by the station that received DIS
        self._started = 0.0
        self._connected: float | None = None
        self._ended: float | None = None
        self._tries = 0
        self._page = 0  # sender: index into pages; receiver: pages received so far
        self._log: list[_PageLog] = []
        self._received: list[ReceivedPage] = []
        self._rtn_answered: set[int] = set()  # receiver: indexes in _received we answered RTN
        self._last_response: FCF | None = None
        self._last_ppm: Signal | None = None
        self._retrain = True  # DCS+TCF needed before the next page
        #: Sender: the page answered RTN whose resend we are training for (until CFR).
        self._rtn_page: int | None = None
        self._cause: HangupCause | None = None
        self._signal = Signal.SENT
        self.trace: list[tuple[float, State, Signal, State]] = []

    # ------------------------------------------------------------------ public API

    def start(self, now: float) -> Command:
        self._started = now
        if self.role is Role.SENDER:
            return Dial(self.number, self.config.dial_timeout)
        return Answer(self._dis_burst(), self.timers.t2, self._x_bit)

    def handle(self, event: ModemEvent, now: float) -> Command | None:
        """The next command, or None when the call is over (after the result of HangUp)."""
        if self.state is State.DONE:
            raise LocalProtocolError(f"call is over; got {event!r}")
        signal = self._signal = self._classify(event)
        if self._connected is None and self.state in (State.DIALLING, State.R_ANSWER) \
                and signal not in (Signal.CALL_FAILED, Signal.MODEM_FAILED, Signal.TIMEOUT,
                                   Signal.CARRIER_LOST):
            self._connected = now
        before = self.state
        command = transition(self.state, signal).action(self, event, now)
        self.trace.append((now, before, signal, self.state))
        return command

    @property
    def finished(self) -> bool:
        return self.state is State.DONE

    @property
    def outcome(self) -> Outcome:
        cause = self._cause or HangupCause(HangupCode.MODEM_ERROR, "call still in progress",
                                           self.state.phase.name)
        return Outcome(
            role=self.role, hangup=cause, remote_station_id=self.remote_id,
            remote_capabilities=self.remote_caps, session=self.session,
            pages=self._page_results(), received=self._kept_copies(),
            pages_requested=len(self._pages) if self.role is Role.SENDER else None,
            connected_at=self._connected, ended_at=self._ended,
        )

    # ------------------------------------------------------------------ event classification

    def _classify(self, event: ModemEvent) -> Signal:
        match event:
            case FramesReceived(frames=raw, bad_fcs=bad):
                return self._absorb_frames(raw, bad)
            case Done():
                return Signal.SENT
            case ImageReceived():
                return Signal.IMAGE
            case TimedOut():
                return Signal.TIMEOUT
            case WrongCarrier():
                return Signal.WRONG_CARRIER
            case CarrierLost():
                return Signal.CARRIER_LOST
            case CallFailed():
                return Signal.CALL_FAILED
            case ModemFailed():
                return Signal.MODEM_FAILED
        raise LocalProtocolError(f"not a modem event: {event!r}")

    def _absorb_frames(self, raw: tuple[bytes, ...], bad: int) -> Signal:
        """Take in identification frames; the signal is the last frame that asks for action."""
        signal = None
        errors = bad
        for data in raw:
            try:
                frame = frames.decode(data)
            except FrameError:
                errors += 1  # a parse failure is data about the line, not an exception
                continue
            if frame.fcf in (FCF.CSI, FCF.TSI):
                self.remote_id = frames.decode_station_id(frame.fif)
            elif frame.fcf is FCF.DIS:
                try:
                    self.remote_caps = Capabilities.decode(frame.fif)
                except FrameError:
                    errors += 1
                    continue
            elif frame.fcf is FCF.DCS:
                try:
                    self.session = Session.decode(frame.fif)
                except FrameError:
                    errors += 1
                    continue
            if frame.fcf in _FRAME_SIGNALS:
                signal = _FRAME_SIGNALS[frame.fcf]
                self._frame = frame
        if signal is not None:
            return signal
        return Signal.BAD_FRAMES if errors else Signal.OTHER_FRAMES
