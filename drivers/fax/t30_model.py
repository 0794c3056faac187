"""The T.30 engine's vocabulary: its states and the signals that move it, timers, the
ErrorPage (RTN) policy, its configuration, and the call's outcome."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .errors import FaxError
from .frames import FCF, Capabilities, Session, Speed
from .pages import ReceivedPage
from .record import HangupCause, PageAttempt, PageResult, PageStatus
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


def after_bad_page(policy: RtnPolicy, attempts: int) -> RtnMethod:
    """What the sender does with a page answered RTN/PIN (an ErrorPage) after ``attempts``
    transmissions of it: send it again, count it as sent (still flagged), or give up. The one
    place the policy is read, for Class 1 (the T.30 engine) and Class 2 (``class2_modem``)."""
    if policy.method is RtnMethod.RETRANSMIT and attempts > policy.max_retransmits:
        return RtnMethod.GIVEUP
    return policy.method


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
