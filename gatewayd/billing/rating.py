"""The entry points: rate any usage record by the table in force when it ran, or quote a job.

``rate`` is also the quote for everything but fax (a quote is a planned usage); ``quote_fax``
builds the planned call (connected, every page confirmed) from what the customer says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from .charges import Charge, Rating
from .destinations import resolve
from .errors import InvalidUsage
from .fax_out import rate_fax_out
from .rates import RateBook, RateTable
from .errands import rate_errand, rate_manual, rate_meeting_room
from .pages import rate_fax_in, rate_print, rate_print_job, rate_typing
from .site import Site
from .usage import (
    ErrandUsage,
    FaxCallUsage,
    FaxInUsage,
    ManualLine,
    MeetingRoomUsage,
    PageOutcome,
    PageResult,
    PrintJobUsage,
    PrintUsage,
    TypingUsage,
)

Usage = FaxCallUsage | FaxInUsage | PrintUsage | PrintJobUsage | TypingUsage | ErrandUsage | MeetingRoomUsage | ManualLine


def rate(book: RateBook, site: Site, usage: Usage) -> Rating:
    """Price one job. Raises UndiallableNumber, NoRateTableInForce, NoRateForDestination,
    NotPriced or InvalidUsage (all ``BillingError``)."""
    if isinstance(usage, FaxCallUsage):
        table = book.in_force(usage.started_at, site.zone)
        destination = resolve(site, usage.dialed)
        lines = rate_fax_out(table, site.zone, destination, usage)
        return Rating(tuple(lines), table.money, site.currency, table.version)
    table = book.in_force(usage.at, site.zone)
    if isinstance(usage, ManualLine):
        return Rating((rate_manual(table.money, usage),), table.money, site.currency, None)
    rater = _RATERS.get(type(usage))
    if rater is None:
        raise InvalidUsage(f"cannot rate a {type(usage).__name__}")
    return Rating(tuple(rater(table, usage)), table.money, site.currency, table.version)


_RATERS: dict[type, Callable[[RateTable, object], list[Charge]]] = {
    FaxInUsage: rate_fax_in,  # type: ignore[dict-item]
    PrintUsage: rate_print,  # type: ignore[dict-item]
    PrintJobUsage: rate_print_job,  # type: ignore[dict-item]
    TypingUsage: rate_typing,  # type: ignore[dict-item]
    ErrandUsage: rate_errand,  # type: ignore[dict-item]
    MeetingRoomUsage: rate_meeting_room,  # type: ignore[dict-item]
}


def quote_fax(book: RateBook, site: Site, dialed: str, minutes: Decimal | int, pages: int,
              at: datetime) -> Rating:
    """The price of a fax before it is sent: ``minutes`` of line time and ``pages`` pages, at
    the rates (and time band) of ``at`` — usually now, or when the customer wants it sent."""
    if minutes < 0 or pages < 0:
        raise InvalidUsage("minutes and pages of a quote must not be negative")
    duration = math.ceil(Decimal(minutes) * 60)
    usage = FaxCallUsage(
        dialed=dialed,
        started_at=at,
        connected_at=at,
        duration_s=duration,
        pages=tuple(PageOutcome(n, PageResult.CONFIRMED) for n in range(1, pages + 1)),
    )
    return rate(book, site, usage)
