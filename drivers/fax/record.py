"""The call record: what one fax call did, page by page -- the event the ledger stores and bills.

``FaxCall`` follows the driver contract in ``drivers/__init__.py``: frozen, ``kind`` "fax_call",
``device`` the modem's name, ``occurred_at`` the hang-up time (aware UTC), ``natural_key`` the
call id. A call that delivered 0 of N pages is never ``COMPLETED``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class Direction(enum.Enum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class PageStatus(enum.Enum):
    """What the far end said about one transmission of a page (T.30 post-message responses)."""

    CONFIRMED = "MCF"  #: message confirmation: the page is good
    RETRAIN_POSITIVE = "RTP"  #: good, but retrain before the next page
    RETRAIN_NEGATIVE = "RTN"  #: bad copy quality -- an ErrorPage
    PARTIAL_PAGE_REQUEST = "PPR"  #: ECM: frames lost, resend them -- an ErrorPage
    INTERRUPT_POSITIVE = "PIP"
    INTERRUPT_NEGATIVE = "PIN"
    NO_RESPONSE = "no response"  #: post-page command unanswered after 3 tries
    INTERRUPTED = "interrupted"  #: the line dropped during or right after the page
    RECEIVED_GOOD = "received"  #: receiver: page kept, answered MCF
    RECEIVED_BAD = "received bad"  #: receiver: failed the copy-quality check, answered RTN, kept

    @property
    def delivered(self) -> bool:
        """The far end has the page (or, as receiver, we kept it whole and good)."""
        return self in DELIVERED

    @property
    def error_page(self) -> bool:
        """Is a page sent and so answered an ErrorPage (错页)? Decided here only: the T.30 sender
        flags its pages by it, and billing reads a stored call's answers by it. (A page we
        *received* is one when a copy of it failed our quality check: rebuilt by ECM it is exact,
        so its PPRs do not make it one -- ``pages.received_page_results``.)"""
        return self in ERROR_ANSWERS


#: Answers that mean the far end has the page.
DELIVERED = frozenset({PageStatus.CONFIRMED, PageStatus.RETRAIN_POSITIVE,
                       PageStatus.INTERRUPT_POSITIVE, PageStatus.RECEIVED_GOOD})
#: Answers that make the page an ErrorPage (错页) in the register.
ERROR_ANSWERS = frozenset({PageStatus.RETRAIN_NEGATIVE, PageStatus.PARTIAL_PAGE_REQUEST,
                           PageStatus.INTERRUPT_NEGATIVE, PageStatus.RECEIVED_BAD})


@dataclass(frozen=True)
class PageAttempt:
    attempt: int  #: 1 for the first transmission of the page
    status: PageStatus
    bit_rate: int
    resolution: str
    ecm: bool = False
    good_lines: int | None = None  #: receiver's copy-quality check, when known
    bad_lines: int | None = None


@dataclass(frozen=True)
class PageResult:
    page: int  #: 1-based page number in the job
    attempts: tuple[PageAttempt, ...]
    #: The far end has (or, as receiver, we received whole) this page. With the ``ignore`` RTN
    #: policy a page answered RTN also counts as delivered, still flagged ``error_page``; so
    #: does an ECM block given up with EOR. A received page the line cut short is kept (and
    #: stored) but not delivered: its attempt says ``INTERRUPTED``.
    delivered: bool
    #: Some attempt was answered RTN/PPR (or, received, failed the quality check).
    error_page: bool


class CallStatus(enum.Enum):
    COMPLETED = "completed"  #: every page delivered
    PARTIAL = "partial"  #: some pages delivered, not all
    FAILED = "failed"  #: no page delivered (or, received, none kept)


class HangupCode(enum.Enum):
    """Why the call ended. ``NORMAL`` is the only success."""

    NORMAL = "normal"
    BUSY = "busy"
    NO_ANSWER = "no answer"
    NO_DIALTONE = "no dialtone"
    NO_CARRIER = "no carrier"  #: dialled, answered, but no fax tones
    NO_FAX_PEER = "no DIS/DCS within T1"  #: T.30 T1 (35 s) expired in phase B
    INCOMPATIBLE = "incompatible"  #: no common modulation/page format
    TRAINING_FAILED = "training failed"  #: FTT at the lowest speed, or 3 unanswered DCS
    NO_RESPONSE = "no response"  #: a command went unanswered 3 times
    RTN_GIVE_UP = "RTN give up"  #: ErrorPage policy gave up on a page
    #: The far end answered a page RTN, then hung up instead of retraining for its resend
    #: (spandsp does after RTN on the last page): the page goes again on the next call.
    RTN_REFUSED = "RTN resend refused"
    REMOTE_DISCONNECT = "remote disconnect"  #: DCN where a response was due
    CARRIER_LOST = "carrier lost"  #: far end hung up mid-page / mid-procedure
    PROTOCOL_ERROR = "protocol error"  #: frames we could not make sense of
    MODEM_ERROR = "modem error"  #: local: port closed, modem mute, ERROR to a command


@dataclass(frozen=True)
class HangupCause:
    code: HangupCode
    reason: str  #: for people: what happened, in a sentence
    phase: str = ""  #: T.30 phase (A-E) the call was in
    modem_result: str | None = None  #: the modem's result code, when one caused it


@dataclass(frozen=True)
class FaxCall:
    kind: ClassVar[str] = "fax_call"
    device: str
    occurred_at: datetime  #: hang-up time, aware UTC
    call_id: str
    direction: Direction
    status: CallStatus
    hangup: HangupCause
    number: str = ""  #: dialled (outgoing) or called number
    caller_id: str = ""  #: incoming: NMBR= from the modem
    caller_name: str = ""
    remote_station_id: str = ""  #: CSI (we sent) or TSI (we received)
    dialled_at: datetime | None = None
    connected_at: datetime | None = None
    hung_up_at: datetime | None = None
    duration_s: float = 0.0  #: connect to hang-up (what the carrier bills); 0 if never connected
    bit_rate: int = 0  #: last negotiated
    resolution: str = ""
    ecm: bool = False
    pages_requested: int = 0  #: outgoing: pages in the job
    pages: tuple[PageResult, ...] = ()
    job_id: str | None = None  #: outgoing: the job the call was made for (gatewayd knows its ticket)
    #: incoming: where the received pages were stored (TIFF Class F), if anywhere
    document_path: str | None = None

    @property
    def natural_key(self) -> str:
        return self.call_id

    @property
    def pages_delivered(self) -> int:
        return sum(1 for p in self.pages if p.delivered)

    @property
    def error_pages(self) -> tuple[int, ...]:
        return tuple(p.page for p in self.pages if p.error_page)


def call_status(pages: tuple[PageResult, ...], requested: int | None) -> CallStatus:
    """COMPLETED only if every requested page (or, received, every page) was delivered."""
    delivered = sum(1 for p in pages if p.delivered)
    total = requested if requested is not None else len(pages)
    if delivered == 0:
        return CallStatus.FAILED
    return CallStatus.COMPLETED if delivered >= total else CallStatus.PARTIAL
