"""The T.30 engine for Class 1 modems, sans-IO: both roles, one transition table.

The table is data at the end of this file: ``_TABLE`` (state, signal) -> action, ``_ANY_STATE``
for what every state does alike, and ``_LEADS_TO``, the states each action may leave the engine
in; ``transition(state, signal)`` is the one row ``handle`` follows, and ``docs/T30.md`` is drawn
from ``transitions()`` (``python -m drivers.fax.t30``).

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

import dataclasses
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from . import ecm, frames, t4
from .class1 import (Answer, CallFailed, CarrierLost, Command, Dial, Done, FramesReceived, HangUp,
                     ImageReceived, ModemEvent, ModemFailed, ReceiveFrames, ReceiveImage,
                     SendFrames, SendImage, TimedOut, WrongCarrier)
from .errors import FaxError
from .frames import FCF, Capabilities, Coding, Frame, FrameError, Resolution, Session, Speed, Width
from .pages import OutgoingPage, PageChecker, PageQuality, ReceivedPage
from .record import HangupCause, HangupCode, PageAttempt, PageResult, PageStatus
from .t4 import CopyQualityPolicy

ALL_FAMILIES = frozenset({"V.17", "V.29", "V.27ter"})


class LocalProtocolError(FaxError):
    """We (or our caller) drove the engine wrongly: an event in a state that cannot take it."""


class RemoteProtocolError(FaxError):
    """The far end broke T.30. The engine reports it in the outcome rather than raising it."""


class Role(enum.Enum):
    SENDER = "sender"  #: calls and transmits pages
    RECEIVER = "receiver"  #: answers and receives pages


class Phase(enum.Enum):
    A = "call set-up"
    B = "pre-message procedure"
    C = "message transmission"
    D = "post-message procedure"
    E = "call release"


class State(enum.Enum):
    """Where the engine is: each state awaits the result of one command. Value: (phase, what)."""

    DIALLING = (Phase.A, "ATD sent, waiting for CONNECT and the DIS burst")
    S_WAIT_DIS = (Phase.B, "listening for DIS (it may follow NSF/CSI or be repeated)")
    S_SEND_DCS = (Phase.B, "TSI+DCS going out")
    S_SEND_TCF = (Phase.B, "1.5 s of zeros at the chosen speed: the training check")
    S_WAIT_CFR = (Phase.B, "listening for CFR or FTT")
    S_SEND_PAGE = (Phase.C, "page image going out")
    S_SEND_PPM = (Phase.D, "MPS/EOP going out")
    S_WAIT_MCF = (Phase.D, "listening for MCF, RTP, RTN, PIP or PIN")
    S_SEND_BLOCK = (Phase.C, "ECM: a partial page's frames (or the ones PPR asked for) going out")
    S_SEND_PPS = (Phase.D, "ECM: PPS-NULL/MPS/EOP going out")
    S_WAIT_PPS_ANSWER = (Phase.D, "ECM: listening for MCF, PPR or RNR")
    S_SEND_RR = (Phase.D, "ECM: RR going out (the receiver said RNR)")
    S_WAIT_RR_ANSWER = (Phase.D, "ECM: listening for MCF, PPR or RNR after RR")
    S_SEND_CTC = (Phase.D, "ECM: CTC going out (fourth PPR: go on one speed lower)")
    S_WAIT_CTR = (Phase.D, "ECM: listening for CTR")
    S_SEND_EOR = (Phase.D, "ECM: EOR going out (fourth PPR at the lowest speed: give the block up)")
    S_WAIT_ERR = (Phase.D, "ECM: listening for ERR")
    R_ANSWER = (Phase.B, "ATA sent; CSI+DIS going out")
    R_SEND_DIS = (Phase.B, "CSI+DIS repeated")
    R_WAIT_DCS = (Phase.B, "listening for TSI+DCS")
    R_WAIT_TCF = (Phase.B, "receiving the training check")
    R_SEND_CFR = (Phase.B, "CFR going out")
    R_SEND_FTT = (Phase.B, "FTT going out")
    R_WAIT_PAGE = (Phase.C, "receiving a page image")
    R_WAIT_PPM = (Phase.D, "listening for MPS/EOP/EOM after a page")
    R_WAIT_COMMAND = (Phase.D, "+FCERROR: the sender repeats a command; listening for it")
    R_SEND_RESPONSE = (Phase.D, "MCF or RTN going out")
    R_WAIT_DCN = (Phase.E, "EOP confirmed; the sender should now say DCN")
    R_WAIT_BLOCK = (Phase.C, "ECM: receiving a partial page's frames")
    R_WAIT_PPS = (Phase.D, "ECM: listening for PPS, EOR, CTC or RR after a block")
    R_SEND_ECM_RESPONSE = (Phase.D, "ECM: MCF, PPR, CTR or ERR going out")
    SEND_DCN = (Phase.E, "DCN going out")
    HANGING_UP = (Phase.E, "ATH0 sent")
    DONE = (Phase.E, "the outcome is final")

    @property
    def phase(self) -> Phase:
        return self.value[0]


class Signal(enum.Enum):
    """What an event means, for the transition table: a T.30 frame or a modem result."""

    DIS = "DIS"
    DCS = "DCS"
    CFR = "CFR"
    FTT = "FTT"
    MCF = "MCF"
    RTP = "RTP"
    RTN = "RTN"
    PIP = "PIP"
    PIN = "PIN"
    MPS = "MPS"
    EOP = "EOP"
    EOM = "EOM"
    DCN = "DCN"
    CRP = "CRP"
    PPS = "PPS"
    PPR = "PPR"
    RNR = "RNR"
    RR = "RR"
    CTC = "CTC"
    CTR = "CTR"
    EOR = "EOR"
    ERR = "ERR"
    OTHER_FRAMES = "frames we do not act on"
    BAD_FRAMES = "frames with bad FCS or unparseable"
    SENT = "sent"
    IMAGE = "image data"
    TIMEOUT = "timeout"
    WRONG_CARRIER = "+FCERROR"
    CARRIER_LOST = "carrier lost"
    CALL_FAILED = "call failed"
    MODEM_FAILED = "modem failed"


_FRAME_SIGNALS = {
    FCF.DIS: Signal.DIS, FCF.DCS: Signal.DCS, FCF.CFR: Signal.CFR, FCF.FTT: Signal.FTT,
    FCF.MCF: Signal.MCF, FCF.RTP: Signal.RTP, FCF.RTN: Signal.RTN, FCF.PIP: Signal.PIP,
    FCF.PIN: Signal.PIN, FCF.MPS: Signal.MPS, FCF.EOP: Signal.EOP, FCF.EOM: Signal.EOM,
    FCF.PRI_MPS: Signal.MPS, FCF.PRI_EOP: Signal.EOP, FCF.PRI_EOM: Signal.EOM,
    FCF.DCN: Signal.DCN, FCF.CRP: Signal.CRP,
    FCF.PPS: Signal.PPS, FCF.PPR: Signal.PPR, FCF.RNR: Signal.RNR, FCF.RR: Signal.RR,
    FCF.CTC: Signal.CTC, FCF.CTR: Signal.CTR, FCF.EOR: Signal.EOR, FCF.ERR: Signal.ERR,
}
_PPM_FCF = {Signal.MPS: FCF.MPS, Signal.EOP: FCF.EOP, Signal.EOM: FCF.EOM}
_ANSWER_STATUS = {Signal.MCF: PageStatus.CONFIRMED, Signal.RTP: PageStatus.RETRAIN_POSITIVE,
                  Signal.PIP: PageStatus.INTERRUPT_POSITIVE, Signal.RTN: PageStatus.RETRAIN_NEGATIVE,
                  Signal.PIN: PageStatus.INTERRUPT_NEGATIVE}


@dataclass(frozen=True)
class Timers:
    """T.30 clause 5.4.3 timer values in seconds."""

    t1: float = 35.0  #: to identify the far end as a fax machine (phase B entry)
    t2: float = 6.0  #: to receive a command (receiver) / a page's carrier
    t3: float = 10.0  #: procedure interrupt (operator) -- unused: we never request PRI
    t4: float = 3.0  #: to receive a response after a command (3 s +-15% for automatic units)
    t5: float = 60.0  #: ECM: how long the receiver may keep saying RNR

    def scaled(self, factor: float) -> Timers:
        """For a far end that runs faster than real time (the lab's paced spandsp peer)."""
        return Timers(*(getattr(self, t) * factor for t in ("t1", "t2", "t3", "t4", "t5")))


#: T.30 5.3.2 / 5.4.3: an unanswered command is repeated; the third failure ends the call.
MAX_TRIES = 3
#: T.30 5.3.6.1.7: the training check is 1.5 s of zeros.
TCF_SECONDS = 1.5
#: Training is good if the zeros ran this long unbroken (T.30 leaves it to us; spandsp uses 1 s).
TCF_MIN_ZERO_SECONDS = 1.0


class RtnMethod(enum.Enum):
    """What the sender does when a page is answered RTN (an ErrorPage), as HylaFAX's
    ``RTNHandlingMethod``."""

    RETRANSMIT = "retransmit"  #: retrain one speed lower and send the page again, up to K times
    GIVEUP = "giveup"  #: hang up; the page and the rest are not delivered
    IGNORE = "ignore"  #: count the page as sent (still flagged) and go on


@dataclass(frozen=True)
class RtnPolicy:
    method: RtnMethod = RtnMethod.RETRANSMIT
    max_retransmits: int = 2  #: K: extra transmissions of one page


@dataclass(frozen=True)
class EngineConfig:
    station_id: str = ""
    families: frozenset[str] = ALL_FAMILIES  #: what our modem can do (from ``AT+FTM=?``)
    max_speed: Speed = Speed.V17_14400
    fine: bool = True  #: send at 7.7 l/mm when the far end accepts it
    mr: bool = True  #: offer and use 2-D MR (``t4`` codes and decodes it)
    rtn_policy: RtnPolicy = RtnPolicy()
    #: Offer and use ECM (T.30 Annex A) when the far end does; then MMR too, when it offers it.
    ecm: bool = False
    ecm_frame_size: int = 256  #: 256 or 64 octets (DCS bit 28)
    timers: Timers = Timers()
    dial_timeout: float = 60.0  #: ATD to CONNECT (the network's, not a T.30 timer)
    #: The receiver's MCF/RTN criteria, applied to the line counts its checker reports.
    copy_quality: CopyQualityPolicy = CopyQualityPolicy()


@dataclass
class _PageLog:
    attempts: list[PageAttempt] = field(default_factory=list)
    delivered: bool = False


@dataclass
class _Unjudged:
    """Receiver: a page's image, kept until it can be judged (see ``_on_page``)."""

    data: bytes
    session: Session
    complete: bool = False  #: its post-page command (or ECM: every block's MCF) has come
    pprs: int = 0  #: ECM: PPRs we sent for it


@dataclass(frozen=True)
class Outcome:
    """What the engine knows once the call is over; times are monotonic seconds."""

    role: Role
    hangup: HangupCause
    remote_station_id: str
    remote_capabilities: Capabilities | None
    session: Session | None
    pages: tuple[PageResult, ...]
    pages_requested: int | None
    received: tuple[ReceivedPage, ...]
    connected_at: float | None
    ended_at: float | None


Handler = Callable[["T30Engine", ModemEvent, float], "Command | None"]


class T30Engine:
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

    # ------------------------------------------------------------------ helpers

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
            policy = self.config.rtn_policy
            if policy.method is RtnMethod.GIVEUP:
                return self._end(HangupCode.RTN_GIVE_UP,
                                 f"page {self._number()} answered {signal.value}: policy giveup", now)
            if policy.method is RtnMethod.RETRANSMIT:
                if len(log.attempts) > policy.max_retransmits:
                    return self._end(HangupCode.RTN_GIVE_UP,
                                     f"page {self._number()} answered {signal.value} "
                                     f"{len(log.attempts)} times", now)
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
            error = any(a.status in (PageStatus.RETRAIN_NEGATIVE, PageStatus.INTERRUPT_NEGATIVE,
                                     PageStatus.PARTIAL_PAGE_REQUEST) for a in log.attempts)
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


def _longest_zero_run(data: bytes) -> int:
    best = run = 0
    for byte in data:
        run = run + 1 if byte == 0 else 0
        best = max(best, run)
    return best


S = State
G = Signal
_WAITING_NOISE = (G.TIMEOUT, G.BAD_FRAMES, G.OTHER_FRAMES, G.CARRIER_LOST)

#: The whole machine: (state, signal) -> handler. Anything not here goes to ``_ANY_STATE``,
#: then ``_unexpected`` (DCN and hang up as a protocol error).
_TABLE: dict[tuple[State, Signal], Handler] = {
    # --- sender, phase A/B
    (S.DIALLING, G.DIS): T30Engine._on_dis,
    (S.DIALLING, G.CALL_FAILED): T30Engine._on_call_failed,
    **{(S.DIALLING, g): T30Engine._await_dis for g in _WAITING_NOISE},
    (S.S_WAIT_DIS, G.DIS): T30Engine._on_dis,
    **{(S.S_WAIT_DIS, g): T30Engine._await_dis for g in _WAITING_NOISE},
    (S.S_SEND_DCS, G.SENT): T30Engine._send_tcf,
    (S.S_SEND_TCF, G.SENT): T30Engine._await_cfr,
    (S.S_WAIT_CFR, G.CFR): T30Engine._send_page,
    (S.S_WAIT_CFR, G.FTT): T30Engine._on_ftt,
    (S.S_WAIT_CFR, G.DIS): T30Engine._repeat_dcs,  # they missed our DCS and said DIS again
    **{(S.S_WAIT_CFR, g): T30Engine._repeat_dcs for g in _WAITING_NOISE},
    # --- sender, phases C/D
    (S.S_SEND_PAGE, G.SENT): T30Engine._send_ppm,
    (S.S_SEND_PPM, G.SENT): T30Engine._await_mcf,
    **{(S.S_WAIT_MCF, g): T30Engine._on_page_answer for g in (G.MCF, G.RTP, G.RTN, G.PIP, G.PIN)},
    (S.S_WAIT_MCF, G.CRP): T30Engine._repeat_ppm,
    **{(S.S_WAIT_MCF, g): T30Engine._repeat_ppm for g in _WAITING_NOISE},
    # --- sender, ECM (phases C/D)
    (S.S_SEND_BLOCK, G.SENT): T30Engine._send_pps,
    (S.S_SEND_PPS, G.SENT): T30Engine._await_pps_answer,
    **{(s, G.MCF): T30Engine._on_block_confirmed for s in (S.S_WAIT_PPS_ANSWER, S.S_WAIT_RR_ANSWER)},
    **{(s, G.PPR): T30Engine._on_ppr for s in (S.S_WAIT_PPS_ANSWER, S.S_WAIT_RR_ANSWER)},
    **{(s, G.RNR): T30Engine._on_rnr for s in (S.S_WAIT_PPS_ANSWER, S.S_WAIT_RR_ANSWER,
                                               S.S_WAIT_ERR)},
    (S.S_WAIT_PPS_ANSWER, G.CRP): T30Engine._repeat_pps,
    **{(S.S_WAIT_PPS_ANSWER, g): T30Engine._repeat_pps for g in _WAITING_NOISE},
    (S.S_SEND_RR, G.SENT): T30Engine._await_rr_answer,
    (S.S_WAIT_RR_ANSWER, G.CRP): T30Engine._repeat_rr,
    **{(S.S_WAIT_RR_ANSWER, g): T30Engine._repeat_rr for g in _WAITING_NOISE},
    (S.S_SEND_CTC, G.SENT): T30Engine._await_ctr,
    (S.S_WAIT_CTR, G.CTR): T30Engine._on_ctr,
    (S.S_WAIT_CTR, G.CRP): T30Engine._repeat_ctc,
    **{(S.S_WAIT_CTR, g): T30Engine._repeat_ctc for g in _WAITING_NOISE},
    (S.S_SEND_EOR, G.SENT): T30Engine._await_err,
    (S.S_WAIT_ERR, G.ERR): T30Engine._on_block_confirmed,
    (S.S_WAIT_ERR, G.CRP): T30Engine._repeat_eor,
    **{(S.S_WAIT_ERR, g): T30Engine._repeat_eor for g in _WAITING_NOISE},
    # --- receiver, phase B
    (S.R_ANSWER, G.SENT): T30Engine._await_dcs,
    (S.R_ANSWER, G.CALL_FAILED): T30Engine._on_call_failed,
    (S.R_SEND_DIS, G.SENT): T30Engine._await_dcs,
    (S.R_WAIT_DCS, G.DCS): T30Engine._on_dcs,
    **{(S.R_WAIT_DCS, g): T30Engine._repeat_dis for g in _WAITING_NOISE},
    (S.R_WAIT_TCF, G.IMAGE): T30Engine._on_tcf,
    (S.R_WAIT_TCF, G.WRONG_CARRIER): T30Engine._await_command,  # DCS again: they missed CFR
    (S.R_WAIT_TCF, G.TIMEOUT): T30Engine._send_ftt,
    (S.R_WAIT_TCF, G.CARRIER_LOST): T30Engine._send_ftt,
    (S.R_SEND_CFR, G.SENT): T30Engine._await_page,
    (S.R_SEND_FTT, G.SENT): T30Engine._await_dcs,
    # --- receiver, phases C/D
    (S.R_WAIT_PAGE, G.IMAGE): T30Engine._on_page,
    (S.R_WAIT_PAGE, G.WRONG_CARRIER): T30Engine._await_command,
    (S.R_WAIT_PAGE, G.TIMEOUT): T30Engine._page_lost,
    (S.R_WAIT_PAGE, G.CARRIER_LOST): T30Engine._page_lost,
    **{(S.R_WAIT_PPM, g): T30Engine._on_ppm for g in (G.MPS, G.EOP, G.EOM)},
    **{(S.R_WAIT_PPM, g): T30Engine._await_ppm_again for g in _WAITING_NOISE},
    (S.R_WAIT_COMMAND, G.DCS): T30Engine._on_dcs,
    **{(S.R_WAIT_COMMAND, g): T30Engine._repeat_response for g in (G.MPS, G.EOP, G.EOM)},
    **{(S.R_WAIT_COMMAND, g): T30Engine._await_ppm_again for g in _WAITING_NOISE},
    (S.R_SEND_RESPONSE, G.SENT): T30Engine._after_response,
    **{(S.R_WAIT_DCN, g): T30Engine._repeat_response for g in (G.MPS, G.EOP, G.EOM)},
    **{(S.R_WAIT_DCN, g): T30Engine._hang_up for g in _WAITING_NOISE},
    (S.R_WAIT_DCS, G.MPS): T30Engine._repeat_response,  # RTN unheard: they repeat the PPM
    (S.R_WAIT_DCS, G.EOP): T30Engine._repeat_response,
    # --- receiver, ECM (phases C/D)
    (S.R_WAIT_BLOCK, G.IMAGE): T30Engine._on_block,
    (S.R_WAIT_BLOCK, G.WRONG_CARRIER): T30Engine._await_ecm_command,  # PPS/RR/CTC/EOR instead
    (S.R_WAIT_BLOCK, G.TIMEOUT): T30Engine._page_lost,
    (S.R_WAIT_BLOCK, G.CARRIER_LOST): T30Engine._page_lost,
    (S.R_WAIT_PPS, G.PPS): T30Engine._on_pps,
    (S.R_WAIT_PPS, G.EOR): T30Engine._on_eor,
    (S.R_WAIT_PPS, G.CTC): T30Engine._on_ctc,
    (S.R_WAIT_PPS, G.RR): T30Engine._repeat_ecm_response,
    **{(S.R_WAIT_PPS, g): T30Engine._await_ecm_command_again for g in _WAITING_NOISE},
    (S.R_SEND_ECM_RESPONSE, G.SENT): T30Engine._after_ecm_response,
    **{(S.R_WAIT_DCN, g): T30Engine._repeat_ecm_response for g in (G.PPS, G.EOR, G.RR)},
    # --- phase E
    (S.SEND_DCN, G.SENT): T30Engine._hang_up,
    **{(S.SEND_DCN, g): T30Engine._hang_up for g in _WAITING_NOISE},
    (S.HANGING_UP, G.SENT): T30Engine._done,
    (S.HANGING_UP, G.CARRIER_LOST): T30Engine._done,
    (S.HANGING_UP, G.MODEM_FAILED): T30Engine._done,
}

#: Signals handled the same way in every state not listed above.
_ANY_STATE: dict[Signal, Handler] = {
    G.DCN: T30Engine._on_dcn,
    G.CARRIER_LOST: T30Engine._on_carrier_lost,
    G.MODEM_FAILED: T30Engine._on_modem_failed,
}

#: Where each action may leave the engine (which one, its own branches decide: a policy, the
#: tries left, the last page or not). ``STAY``: the state it was in. The back-to-back tests check
#: every step they make against this; ``docs/T30.md`` is drawn from it (``diagram``).
STAY = None
_LEADS_TO: dict[Handler, frozenset[State | None]] = {h: frozenset(to) for h, to in {
    T30Engine._on_call_failed: {S.HANGING_UP},
    T30Engine._await_dis: {S.HANGING_UP, S.S_WAIT_DIS},
    T30Engine._on_dis: {S.SEND_DCN, S.S_SEND_DCS},
    T30Engine._send_tcf: {S.S_SEND_TCF},
    T30Engine._await_cfr: {S.S_WAIT_CFR},
    T30Engine._repeat_dcs: {S.SEND_DCN, S.S_SEND_DCS},
    T30Engine._on_ftt: {S.SEND_DCN, S.S_SEND_DCS},
    T30Engine._send_page: {S.S_SEND_PAGE, S.S_SEND_BLOCK},
    T30Engine._send_ppm: {S.S_SEND_PPM},
    T30Engine._await_mcf: {S.S_WAIT_MCF},
    T30Engine._repeat_ppm: {S.SEND_DCN, S.S_SEND_PPM},
    T30Engine._on_page_answer: {S.SEND_DCN, S.S_SEND_DCS, S.S_SEND_PAGE},
    T30Engine._send_pps: {S.S_SEND_PPS},
    T30Engine._await_pps_answer: {S.S_WAIT_PPS_ANSWER},
    T30Engine._repeat_pps: {S.SEND_DCN, S.S_SEND_PPS},
    T30Engine._on_block_confirmed: {S.S_SEND_BLOCK, S.SEND_DCN, S.S_SEND_DCS},
    T30Engine._on_ppr: {S.S_SEND_BLOCK, S.S_SEND_CTC, S.S_SEND_EOR},
    T30Engine._await_ctr: {S.S_WAIT_CTR},
    T30Engine._repeat_ctc: {S.SEND_DCN, S.S_SEND_CTC},
    T30Engine._on_ctr: {S.S_SEND_BLOCK},
    T30Engine._await_err: {S.S_WAIT_ERR},
    T30Engine._repeat_eor: {S.SEND_DCN, S.S_SEND_EOR},
    T30Engine._on_rnr: {S.SEND_DCN, S.S_SEND_RR},
    T30Engine._await_rr_answer: {S.S_WAIT_RR_ANSWER},
    T30Engine._repeat_rr: {S.SEND_DCN, S.S_SEND_RR},
    T30Engine._await_dcs: {S.R_WAIT_DCS},
    T30Engine._repeat_dis: {S.SEND_DCN, S.R_SEND_DIS},
    T30Engine._on_dcs: {S.R_WAIT_TCF},
    T30Engine._on_tcf: {S.R_SEND_CFR, S.R_SEND_FTT},
    T30Engine._send_ftt: {S.R_SEND_FTT},
    T30Engine._await_page: {S.R_WAIT_PAGE, S.R_WAIT_BLOCK},
    T30Engine._await_command: {S.R_WAIT_COMMAND},
    T30Engine._on_page: {S.R_WAIT_PPM},
    T30Engine._on_ppm: {S.R_SEND_RESPONSE},
    T30Engine._repeat_response: {S.R_WAIT_COMMAND, S.R_SEND_RESPONSE},
    T30Engine._after_response: {S.R_WAIT_DCS, S.R_WAIT_PAGE, S.R_WAIT_BLOCK, S.R_SEND_DIS,
                                S.SEND_DCN, S.R_WAIT_DCN},
    T30Engine._await_ppm_again: {S.SEND_DCN, STAY},
    T30Engine._page_lost: {S.SEND_DCN},
    T30Engine._on_block: {S.R_WAIT_PPS},
    T30Engine._await_ecm_command: {S.R_WAIT_PPS},
    T30Engine._await_ecm_command_again: {S.SEND_DCN, S.R_WAIT_PPS},
    T30Engine._on_pps: {S.SEND_DCN, S.R_WAIT_PPS, S.R_SEND_ECM_RESPONSE},
    T30Engine._on_eor: {S.R_SEND_ECM_RESPONSE},
    T30Engine._on_ctc: {S.SEND_DCN, S.R_WAIT_PPS, S.R_SEND_ECM_RESPONSE},
    T30Engine._repeat_ecm_response: {S.R_WAIT_PPS, S.R_SEND_ECM_RESPONSE},
    T30Engine._after_ecm_response: {S.R_WAIT_BLOCK, S.R_SEND_DIS, S.SEND_DCN, S.R_WAIT_DCN},
    T30Engine._on_dcn: {S.HANGING_UP},
    T30Engine._on_carrier_lost: {S.HANGING_UP},
    T30Engine._on_modem_failed: {S.DONE},
    T30Engine._unexpected: {S.SEND_DCN, S.DONE},
    T30Engine._hang_up: {S.HANGING_UP},
    T30Engine._done: {S.DONE},
}.items()}


@dataclass(frozen=True)
class Transition:
    """One row of the machine: in ``state``, on ``signal``, ``action`` leaves it in one of ``to``."""

    state: State
    signal: Signal
    action: Handler
    to: frozenset[State]


def transition(state: State, signal: Signal) -> Transition:
    """The row ``handle`` follows for (state, signal): the table, else the any-state rows, else
    ``_unexpected`` (DCN and hang up as a protocol error)."""
    action = _TABLE.get((state, signal)) or _ANY_STATE.get(signal) or T30Engine._unexpected
    return Transition(state, signal, action,
                      frozenset(state if t is STAY else t for t in _LEADS_TO[action]))


def transitions() -> list[Transition]:
    """Every row the engine can follow, ``_unexpected`` ones left out (they all end the call)."""
    return [transition(state, signal) for state in State if state is not State.DONE
            for signal in Signal
            if (state, signal) in _TABLE or signal in _ANY_STATE]


def diagram() -> str:
    """``docs/T30.md``: the machine as Mermaid state diagrams, sender and receiver apart."""
    parts = ["# The T.30 engine's states (generated from `drivers/fax/t30.py`; "
             "`python -m drivers.fax.t30 > docs/T30.md`)\n",
             "Each edge is one row: `signal / action`. Any signal a state has no row for ends the "
             "call as a protocol error (DCN, hang up); DCN, carrier loss and a modem failure are "
             "handled the same in every state and drawn only where they lead somewhere else.\n"]
    for role, prefix, start in (("Sender", "S_", State.DIALLING), ("Receiver", "R_", State.R_ANSWER)):
        lines = [f"## {role}\n", "```mermaid", "stateDiagram-v2", f"    [*] --> {start.name}"]
        for row in transitions():
            if not (row.state.name.startswith(prefix) or row.state is start):
                continue
            if row.action in (T30Engine._on_dcn, T30Engine._on_carrier_lost,
                              T30Engine._on_modem_failed) and (row.state, row.signal) not in _TABLE:
                continue
            for target in sorted(row.to, key=lambda t: t.name):
                lines.append(f"    {row.state.name} --> {target.name} : "
                             f"{row.signal.name} / {row.action.__name__.lstrip('_')}")
        lines += ["    SEND_DCN --> HANGING_UP : SENT / hang_up", "    HANGING_UP --> DONE : SENT / done",
                  "    DONE --> [*]", "```\n"]
        parts.append("\n".join(lines))
    return "\n".join(parts)


if __name__ == "__main__":
    print(diagram(), end="")
