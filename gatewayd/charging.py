"""Priced lines onto tickets: the one place a billing ``Rating`` becomes the ticket's charge lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gatewayd import tickets
from gatewayd.audit import Caller
from gatewayd.billing.charges import Rating
from gatewayd.models import ChargeLine, Ticket


def add_rating(
    session: Session,
    caller: Caller,
    now: datetime,
    ticket: Ticket,
    rating: Rating,
    *,
    event_id: int | None = None,
) -> list[ChargeLine]:
    """Every line of ``rating`` (its explanations included) with its rule, version and inputs."""
    return [
        tickets.add_charge(
            session, caller, now, ticket,
            description=line.description, quantity=line.quantity, unit=line.unit or "note",
            unit_price=line.unit_price, amount=line.amount, rule=line.rule,
            rate_version=line.rate_version or "", inputs=line.inputs, event_id=event_id, manual=line.manual,
        )
        for line in rating.lines
    ]
