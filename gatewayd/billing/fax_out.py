"""Rating one outgoing fax call: time by destination and increments, fees, pages, ErrorPages.

The call record decides which rules apply, in this order:
  never connected -> the unanswered fee (busy, no answer), or nothing;
  connected, failed before any page was confirmed -> the failed-call policy;
  otherwise -> time (+ minimum top-up) + connect fee + confirmed pages, with resent ErrorPages
  charged or not by the ErrorPage policy and pages never confirmed not charged.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .charges import Charge, display_quantity, format_duration, note_line, plural, priced_line
from .destinations import Destination
from .errors import NotPriced
from .money import format_price
from .rates import DestinationRate, ErrorPagePolicy, FailedCallPolicy, FaxOutRates, RateTable
from .timebands import band_at
from .usage import FaxCallUsage, PageResult, Service

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
    confirmed = {p.page for p in usage.pages if p.result is PageResult.CONFIRMED}
    if not usage.completed and not confirmed:
        return call.failed()
    return [*call.time(), *call.connect_fee(), *call.pages(confirmed)]


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
        entry, usage = self.entry, self.usage
        first, following = entry.first_increment_s, entry.next_increment_s
        billed = billed_seconds(usage.duration_s, first, following)
        band = band_at(self.rates.time_bands, self.table.calendar, self.local_start)
        price = entry.per_minute * band.factor if band else entry.per_minute
        rate = f"{format_price(price)}/min"
        if band:
            rate += f" ({band.name} rate: {format_price(entry.per_minute)} × {band.factor})"
        blocks = _blocks(billed, first, following)
        inputs = {**self.inputs, "duration_s": usage.duration_s, "billed_s": billed,
                  "first_increment_s": first, "next_increment_s": following,
                  "per_minute": str(entry.per_minute), "band": band.name if band else None,
                  "band_factor": str(band.factor) if band else None}
        text = f"{self.label}, {format_duration(usage.duration_s)} → {blocks} at {rate}"
        minutes = Decimal(billed) / 60
        line = priced_line(self.money, FAX, lambda amount: f"{text} = {amount}",
                           display_quantity(minutes), "min", price, entry.rule, self.version,
                           inputs, exact_amount=price * billed / 60)
        if line.amount >= entry.minimum:
            return [line]
        top_up = entry.minimum - line.amount
        return [line, self._fee(f"below the minimum charge {format_price(entry.minimum)}: "
                                f"+{format_price(top_up)}", "call", top_up,
                                f"{entry.rule}.minimum", minimum=str(entry.minimum))]

    def connect_fee(self) -> list[Charge]:
        fee = self.rates.connect_fee
        if not fee:
            return []
        return [self._fee(f"connect fee {format_price(fee)}", "call", fee, "fax_out.connect_fee")]

    def pages(self, confirmed: set[int]) -> list[Charge]:
        per_page, lines = self.rates.per_page, []
        if confirmed and per_page:
            count = len(confirmed)
            lines.append(priced_line(
                self.money, FAX,
                lambda amount: f"{plural(count, 'page')} × {format_price(per_page)} = {amount}",
                count, "page", per_page, "fax_out.per_page", self.version,
                {**self.inputs, "pages_confirmed": sorted(confirmed)}))
        resent = Counter(p.page for p in self.usage.pages if p.result is PageResult.ERROR_PAGE)
        if resent:
            lines.append(self._error_pages(resent))
        lost = sorted({p.page for p in self.usage.pages} - confirmed - set(resent))
        if lost:
            lines.append(self._note(f"{_pages(lost)} not confirmed (line dropped), not charged",
                                    "fax_out.per_page", pages_unconfirmed=lost))
        return lines

    def _error_pages(self, resent: Counter[int]) -> Charge:
        which = ", ".join(f"{p}" + (f" ({n} times)" if n > 1 else "") for p, n in sorted(resent.items()))
        text = f"{'page' if len(resent) == 1 else 'pages'} {which} resent (ErrorPage)"
        extra = {"error_pages": sorted(resent.elements()), "policy": self.rates.error_pages.value}
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
