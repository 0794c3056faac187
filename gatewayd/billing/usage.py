"""What rating is asked to price: small frozen records built from device events or ticket forms.

Times are aware UTC (as the ledger stores them); rating converts to the site's zone itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .errors import InvalidUsage


class Service(enum.Enum):
    """What a charge line is for; matches the ticket kinds, plus manual lines."""

    FAX_OUT = "fax_out"
    FAX_IN = "fax_in"
    PRINT = "print"
    COPY = "copy"
    TYPING = "typing"
    ERRAND = "errand"
    MEETING_ROOM = "meeting_room"
    MANUAL = "manual"


class Colour(enum.Enum):
    MONO = "mono"
    COLOUR = "colour"


class PageResult(enum.Enum):
    """How the receiver answered one transmission of one page (T.30 post-page response)."""

    CONFIRMED = "confirmed"  #: MCF: the page arrived
    ERROR_PAGE = "error_page"  #: RTN/PIN: rejected (错页), so the page is sent again
    UNCONFIRMED = "unconfirmed"  #: the line dropped before the receiver answered


@dataclass(frozen=True, slots=True)
class PageOutcome:
    page: int  #: 1-based page number in the document; a resent page repeats its number
    result: PageResult


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidUsage(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _not_negative(**values: int | Decimal) -> None:
    for name, value in values.items():
        if value < 0:
            raise InvalidUsage(f"{name} must not be negative, got {value}")


@dataclass(frozen=True, slots=True)
class FaxCallUsage:
    """One outgoing fax call as its call record tells it (one dial attempt)."""

    dialed: str  #: as staff typed it; resolved through the site's dial plan
    started_at: datetime  #: when dialling began: picks the rate table and the time band
    connected_at: datetime | None  #: None: busy, no answer, no carrier
    duration_s: int  #: connect to hang-up, whole seconds (round up a fractional record)
    pages: tuple[PageOutcome, ...] = ()  #: every transmission in order, resends included
    completed: bool = True  #: False: the call ended before the document was through
    hangup_reason: str = ""  #: the driver's words ("busy", "no answer", "T.30 T2 timeout")

    def __post_init__(self) -> None:
        _aware("started_at", self.started_at)
        _not_negative(duration_s=self.duration_s)
        if self.connected_at is None and (self.duration_s or self.pages):
            raise InvalidUsage("a call that never connected cannot have a duration or pages")


class _CheckedAtAndCounts:
    """Shared check of the small records: an aware ``at`` and no negative count or fee."""

    __slots__ = ()

    def __post_init__(self) -> None:
        _aware("at", self.at)  # type: ignore[attr-defined]
        for name in ("pages", "quoted_fee", "service_charge", "unit_price"):
            value = getattr(self, name, None)
            if value is not None:
                _not_negative(**{name: value})


@dataclass(frozen=True, slots=True)
class FaxInUsage(_CheckedAtAndCounts):
    pages: int
    at: datetime  #: when the fax was received


@dataclass(frozen=True, slots=True)
class PrintUsage:
    """Prints and copies, priced per side: ``sides`` per set, ``sets`` times."""

    service: Service  #: PRINT or COPY
    media: str  #: as the price list names it: "A4", "A3", "B5", "Letter"
    colour: Colour
    duplex: bool
    sides: int  #: printed sides in one set (a duplex sheet has two)
    at: datetime  #: when the job finished (print) or the closing meter reading (copy)
    sets: int = 1
    scale_percent: int = 100  #: enlargement/reduction of a copy; 100 = none

    def __post_init__(self) -> None:
        if self.service not in (Service.PRINT, Service.COPY):
            raise InvalidUsage(f"PrintUsage is for print or copy, not {self.service.value}")
        _aware("at", self.at)
        _not_negative(sides=self.sides, sets=self.sets, scale_percent=self.scale_percent)


@dataclass(frozen=True, slots=True)
class PrintJobUsage:
    """A finished print job, for the desk's print policy (``pages.rate_print_job``)."""

    label: str  #: "job desk-laser-17", named on every line
    outcome: str  #: "completed", "cancelled", "aborted"
    purpose: str | None  #: "proof", "final", or None (no mark)
    media: str  #: as the price list names it
    colour: Colour
    duplex: bool
    billed_sides: int  #: every copy's sides, as the driver counted them
    copies: int
    at: datetime  #: when the job finished
    typing: bool = False  #: on a typing ticket
    typed_pages: int = 0  #: pages of this ticket already charged as typing

    def __post_init__(self) -> None:
        _aware("at", self.at)
        _not_negative(billed_sides=self.billed_sides, typed_pages=self.typed_pages)
        if self.copies < 1:
            raise InvalidUsage(f"copies must be at least 1, got {self.copies}")


@dataclass(frozen=True, slots=True)
class TypingUsage(_CheckedAtAndCounts):
    pages: int  #: final pages typed (proofs are print jobs, billed as prints)
    at: datetime


@dataclass(frozen=True, slots=True)
class ErrandUsage(_CheckedAtAndCounts):
    description: str  #: "courier to Pudong airport"
    quoted_fee: Decimal  #: the fee agreed with the customer, passed through
    at: datetime
    service_charge: Decimal | None = None  #: agreed on the form; None: the table's rule


@dataclass(frozen=True, slots=True)
class MeetingRoomUsage:
    """A meeting-room booking: the room, the booked time, the extras and how many of each."""

    room: str  #: as the price list names it
    starts_at: datetime  #: picks the rate table
    ends_at: datetime
    extras: tuple[tuple[str, int], ...] = ()  #: ("tea", 12), ("projector", 1)

    @property
    def at(self) -> datetime:
        return self.starts_at

    def __post_init__(self) -> None:
        _aware("starts_at", self.starts_at)
        _aware("ends_at", self.ends_at)
        if self.ends_at <= self.starts_at:
            raise InvalidUsage("a booking must end after it starts")
        for name, count in self.extras:
            _not_negative(**{name: count})


@dataclass(frozen=True, slots=True)
class ManualLine(_CheckedAtAndCounts):
    """A line staff typed: priced by them, not by a table, and marked manual on the ticket."""

    service: Service
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal  #: never negative: a discount is a line of its own (tickets.add_discount)
    at: datetime
