"""Parsing and validating the config's ``rates`` section into a ``RateBook``.

Every problem is collected with its dotted key relative to ``rates`` (``tables[1].fax_out.
destinations[3].per_minute``) and raised together as ``drivers.ConfigProblems``. The section's
shape is documented by ``config/rates.toml``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

import phonenumbers

from drivers import ConfigProblems

from ._config import Reader, describe
from .destinations import CallClass
from .money import MoneyRule, Rounding
from .rates import (
    DestinationRate,
    ErrandRates,
    ErrorPagePolicy,
    FailedCallPolicy,
    FaxOutRates,
    MatchKind,
    MeetingRoomRates,
    PerPage,
    RateBook,
    RateTable,
    SidePrice,
    SideRates,
)
from .timebands import Calendar, DayType, TimeBand
from .usage import Colour

_PREFIX = re.compile(r"\+[1-9]\d{0,14}")


def parse_rates(section: dict[str, Any]) -> RateBook:
    """The ``rates`` section (a dict from tomllib) as a RateBook; raises ``ConfigProblems``."""
    problems: list[tuple[str, str]] = []
    r = Reader(section, "", problems)
    default_money = _money_rule(r, MoneyRule())
    calendar = Calendar(holidays=r.dates("holidays"), working_days=r.dates("working_days"))
    tables: list[RateTable] = []
    written: dict[str, dict[str, Any]] = {}  # each table as written, its inheritance resolved
    removed: dict[str, set[str]] = {}  # what each table removes explicitly
    for t in r.tables("tables", required=True):
        t, removed[t.data.get("version", "")] = _inherit(t, written)
        table = _table(t, default_money, calendar)
        written[table.version] = t.data
        tables.append(table)
        t.done()
    if r.has("tables") and not tables and not problems:
        r.problem("tables", "at least one rate table is required")
    _unique(r, tables, "version", lambda t: t.version)
    _unique(r, tables, "effective", lambda t: t.effective)
    r.done()
    if problems:
        raise ConfigProblems(problems)
    book = RateBook(tuple(tables))
    return dataclasses.replace(book, warnings=_omissions(book, removed))


def _unique(r: Reader, tables: list[RateTable], key: str, value: Any) -> None:
    first: dict[Any, int] = {}
    for i, table in enumerate(tables):
        j = first.setdefault(value(table), i)
        if j != i:
            r.problem(f"tables[{i}].{key}", f"same as tables[{j}].{key} ({value(table)}); "
                      f"each table needs its own")


_SERVICES = ("fax_out", "fax_in", "print", "copy", "typing", "errand", "meeting_room")


#: Arrays of tables a newer table inherits entry by entry, and what names an entry there.
_KEYED = {
    "destinations": lambda d: str(next((d[k] for k in ("prefix", "region", "class") if k in d), "")),
    "time_bands": lambda b: str(b.get("name", "")),
    "prices": lambda p: f"{p.get('media', '')} {p.get('colour', 'mono')}",
}


def _inherit(r: Reader, written: dict[str, dict[str, Any]]) -> tuple[Reader, set[str]]:
    """``based_on = "2025-01"``: the table is that earlier table with this one's keys on top,
    key by key -- a section repeats only what changed, a destination, time band or price row
    replaces the one of the same prefix/region/class, name or media and colour, and the others
    are inherited unless listed in ``remove_destinations``, ``remove_time_bands`` or
    ``remove_prices``. Returns the reader of the resolved table and what it removes."""
    base_version = r.text("based_on", default=None)
    if base_version is None:
        return r, set()
    base = written.get(base_version)
    if base is None:
        listed = ", ".join(repr(v) for v in written) or "none"
        r.problem("based_on", f"must name a table listed before this one ({listed}), "
                  f"got {base_version!r}")
        return r, set()
    removed: set[str] = set()
    merged = _merge(r, {k: v for k, v in base.items() if k != "based_on"}, r.data, removed)
    resolved = Reader(merged, r.path, r.problems)
    resolved.raw("based_on")
    return resolved, removed


def _merge(r: Reader, base: dict[str, Any], new: dict[str, Any], removed: set[str]) -> dict[str, Any]:
    out = dict(base)
    for key, value in new.items():
        old = base.get(key)
        if key.startswith("remove_") and key[len("remove_"):] in _KEYED:
            continue
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = _merge(Reader(value, r.key(key), r.problems), old, value, removed)
        elif key in _KEYED and isinstance(value, list) and isinstance(old, list):
            name = _KEYED[key]
            mine = {name(e).casefold(): e for e in value if isinstance(e, dict)}
            kept = [mine.pop(name(e).casefold(), e) for e in old if isinstance(e, dict)]
            out[key] = kept + [e for e in value if isinstance(e, dict) and name(e).casefold() in mine]
        else:
            out[key] = value
    for key, name in _KEYED.items():
        drop = new.get(f"remove_{key}")
        if drop is None:
            continue
        if not isinstance(drop, list) or not all(isinstance(d, str) for d in drop):
            r.problem(f"remove_{key}", f"must be a list of strings, got {describe(drop)}")
            continue
        present = {name(e).casefold() for e in out.get(key, [])}
        for unknown in sorted(d for d in drop if d.casefold() not in present):
            r.problem(f"remove_{key}", f"{unknown!r} is not in the table this one is based on")
        out[key] = [e for e in out.get(key, []) if name(e).casefold() not in {d.casefold() for d in drop}]
        removed.update(d.casefold() for d in drop)
    return out


def _omissions(book: RateBook, removed: dict[str, set[str]]) -> tuple[str, ...]:
    """Destinations and time bands a table lacks that the table before it priced, without
    removing them explicitly: those calls now fall to a broader row (or no band) -- most often
    a newer table written without ``based_on``. ``gatewayd rates check`` prints these."""
    warnings = []
    for older, newer in zip(book.tables, book.tables[1:]):
        if older.fax_out is None:
            continue
        had = {d.match: d.name for d in older.fax_out.destinations} | {b.name: b.name for b in older.fax_out.time_bands}
        has = set() if newer.fax_out is None else (
            {d.match for d in newer.fax_out.destinations} | {b.name for b in newer.fax_out.time_bands})
        for key, label in had.items():
            if key not in has and key.casefold() not in removed.get(newer.version, set()):
                what = "time band" if any(b.name == key for b in older.fax_out.time_bands) else "destination"
                warnings.append(f"table {newer.version} has no fax_out {what} {label!r} ({key}) that "
                                f"{older.version} priced: by omission, not removed (remove_destinations / "
                                f"remove_time_bands), so those calls are priced differently; use based_on "
                                f"= {older.version!r} to inherit it")
    return tuple(warnings)


def _money_rule(r: Reader, default: MoneyRule) -> MoneyRule:
    rounding = r.choice("rounding", Rounding, default=default.rounding)
    quantum = r.decimal("quantum", default=default.quantum, example="0.01")
    if quantum.is_zero() or quantum.normalize().as_tuple().digits != (1,):
        r.problem("quantum", f"must be a power of ten like '0.01' or '0.1', got {describe(r.data.get('quantum'))}")
        quantum = default.quantum
    return MoneyRule(quantum, rounding)


def _table(r: Reader, default_money: MoneyRule, calendar: Calendar) -> RateTable:
    version = r.text("version") or ""
    table = RateTable(
        version=version,
        effective=_effective(r),
        money=_money_rule(r, default_money),
        calendar=calendar,
        fax_out=_section(r, "fax_out", _fax_out),
        fax_in=_section(r, "fax_in", _per_page),
        print=_section(r, "print", _sides),
        copy=_section(r, "copy", _sides),
        typing=_section(r, "typing", _per_page),
        errand=_section(r, "errand", _errand),
        meeting_room=_section(r, "meeting_room", _meeting_room),
    )
    return table


def _section(r: Reader, key: str, parse: Any) -> Any:
    sub = r.table(key)
    if sub is None:
        return None
    value = parse(sub)
    sub.done()
    return value


def _effective(r: Reader) -> dt.datetime:
    """Midnight for a date; a local date-time as given. An offset is refused: the price list
    is written in the site's time, and a stray +00:00 would shift it by hours."""
    value = r.raw("effective")
    expected = "a local date like 2025-01-01 or local date-time like 2025-01-01T08:00:00"
    if value is None:
        r.problem("effective", f"required: {expected}")
    elif isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value
        r.problem("effective", f"must be the site's local time without an offset, "
                  f"got {value.isoformat()}")
    elif isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0))
    else:
        r.problem("effective", f"must be {expected}, got {describe(value)}")
    return dt.datetime.min


def _fax_out(r: Reader) -> FaxOutRates:
    first = r.whole("first_increment_s", default=60, minimum=1, unit="seconds")
    following = r.whole("next_increment_s", default=60, minimum=1, unit="seconds")
    minimum = r.decimal("minimum", default=Decimal(0))
    entries = [_destination(d, first, following, minimum) for d in r.tables("destinations", required=True)]
    if r.has("destinations") and not entries:
        r.problem("destinations", "at least one destination is required")
    seen: dict[tuple[MatchKind, str], int] = {}
    for i, entry in enumerate(entries):
        j = seen.setdefault((entry.kind, entry.match), i)
        if j != i and entry.match:
            r.problem(f"destinations[{i}].{entry.kind.value}", f"same as destinations[{j}] ({entry.match!r})")
    unanswered = r.decimal("unanswered_fee", default=None)
    return FaxOutRates(
        destinations=tuple(entries),
        connect_fee=r.decimal("connect_fee", default=Decimal(0)),
        per_page=r.decimal("per_page", default=Decimal(0)),
        unanswered_fee=unanswered,
        error_pages=r.choice("error_pages", ErrorPagePolicy, default=ErrorPagePolicy.NOT_CHARGED),
        failed_call=r.choice("failed_call", FailedCallPolicy, default=FailedCallPolicy.FREE),
        time_bands=_time_bands(r),
    )


def _destination(r: Reader, first: int, following: int, minimum: Decimal) -> DestinationRate:
    given = [kind for kind in MatchKind if r.raw(kind.value) is not None]
    kind, match = MatchKind.PREFIX, ""
    if len(given) != 1:
        named = ", ".join(repr(k.value) for k in given) or "none"
        r.problem("", f"give exactly one of 'prefix', 'region', 'class'; got {named}")
    else:
        kind = given[0]
        match = _match(r, kind)
    entry = DestinationRate(
        kind=kind,
        match=match,
        name=r.text("name", default=match),
        per_minute=r.decimal("per_minute"),
        first_increment_s=r.whole("first_increment_s", default=first, minimum=1, unit="seconds"),
        next_increment_s=r.whole("next_increment_s", default=following, minimum=1, unit="seconds"),
        minimum=r.decimal("minimum", default=minimum),
    )
    r.done()
    return entry


def _match(r: Reader, kind: MatchKind) -> str:
    value = r.raw(kind.value)
    if kind is MatchKind.PREFIX:
        ok = isinstance(value, str) and _PREFIX.fullmatch(value) and _starts_with_calling_code(value)
        expected = "'+' and a country calling code, then any digits, like '+852' or '+1264'"
    elif kind is MatchKind.REGION:
        ok = isinstance(value, str) and phonenumbers.country_code_for_region(value) != 0
        expected = "an ISO 3166 region code like 'CA'"
    else:
        ok = value in tuple(c.value for c in CallClass)
        expected = "one of 'local', 'national', 'international'"
    if not ok:
        r.problem(kind.value, f"must be {expected}, got {describe(value)}")
        return ""
    return value


def _starts_with_calling_code(prefix: str) -> bool:
    digits = prefix[1:]
    return any(int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
               for n in (1, 2, 3) if len(digits) >= n)


def _time_bands(r: Reader) -> tuple[TimeBand, ...]:
    bands = [_time_band(b) for b in r.tables("time_bands")]
    first: dict[str, int] = {}
    for i, band in enumerate(bands):  # the name is on the charge line: two "night"s would lie
        j = first.setdefault(band.name, i)
        if j != i:
            r.problem(f"time_bands[{i}].name", f"same as time_bands[{j}] ({band.name!r})")
    return tuple(bands)


def _time_band(r: Reader) -> TimeBand:
    days = r.strings("days", tuple(d.value for d in DayType), tuple(d.value for d in DayType))
    start, end = r.time_of_day("from"), r.time_of_day("until")
    if r.has("from") != r.has("until"):
        r.problem("", "give both 'from' and 'until', or neither for the whole day")
        start = end = None
    elif start is not None and start == end:
        r.problem("until", "equals 'from'; leave both out for the whole day")
    band = TimeBand(
        name=r.text("name"),
        factor=r.decimal("factor", example="0.60"),
        days=frozenset(DayType(d) for d in days),
        start=start,
        end=end,
    )
    r.done()
    return band


def _per_page(r: Reader) -> PerPage:
    return PerPage(per_page=r.decimal("per_page"))


def _errand(r: Reader) -> ErrandRates:
    return ErrandRates(
        service_charge=r.decimal("service_charge", default=Decimal(0)),
        service_rate=r.decimal("service_rate", default=Decimal(0), example="0.10"),
    )


def _meeting_room(r: Reader) -> MeetingRoomRates:
    return MeetingRoomRates(
        per_hour=r.decimal("per_hour"),
        room_per_hour=_prices(r, "room_per_hour"),
        increment_min=r.whole("increment_min", default=30, minimum=1, unit="minutes"),
        minimum_hours=r.decimal("minimum_hours", default=Decimal(1), example="1"),
        extras=_prices(r, "extras"),
    )


def _prices(r: Reader, key: str) -> dict[str, Decimal]:
    """A table of name = "price" pairs (rooms by name, extras by name)."""
    sub = r.table(key)
    if sub is None:
        return {}
    prices = {name: sub.decimal(name) for name in sub.data}
    sub.done()
    return prices


def _sides(r: Reader) -> SideRates:
    prices = [_side_price(p) for p in r.tables("prices", required=True)]
    seen: dict[tuple[str, Colour], int] = {}
    for i, price in enumerate(prices):
        j = seen.setdefault((price.media.casefold(), price.colour), i)
        if j != i:
            r.problem(f"prices[{i}]", f"same media and colour as prices[{j}] "
                      f"({price.media} {price.colour.value})")
    return SideRates(tuple(prices), scaling_surcharge=r.decimal("scaling_surcharge", default=Decimal(0)))


def _side_price(r: Reader) -> SidePrice:
    simplex = r.decimal("simplex")
    price = SidePrice(
        media=r.text("media") or "",
        colour=r.choice("colour", Colour),
        simplex=simplex,
        duplex=r.decimal("duplex", default=simplex),
    )
    r.done()
    return price
