"""Newspapers and periodicals (报刊): subscriptions, each day's delivery checked against their
totals (a shortfall or surplus recorded for the post office), copies held for an absent tenant and
handed over later, and a tenant's request to add a subscription as an errand ticket (代办增订).

Dates are the site's local dates (the post office's days), stored as ISO text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from gatewayd import audit, billing, tenants, tickets
from gatewayd.audit import Caller
from gatewayd.desk.common import iso, local_date
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.models import PaperDelivery, PaperHold, PaperSubscription, TicketKind


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise InvalidValue("title is required (e.g. 解放日报, China Daily)")
    return title


def subscribe(session: Session, caller: Caller, now: datetime, year: int, services: Any, *, company: str,
              title: str, copies: int, starts_on: str, ends_on: str, fee: Decimal | None = None) -> PaperSubscription:
    """Record a subscription; with ``fee`` (the post office's price) it is an errand the desk runs
    for the tenant (代办增订): an errand ticket priced by the price list is opened with it."""
    tenant = tenants.find(session, company)
    start, end = local_date(starts_on, "starts_on"), local_date(ends_on, "ends_on")
    if end < start:
        raise InvalidValue(f"ends_on {end} is before starts_on {start}")
    if not 1 <= copies <= 1000:
        raise InvalidValue(f"copies must be 1 to 1000, got {copies}")
    title = _title(title)
    ticket = None
    if fee is not None:
        what = f"subscription 代办增订: {title} × {copies}, {start} – {end}"
        try:
            rating = billing.rate(services.rates, services.site, billing.ErrandUsage(
                description=what, quoted_fee=fee, at=now))
        except billing.BillingError as err:
            raise InvalidValue(f"cannot price the subscription errand: {err}") from err
        ticket = tickets.open_ticket(session, caller, now, year, kind=TicketKind.ERRAND.value, tenant=tenant,
                                     params={"service": "subscription", "title": title}, quoted_total=rating.total,
                                     note=what)
        tickets.add_rating(session, caller, now, ticket, rating)
    sub = PaperSubscription(tenant=tenant, title=title, copies=copies, starts_on=start.isoformat(),
                            ends_on=end.isoformat(), ticket=ticket, created_by=caller.user, created_at=now)
    session.add(sub)
    session.flush()
    audit.write(session, caller, now, "paper.subscribe", "paper_subscription", str(sub.id), None, subscription_view(sub))
    return sub


def _active(day: date) -> tuple[Any, ...]:
    text = day.isoformat()
    return PaperSubscription.starts_on <= text, PaperSubscription.ends_on >= text


def expected(session: Session, day: date) -> dict[str, int]:
    """Copies due on ``day`` per title: the subscriptions' total."""
    return dict(session.execute(select(PaperSubscription.title, func.sum(PaperSubscription.copies))
                                .where(*_active(day)).group_by(PaperSubscription.title)).all())


def check_delivery(session: Session, caller: Caller, now: datetime, *, day: str, title: str,
                   received: int) -> PaperDelivery:
    """The day's delivery of one title, counted against the subscriptions: recorded once."""
    on = local_date(day, "day")
    if received < 0:
        raise InvalidValue(f"received must not be negative, got {received}")
    title = _title(title)
    delivery = PaperDelivery(day=on.isoformat(), title=title, expected=int(expected(session, on).get(title, 0)),
                             received=received, checked_by=caller.user, checked_at=now)
    try:
        with session.begin_nested():
            session.add(delivery)
            session.flush()
    except IntegrityError as err:
        raise Conflict(f"the delivery of {title} on {on} was already checked; the register keeps the first count") from err
    audit.write(session, caller, now, "paper.delivery", "paper_delivery", str(delivery.id), None, delivery_view(delivery))
    return delivery


def hold(session: Session, caller: Caller, now: datetime, *, day: str, company: str, title: str,
         copies: int) -> PaperHold:
    """Keep a tenant's copies while they are away: no more than they subscribe to that day."""
    on, tenant, title = local_date(day, "day"), tenants.find(session, company), _title(title)
    subscribed = session.scalar(select(func.sum(PaperSubscription.copies)).where(
        *_active(on), PaperSubscription.tenant_id == tenant.id, PaperSubscription.title == title)) or 0
    if not 1 <= copies <= subscribed:
        raise InvalidValue(f"{tenant.company} subscribes to {subscribed} copies of {title} on {on}; "
                           f"cannot hold {copies}")
    held = PaperHold(day=on.isoformat(), tenant=tenant, title=title, copies=copies, held_by=caller.user, held_at=now)
    session.add(held)
    session.flush()
    audit.write(session, caller, now, "paper.hold", "paper_hold", str(held.id), None, hold_view(held))
    return held


def find_hold(session: Session, hold_id: int | str, *, lock: bool = False) -> PaperHold:
    query = select(PaperHold).where(PaperHold.id == int(hold_id))
    held = session.scalars(query.with_for_update() if lock else query).first()
    if held is None:
        raise NotFound(f"no held newspapers {hold_id} (see `gatewayctl papers held`)")
    return held


def hand_over(session: Session, caller: Caller, now: datetime, held: PaperHold, *, handed_to: str) -> PaperHold:
    if held.handed_at is not None:
        raise Conflict(f"held newspapers {held.id} were handed to {held.handed_to} on {held.handed_at.isoformat()}")
    if not handed_to.strip():
        raise InvalidValue("handed_to: who received the held copies is required")
    held.handed_at, held.handed_to, held.handed_by = now, handed_to.strip(), caller.user
    session.flush()
    audit.write(session, caller, now, "paper.hand_over", "paper_hold", str(held.id), None, hold_view(held))
    return held


# ---------------------------------------------------------------------------- views


def subscription_view(sub: PaperSubscription) -> dict[str, Any]:
    return {"id": sub.id, "tenant": sub.tenant.company, "title": sub.title, "copies": sub.copies,
            "starts_on": sub.starts_on, "ends_on": sub.ends_on, "ticket": sub.ticket.number if sub.ticket else None,
            "created_by": sub.created_by, "created_at": sub.created_at.isoformat()}


def delivery_view(d: PaperDelivery) -> dict[str, Any]:
    difference = d.received - d.expected
    return {"id": d.id, "day": d.day, "title": d.title, "expected": d.expected, "received": d.received,
            "shortfall": max(0, -difference), "surplus": max(0, difference), "checked_by": d.checked_by,
            "checked_at": d.checked_at.isoformat()}


def hold_view(h: PaperHold) -> dict[str, Any]:
    return {"id": h.id, "day": h.day, "tenant": h.tenant.company, "title": h.title, "copies": h.copies,
            "held_by": h.held_by, "held_at": h.held_at.isoformat(), "handed_at": iso(h.handed_at),
            "handed_to": h.handed_to, "handed_by": h.handed_by}


SUBSCRIPTION_ORDER = (PaperSubscription.title, PaperSubscription.id)
DELIVERY_ORDER = (PaperDelivery.day, PaperDelivery.title, PaperDelivery.id)
HOLD_ORDER = (PaperHold.day, PaperHold.id)


def subscriptions(session: Session, *, company: str | None = None, day: str | None = None) -> Select[tuple[PaperSubscription]]:
    query = select(PaperSubscription).options(selectinload(PaperSubscription.tenant),
                                              selectinload(PaperSubscription.ticket))
    if company:
        query = query.where(PaperSubscription.tenant_id == tenants.find(session, company).id)
    if day:
        query = query.where(*_active(local_date(day, "day")))
    return query


def day_sheet(session: Session, day: str) -> dict[str, Any]:
    """A day's sorting sheet: copies per tenant and title, the deliveries checked, what is held."""
    on = local_date(day, "day")
    subs = session.scalars(select(PaperSubscription).where(*_active(on))
                           .order_by(PaperSubscription.title, PaperSubscription.id))
    deliveries = session.scalars(select(PaperDelivery).where(PaperDelivery.day == on.isoformat())
                                 .order_by(PaperDelivery.title))
    holds = session.scalars(select(PaperHold).where(PaperHold.day == on.isoformat()).order_by(PaperHold.id))
    return {"day": on.isoformat(), "expected": expected(session, on),
            "sorting": [{"tenant": s.tenant.company, "title": s.title, "copies": s.copies} for s in subs],
            "deliveries": [delivery_view(d) for d in deliveries], "held": [hold_view(h) for h in holds]}


def discrepancies(*, since: str | None = None, until: str | None = None) -> Select[tuple[PaperDelivery]]:
    """Shortfalls and surpluses for the post office."""
    query = select(PaperDelivery).where(PaperDelivery.received != PaperDelivery.expected)
    if since:
        query = query.where(PaperDelivery.day >= local_date(since, "since").isoformat())
    if until:
        query = query.where(PaperDelivery.day <= local_date(until, "until").isoformat())
    return query


def waiting() -> Select[tuple[PaperHold]]:
    """Held copies not handed over yet."""
    return select(PaperHold).options(selectinload(PaperHold.tenant)).where(PaperHold.handed_at.is_(None))
