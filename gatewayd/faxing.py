"""Fax calls in the ledger: an outgoing call record rated onto its fax_out ticket.

The call record arrives as the stored payload of a ``drivers.fax.record.FaxCall`` (plain JSON:
enums as their values, times as ISO strings). Every transmission of every page is handed to
billing in order, so a page the receiver rejected (RTN/PPR, an ErrorPage) and then resent is seen
as such and charged once, per the price list's ErrorPage policy.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

import structlog
from sqlalchemy.orm import Session

from gatewayd import audit, billing, charging
from gatewayd.audit import Caller
from gatewayd.models import DeviceEvent, Ticket

log = structlog.get_logger("gatewayd.fax")

# T.30 post-page answers as the driver records them (drivers.fax.record.PageStatus values).
_DELIVERED = {"MCF", "RTP", "PIP", "received"}
_ERROR_PAGE = {"RTN", "PPR", "PIN", "received bad"}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _outcome(status: str) -> billing.PageResult:
    if status in _ERROR_PAGE:
        return billing.PageResult.ERROR_PAGE
    if status in _DELIVERED:
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


def bill_call(services: Any) -> Callable[[Session, Caller, datetime, Ticket, DeviceEvent], None]:
    """The on-matched action for ``fax_call`` events: rate an outgoing call onto its ticket."""

    def action(session: Session, caller: Caller, now: datetime, ticket: Ticket, row: DeviceEvent) -> None:
        if row.payload.get("direction") != "outgoing":
            return  # received faxes are billed per page when collected (the fax_in ticket)
        try:
            rating = billing.rate(services.rates, services.site, usage_from_call(row.payload))
        except billing.BillingError as err:
            # The call stays recorded and on its ticket; staff price it by hand. Never lose it.
            log.warning("fax.call_unpriced", ticket=ticket.number, event_id=row.id, reason=str(err))
            audit.write(session, caller, now, "charge.unpriced", "ticket", ticket.number, None,
                        {"event": row.id, "reason": str(err)})
            return
        charging.add_rating(session, caller, now, ticket, rating, event_id=row.id)

    return action
