"""Fax calls on tickets: an outgoing call rated onto its fax_out ticket, a received fax per page
onto its fax_in pickup ticket.

The call record arrives as the stored payload of a ``drivers.fax.record.FaxCall`` (plain JSON:
enums as their values, times as ISO strings). Every transmission of every page is handed to
billing in order, so a page the receiver rejected (RTN/PPR, an ErrorPage) and then resent is seen
as such and charged once, per the price list's ErrorPage policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.orm import Session

from drivers.fax.record import PageStatus
from gatewayd import audit, billing, events, tickets
from gatewayd.errors import InvalidValue
from gatewayd.models import DeviceEvent, Ticket

log = structlog.get_logger("gatewayd.fax")

def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _outcome(status: str) -> billing.PageResult:
    """A transmission as billing counts it, by the driver's own reading of the answer (an answer
    that is no ``PageStatus`` makes the record unreadable)."""
    try:
        answer = PageStatus(status)
    except ValueError:
        raise ValueError(f"pages[].attempts[].status must be one of {', '.join(s.value for s in PageStatus)}, "
                         f"got {status!r}") from None
    if answer.error_page:
        return billing.PageResult.ERROR_PAGE
    if answer.delivered:
        return billing.PageResult.CONFIRMED
    return billing.PageResult.UNCONFIRMED


def usage_from_call(payload: dict[str, Any]) -> billing.FaxCallUsage:
    """Billing's view of one outgoing call record; a record it cannot read is ``InvalidUsage``
    (a hand-entered record may be anything)."""
    try:
        return _usage(payload)
    except (KeyError, TypeError, ValueError, ArithmeticError) as err:
        raise billing.InvalidUsage(f"unreadable call record ({type(err).__name__}: {err})") from err


def _usage(payload: dict[str, Any]) -> billing.FaxCallUsage:
    transmissions = tuple(
        billing.PageOutcome(page["page"], _outcome(attempt["status"]))
        for page in payload.get("pages", [])
        for attempt in page.get("attempts", [])
    )
    connected = _time(payload.get("connected_at"))
    started = _time(payload.get("dialled_at")) or _time(payload["occurred_at"])
    assert started is not None
    return billing.FaxCallUsage(
        dialed=payload["number"],
        started_at=started,
        connected_at=connected,
        # Carriers bill whole seconds; a fraction of one is a second begun.
        duration_s=math.ceil(Decimal(str(payload.get("duration_s", 0)))) if connected else 0,
        pages=transmissions if connected else (),
        completed=payload.get("status") == "completed",
        hangup_reason=(payload.get("hangup") or {}).get("reason", ""),
    )


@dataclass(frozen=True)
class ReceivedFax:
    """A received fax's call record as the incoming register keeps it and its pickup is billed."""

    pages: int  #: pages delivered whole: what the register counts and the pickup is billed for
    error_pages: int  #: pages the driver flagged ErrorPage (a copy we rejected), each once
    called_number: str
    caller_id: str
    remote_station_id: str
    subaddress: str
    status: str
    document_path: str


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidValue(f"payload.{key} must be text, got {value!r}")
    return value


def _received(payload: dict[str, Any]) -> ReceivedFax:
    pages = payload.get("pages", [])
    if not isinstance(pages, list) or not all(isinstance(p, dict) for p in pages):
        raise InvalidValue("payload.pages must be a list of pages like {\"page\": 1, \"delivered\": true}")
    return ReceivedFax(
        pages=sum(1 for page in pages if page.get("delivered")),
        error_pages=sum(1 for page in pages if page.get("error_page")),
        called_number=_text(payload, "number"), caller_id=_text(payload, "caller_id"),
        remote_station_id=_text(payload, "remote_station_id").strip(), subaddress=_text(payload, "subaddress"),
        status=_text(payload, "status"), document_path=_text(payload, "document_path"))


def decode_call(payload: dict[str, Any]) -> billing.FaxCallUsage | ReceivedFax:
    """A call record as billing and the registers read it: an outgoing call's usage, or a
    received fax; ``InvalidValue`` naming what is wrong (a hand-entered record may be anything)."""
    direction = payload.get("direction")
    if direction == "incoming":
        return _received(payload)
    if direction != "outgoing":
        raise InvalidValue(f"payload.direction must be \"incoming\" or \"outgoing\", got {direction!r}")
    try:
        return usage_from_call(payload)
    except billing.InvalidUsage as err:
        raise InvalidValue(f"payload: {err}") from err


def bill_call(session: Session, ctx: events.Context, ticket: Ticket, row: DeviceEvent) -> None:
    """An outgoing call rated by time and destination; a received one per page (``FaxInUsage``)
    once it is on its fax_in ticket."""
    services = ctx.services
    try:
        call = decode_call(row.payload)
        usage = billing.FaxInUsage(pages=call.pages, at=row.occurred_at) if isinstance(call, ReceivedFax) else call
        rating = billing.rate(services.rates, services.site, usage)
    except (billing.BillingError, InvalidValue) as err:
        # The call stays recorded and on its ticket; staff price it by hand. Never lose it.
        log.warning("fax.call_unpriced", ticket=ticket.number, event_id=row.id, reason=str(err))
        audit.write(session, ctx.caller, ctx.now, "charge.unpriced", "ticket", ticket.number, None,
                    {"event": row.id, "reason": str(err)})
        return
    tickets.add_rating(session, ctx.caller, ctx.now, ticket, rating, event_id=row.id)
