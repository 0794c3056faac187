"""Rating one outgoing fax call: time by destination and increments, fees, pages, ErrorPages.

The call record decides which rules apply, in this order:
  never connected -> the unanswered fee (busy, no answer), or nothing;
  connected, failed before any page was confirmed -> the failed-call policy;
  otherwise -> time (+ minimum top-up) + connect fee + confirmed pages, with resent ErrorPages
  charged or not by the ErrorPage policy and pages never confirmed not charged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .charges import (
    Charge,
    display_quantity,
    format_duration,
    note_line,
    plural,
    priced_line,
)
from .destinations import Destination
from .errors import NotPriced
from .money import format_price
from .rates import (
    DestinationRate,
    ErrorPagePolicy,
    FailedCallPolicy,
    FaxOutRates,
    RateTable,
)
from .timebands import TimeBand, band_at
from .usage import FaxCallUsage, PageOutcome, PageResult, Service

FAX = Service.FAX_OUT
ONE = Decimal(1)


def billed_seconds(duration_s: int, first: int, following: int) -> int:
    """Duration rounded up to whole increments: 61 s at 60/60 is 120 s, at 30/6 is 66 s."""
    if duration_s <= 0:
        return 0
    if duration_s <= first:
        return first
    return first + -(-(duration_s - first) // following) * following


def rate_fax_out(table: RateTable, zone: ZoneInfo, destination: Destination,
                 usage: FaxCallUsage) -> list[Charge]:
    rates = table.fax_out
    if rates is None:
        raise NotPriced("outgoing faxes", table.version)
    entry = rates.rate_for(destination, table.version)
    call = _Call(table, rates, entry, destination, usage, zone)
    if usage.connected_at is None:
        return call.unanswered()
    tally = _PageTally(usage.pages)
    if not usage.completed and not tally.confirmed:
        return call.failed()
    return [*call.time(), *call.connect_fee(), *call.pages(tally)]


class _PageTally:
    """The transmissions of one call, counted in one pass."""

    def __init__(self, pages: tuple[PageOutcome, ...]):
        confirmed: set[int] = set()
        resent: dict[int, int] = {}  # page -> how many times the receiver rejected it
        sent: set[int] = set()
        last: dict[int, PageResult] = {}
        for p in pages:
            sent.add(p.page)
            last[p.page] = p.result
            if p.result is PageResult.CONFIRMED:
                confirmed.add(p.page)
            elif p.result is PageResult.ERROR_PAGE:
                resent[p.page] = resent.get(p.page, 0) + 1
        self.confirmed = sorted(confirmed)
        self.resent = dict(sorted(resent.items()))
        #: Rejected and not sent again in this call (the far end hung up; a later call resends).
        self.not_resent = {p for p in resent if last[p] is PageResult.ERROR_PAGE}
        self.lost = sorted(sent - confirmed - resent.keys())


@dataclass(frozen=True, slots=True)
class _TimeCharge:
    """What a time line says and costs, given only the entry, the band and the duration."""

    billed_s: int
    price: Decimal
    quantity: Decimal
    amount: Decimal
    text: str  #: after the destination label: ", 3 min 12 s → 4 × 60 s at 8.00/min = 32.00"
    inputs: dict[str, Any]  #: copied into each line's inputs, never changed


def _time_charge(table: RateTable, entry: DestinationRate, band: TimeBand | None,
                 duration_s: int) -> _TimeCharge:
    key = (entry.match, band.name if band else None, duration_s)
    cached = table.time_charges.get(key)
    if cached is not None:
        return cached
    first, following = entry.first_increment_s, entry.next_increment_s
    billed = billed_seconds(duration_s, first, following)
    price = entry.per_minute * band.factor if band else entry.per_minute
    rate = f"{format_price(price)}/min"
    if band:
        rate += f" ({band.name} rate: {format_price(entry.per_minute)} × {band.factor})"
    # 61 s in 1-second blocks is 1.01666... min: the amount comes from the exact product
    amount = table.money.round(price * billed / 60)
    text = (f", {format_duration(duration_s)} → {_blocks(billed, first, following)} at {rate}"
            f" = {format_price(amount)}")
    inputs = {"duration_s": duration_s, "billed_s": billed, "first_increment_s": first,
              "next_increment_s": following, "per_minute": str(entry.per_minute),
              "band": band.name if band else None,
              "band_factor": str(band.factor) if band else None}
    charge = _TimeCharge(billed, price, display_quantity(Decimal(billed) / 60), amount, text,
                         inputs)
    if len(table.time_charges) > 100_000:  # bounded: a runaway range of durations
        table.time_charges.clear()
    table.time_charges[key] = charge
    return charge


class _Call:
    """The pieces of one call's rating; each returns the lines it contributes."""

    def __init__(self, table: RateTable, rates: FaxOutRates, entry: DestinationRate,
                 destination: Destination, usage: FaxCallUsage, zone: ZoneInfo):
        self.table, self.rates, self.entry, self.usage = table, rates, entry, usage
        self.money, self.version = table.money, table.version
        self.label = f"+{destination.calling_code} {entry.name}"
        self.local_start = usage.started_at.astimezone(zone)
        self.inputs: dict[str, Any] = {
            "dialed": usage.dialed,
            "e164": destination.e164,
            "region": destination.region,
            "call_class": destination.call_class.value,
            "started_at_local": self.local_start.isoformat(),
        }

    def _note(self, text: str, rule: str, **extra: Any) -> Charge:
        return note_line(FAX, text, rule, self.version, {**self.inputs, **extra}, self.money)

    def _fee(self, text: str, unit: str, price: Decimal, rule: str, **extra: Any) -> Charge:
        return priced_line(self.money, FAX, lambda amount: text, ONE, unit, price, rule,
                           self.version, {**self.inputs, **extra})

    def _same_for_every_call(self, rule: str, quantity: int, build: Callable[[], Charge],
                             **extra: Any) -> Charge:
        """A line whose text and amount depend only on the table (connect fee, n pages): priced
        once per table, then given this call's inputs."""
        cache = self.table.fee_lines
        line = cache.get((rule, quantity))
        if line is None:
            line = cache[(rule, quantity)] = build()
        return Charge(FAX, line.description, line.quantity, line.unit, line.unit_price,
                      line.amount, line.rule, line.rate_version, {**self.inputs, **extra})

    def unanswered(self) -> list[Charge]:
        reason = self.usage.hangup_reason or "no connection"
        fee = self.rates.unanswered_fee
        if fee is None:
            return [self._note(f"{self.label}, {reason}: not charged", "fax_out.unanswered_fee",
                               hangup_reason=reason)]
        return [self._fee(f"{self.label}, {reason}: attempt fee {format_price(fee)}", "attempt",
                          fee, "fax_out.unanswered_fee", hangup_reason=reason)]

    def failed(self) -> list[Charge]:
        policy = self.rates.failed_call
        reason = self.usage.hangup_reason or "call ended"
        outcome = {
            FailedCallPolicy.FREE: "not charged",
            FailedCallPolicy.CONNECT_FEE: "connect fee only",
            FailedCallPolicy.TIME: "time used and connect fee, no pages",
        }[policy]
        note = self._note(f"{self.label}, failed before any page was confirmed ({reason}): "
                          f"{outcome}", "fax_out.failed_call", hangup_reason=reason,
                          policy=policy.value)
        time = self.time() if policy is FailedCallPolicy.TIME else []
        fee = self.connect_fee() if policy is not FailedCallPolicy.FREE else []
        return [note, *time, *fee]

    def time(self) -> list[Charge]:
        entry, duration = self.entry, self.usage.duration_s
        band = band_at(self.rates.time_bands, self.table.calendar, self.local_start)
        t = _time_charge(self.table, entry, band, duration)
        line = Charge(FAX, self.label + t.text, t.quantity, "min", t.price, t.amount, entry.rule,
                      self.version, {**self.inputs, **t.inputs})
        if t.amount >= entry.minimum:
            return [line]
        top_up = entry.minimum - t.amount
        return [line, self._fee(f"below the minimum charge {format_price(entry.minimum)}: "
                                f"+{format_price(top_up)}", "call", top_up,
                                f"{entry.rule}.minimum", minimum=str(entry.minimum))]

    def connect_fee(self) -> list[Charge]:
        fee = self.rates.connect_fee
        if not fee:
            return []
        rule = "fax_out.connect_fee"
        return [self._same_for_every_call(
            rule, 1, lambda: self._fee(f"connect fee {format_price(fee)}", "call", fee, rule))]

    def pages(self, tally: _PageTally) -> list[Charge]:
        per_page, lines = self.rates.per_page, []
        count = len(tally.confirmed)
        if count and per_page:
            lines.append(self._same_for_every_call("fax_out.per_page", count, lambda: priced_line(
                self.money, FAX,
                lambda amount: f"{plural(count, 'page')} × {format_price(per_page)} = {amount}",
                count, "page", per_page, "fax_out.per_page", self.version, {}),
                pages_confirmed=tally.confirmed))
        if tally.resent:
            lines.append(self._error_pages(tally.resent, tally.not_resent))
        if tally.lost:
            lines.append(self._note(f"{_pages(tally.lost)} not confirmed (line dropped), not charged",
                                    "fax_out.per_page", pages_unconfirmed=tally.lost))
        return lines

    def _error_pages(self, resent: dict[int, int], not_resent: set[int]) -> Charge:
        def which(pages: list[int]) -> str:
            listed = ", ".join(f"{p}" + (f" ({resent[p]} times)" if resent[p] > 1 else "") for p in pages)
            return f"{'page' if len(pages) == 1 else 'pages'} {listed}"

        again = [p for p in resent if p not in not_resent]
        parts = ([f"{which(again)} resent"] if again else []) + (
            [f"{which(sorted(not_resent))} rejected, not resent in this call"] if not_resent else [])
        text = f"{'; '.join(parts)} (ErrorPage)"
        extra = {"error_pages": [p for p, n in resent.items() for _ in range(n)],
                 "not_resent": sorted(not_resent), "policy": self.rates.error_pages.value}
        if self.rates.error_pages is ErrorPagePolicy.NOT_CHARGED:
            return self._note(f"{text}, not charged", "fax_out.error_pages", **extra)
        count, per_page = sum(resent.values()), self.rates.per_page
        return priced_line(
            self.money, FAX,
            lambda amount: f"{text}, charged: {count} × {format_price(per_page)} = {amount}",
            count, "page", per_page, "fax_out.error_pages", self.version, {**self.inputs, **extra})


def _blocks(billed: int, first: int, following: int) -> str:
    if billed == 0:
        return "0 s"
    if first == following:
        return f"{billed // first} × {first} s"
    if billed == first:
        return f"{first} s"
    return f"{first} s + {(billed - first) // following} × {following} s"


def _pages(pages: list[int]) -> str:
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(map(str, pages))
