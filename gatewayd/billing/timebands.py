"""Time bands: night, weekend and public-holiday rates, decided by the site's local time.

A band applies to the per-minute rate of a fax-out call by the local time the call *started*
(a call that runs past 22:00 keeps its day rate: what the price lists of Chinese carriers do).
Bands are tried in the order the table lists them and the first that matches wins, so a table
lists ``holiday`` before ``weekend`` before ``night`` when their factors differ.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal


class DayType(enum.Enum):
    WEEKDAY = "weekday"
    WEEKEND = "weekend"  #: Saturday and Sunday, unless the calendar says it is a working day
    HOLIDAY = "holiday"  #: a public holiday listed in the calendar

    # Members are singletons compared by identity, so identity is a valid hash; the C-level one
    # keeps the per-call band lookup cheap (Enum's own __hash__ is Python code).
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class Calendar:
    """Public holidays and the weekend days worked in exchange (China's 调休 makes both lists)."""

    holidays: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()

    def day_type(self, day: dt.date) -> DayType:
        if day in self.holidays:
            return DayType.HOLIDAY
        if day.weekday() >= 5 and day not in self.working_days:
            return DayType.WEEKEND
        return DayType.WEEKDAY


@dataclass(frozen=True, slots=True)
class TimeBand:
    name: str  #: "night", shown on the charge line
    factor: Decimal  #: multiplies the per-minute rate: 0.60 is a 40 % discount
    days: frozenset[DayType] = frozenset(DayType)
    start: dt.time | None = None  #: None with ``end`` None: the whole day
    end: dt.time | None = None  #: may be before ``start``: 22:00-07:00 spans midnight

    def covers(self, local: dt.datetime, day_type: DayType) -> bool:
        if day_type not in self.days:
            return False
        if self.start is None or self.end is None:
            return True
        t = local.time()
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def describe(self) -> str:
        days = "/".join(d.value for d in DayType if d in self.days)
        hours = f" {self.start:%H:%M}-{self.end:%H:%M}" if self.start is not None and self.end is not None else ""
        return f"{self.name}: {days}{hours} x{self.factor}"


def band_at(bands: tuple[TimeBand, ...], calendar: Calendar, local: dt.datetime) -> TimeBand | None:
    """The first band covering this local moment, or None for the plain rate."""
    if not bands:
        return None
    day_type = calendar.day_type(local.date())
    for band in bands:
        if band.covers(local, day_type):
            return band
    return None
