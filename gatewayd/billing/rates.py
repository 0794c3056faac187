"""Rate tables: the price list, versioned by effective date.

A job is rated by the table in force when it ran (``RateBook.in_force``), so a new price list
never changes an old bill. Effective times are the site's wall-clock time, as the price list is
written; the zone is applied at lookup, so the section parses without the ``[site]`` table. ``rates_config.parse_rates`` builds a book from the config; this
module is the model and the lookups rating needs.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .destinations import CallClass, Destination
from .errors import InvalidUsage, NoRateForDestination, NoRateTableInForce
from .money import MoneyRule
from .timebands import Calendar, TimeBand
from .usage import Colour


class MatchKind(enum.Enum):
    """How a fax-out destination entry picks numbers (one key per entry in the config)."""

    PREFIX = "prefix"  #: an E.164 prefix: "+852", "+1264"; the longest matching one wins
    REGION = "region"  #: an ISO region, to split a shared code: +1 "CA" apart from the USA
    CLASS = "class"  #: "local" / "national" / "international" (the catch-all abroad)


class ErrorPagePolicy(enum.Enum):
    NOT_CHARGED = "not_charged"  #: the receiver rejected it and we resent it: our cost
    CHARGED = "charged"  #: every transmission is a page sent


class FailedCallPolicy(enum.Enum):
    """What a call costs that connected but failed before any page was confirmed."""

    FREE = "free"
    CONNECT_FEE = "connect_fee"  #: the connect/service fee only
    TIME = "time"  #: the time used and the connect fee, no page fees


@dataclass(frozen=True, slots=True)
class DestinationRate:
    kind: MatchKind
    match: str  #: as the table wrote it: "+852", "CA", "local"
    name: str  #: "Hong Kong 香港"
    per_minute: Decimal
    first_increment_s: int  #: the first billed block: 60 in "60/60", 30 in "30/6"
    next_increment_s: int
    minimum: Decimal  #: the time charge is topped up to this

    @property
    def rule(self) -> str:
        return f"fax_out.destinations[{self.match}]"


@dataclass(frozen=True, slots=True)
class FaxOutRates:
    destinations: tuple[DestinationRate, ...]
    connect_fee: Decimal = Decimal(0)
    per_page: Decimal = Decimal(0)
    unanswered_fee: Decimal | None = None  #: busy / no answer; None: such attempts are free
    error_pages: ErrorPagePolicy = ErrorPagePolicy.NOT_CHARGED
    failed_call: FailedCallPolicy = FailedCallPolicy.FREE
    time_bands: tuple[TimeBand, ...] = ()
    # Lookup indexes, built once: longest-prefix matching is a handful of dict probes.
    _prefixes: dict[str, DestinationRate] = field(init=False, repr=False, compare=False)
    _prefix_lengths: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _others: dict[str, DestinationRate] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prefixes = {d.match[1:]: d for d in self.destinations if d.kind is MatchKind.PREFIX}
        # keyed "class:local", "region:CA": str keys hash from a cache, enum tuples do not
        others = {f"{d.kind.value}:{d.match}": d for d in self.destinations
                  if d.kind is not MatchKind.PREFIX}
        object.__setattr__(self, "_prefixes", prefixes)
        object.__setattr__(self, "_prefix_lengths", tuple(sorted({len(p) for p in prefixes}, reverse=True)))
        object.__setattr__(self, "_others", others)

    def rate_for(self, destination: Destination, version: str) -> DestinationRate:
        """The entry pricing this number: for calls at home the class entry (local, else
        national), then a region entry (it names one country exactly), then the longest prefix,
        then for calls abroad the ``international`` catch-all."""
        others = self._others
        call_class = destination.call_class
        if call_class is not CallClass.INTERNATIONAL:
            for key in (f"class:{call_class.value}", "class:national"):
                entry = others.get(key)
                if entry is not None:
                    return entry
        if destination.region is not None:
            entry = others.get(f"region:{destination.region}")
            if entry is not None:
                return entry
        digits = destination.e164[1:]
        for length in self._prefix_lengths:
            entry = self._prefixes.get(digits[:length])
            if entry is not None:
                return entry
        if call_class is CallClass.INTERNATIONAL:
            entry = others.get("class:international")
            if entry is not None:
                return entry
        raise NoRateForDestination(destination.e164, version)


@dataclass(frozen=True, slots=True)
class SidePrice:
    media: str  #: "A4", as the table wrote it; matched case-insensitively
    colour: Colour
    simplex: Decimal  #: per printed side of a one-sided sheet
    duplex: Decimal  #: per printed side of a two-sided sheet (often cheaper: half the paper)


@dataclass(frozen=True, slots=True)
class SideRates:
    """Print or copy prices: per side by media and colour; sets multiply."""

    prices: tuple[SidePrice, ...]
    scaling_surcharge: Decimal = Decimal(0)  #: per side of an enlarged/reduced copy
    _index: dict[tuple[str, Colour], SidePrice] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {(p.media.casefold(), p.colour): p for p in self.prices}
        object.__setattr__(self, "_index", index)

    def price_for(self, media: str, colour: Colour) -> SidePrice | None:
        return self._index.get((media.casefold(), colour))


@dataclass(frozen=True, slots=True)
class PerPage:
    """Fax-in pickup and typing: a price per page."""

    per_page: Decimal


@dataclass(frozen=True, slots=True)
class ErrandRates:
    """Errands pass the quoted fee through and add the service charge: flat + rate x fee."""

    service_charge: Decimal = Decimal(0)
    service_rate: Decimal = Decimal(0)  #: 0.10 = 10 % of the quoted fee


@dataclass(frozen=True, slots=True)
class MeetingRoomRates:
    """Meeting rooms by booked time: per hour (by room, else the default), in blocks, with a
    minimum; extras (tea service per cup, a projector) at a price per unit booked."""

    per_hour: Decimal
    room_per_hour: dict[str, Decimal] = field(default_factory=dict, hash=False)  #: by room name
    increment_min: int = 30  #: booked time is counted in blocks of this many minutes, rounded up
    minimum_hours: Decimal = Decimal(1)
    extras: dict[str, Decimal] = field(default_factory=dict, hash=False)  #: "tea" -> per unit


@dataclass(frozen=True, slots=True)
class RateTable:
    version: str  #: "2025-01", named on every charge line priced by it
    effective: datetime  #: naive: wall-clock time at the site
    money: MoneyRule
    calendar: Calendar
    fax_out: FaxOutRates | None = None
    fax_in: PerPage | None = None
    print: SideRates | None = None
    copy: SideRates | None = None
    typing: PerPage | None = None
    errand: ErrandRates | None = None
    meeting_room: MeetingRoomRates | None = None
    #: fax_out's time charges by (destination match, band name, seconds): rating runs for every
    #: call and quote, and a table prices the same few durations over and over (bench/rating.py)
    time_charges: dict[tuple[str, str | None, int], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    #: fax_out's call-independent lines (connect fee, n pages) by (rule, quantity)
    fee_lines: dict[tuple[str, int], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RateBook:
    tables: tuple[RateTable, ...]  #: sorted by effective time
    #: what ``gatewayd rates check`` should point out (a destination dropped by omission...)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    _starts: dict[ZoneInfo, tuple[datetime, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(sorted(self.tables, key=lambda t: t.effective)))

    def in_force(self, at: datetime, zone: ZoneInfo) -> RateTable:
        """The table that took effect last at or before ``at`` (aware, any zone); effective
        times are wall-clock times in the site's ``zone``."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidUsage(f"rating time must be timezone-aware, got {at.isoformat()}")
        starts = self._starts.get(zone)
        if starts is None:  # once per zone; in UTC, as call records are, for a cheap compare
            starts = tuple(t.effective.replace(tzinfo=zone).astimezone(UTC)
                           for t in self.tables)
            self._starts[zone] = starts
        index = bisect.bisect_right(starts, at)
        if index == 0:
            raise NoRateTableInForce(at)
        return self.tables[index - 1]
