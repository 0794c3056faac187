"""What the desk's registers share: ISO times in views and a local day as a UTC range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from gatewayd.errors import InvalidValue


def utc(value: datetime) -> datetime:
    """Times given with any offset are stored and shown in UTC (the ledger's rule)."""
    return value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def local_date(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise InvalidValue(f"{what} must be a local date like 2026-11-26, got {text!r}") from err


def day_range(text: str | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """A register's day (the site's local date) as [start, end) aware times; (None, None) for all."""
    if not text:
        return None, None
    start = datetime.combine(local_date(text), time(), zone)
    return start, start + timedelta(days=1)
