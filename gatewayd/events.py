"""The device event ledger: every fax call, print job and meter reading, stored before it is matched.

``record`` is idempotent on the event's natural key (a re-read or a restart never bills twice),
and every event ends either on a ticket or as *unattributed* -- nothing is dropped.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gatewayd import audit, tickets
from gatewayd.audit import Caller
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.models import Attribution, DeviceEvent, Ticket


@dataclasses.dataclass(frozen=True)
class EventIn:
    """A normalised device event, as a driver produced it or as staff typed it in."""

    kind: str
    device: str
    natural_key: str
    occurred_at: datetime
    payload: dict[str, Any]
    ticket: str | None = None  # a ticket number the source already knows (fax jobs carry theirs)


def _plain(value: Any) -> Any:
    """Driver dataclass fields -> JSON-able values (Decimal and datetimes as exact strings)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def from_driver(event: Any) -> EventIn:
    """Adapt a driver's frozen dataclass (see ``drivers`` for the contract)."""
    payload = _plain(dataclasses.asdict(event))
    return EventIn(
        kind=type(event).kind,
        device=event.device,
        natural_key=event.natural_key,
        occurred_at=event.occurred_at,
        payload=payload,
        ticket=payload.get("ticket_ref") or None,
    )


@dataclasses.dataclass(frozen=True)
class Context:
    """Who records (or attaches) an event and when, by the ledger's clock, with the services in
    force at that moment -- the price list of the last reload, not the one a component started
    with. Every step after the ledger gets it, so audit and pricing cannot drift apart."""

    caller: Caller
    now: datetime
    services: Any = None  #: gatewayd.services.Services (None in ledgers that price nothing)
    manual: bool = False  #: typed in by staff rather than read off a device


class EventKind(Protocol):
    """The one matching contract, per kind of device event: the event was adapted at the edge
    (driver -> ``EventIn``); ``match`` finds its ticket when it names none; once stored,
    ``stored`` records what the event reveals by itself, and ``bill`` turns it into the ticket's
    charge lines once it is on one (by matching or by staff)."""

    kind: str

    def decode(self, payload: dict[str, Any]) -> Any:
        """The payload as the typed record billing reads; ``InvalidValue`` naming the field.
        A hand-entered event is decoded before it is stored, so what staff type in is refused
        (422) by the same reading that bills it."""

    def match(self, session: Session, ctx: Context, event: EventIn) -> Ticket | None: ...

    def stored(self, session: Session, ctx: Context, row: DeviceEvent) -> None:
        """What storing a new event of this kind implies besides its ticket, in the same
        transaction (a meter reading's anomalies against the device's previous reading)."""

    def bill(self, session: Session, ctx: Context, ticket: Ticket, row: DeviceEvent) -> None: ...


def view(event: DeviceEvent, ticket_number: str | None = None) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "device": event.device,
        "natural_key": event.natural_key,
        "occurred_at": event.occurred_at.isoformat(),
        "payload": event.payload,
        "manual": event.manual,
        "ticket": ticket_number,
        "attribution": event.attribution,
        "recorded_by": event.recorded_by,
        "recorded_at": event.recorded_at.isoformat(),
    }


def _existing(session: Session, kind: str, natural_key: str) -> DeviceEvent | None:
    return session.scalars(
        select(DeviceEvent).where(DeviceEvent.kind == kind, DeviceEvent.natural_key == natural_key)
    ).first()


def _match(session: Session, ctx: Context, event: EventIn, kinds: dict[str, EventKind]) -> Ticket | None:
    if event.ticket:
        ticket = session.scalars(select(Ticket).where(Ticket.number == event.ticket)).first()
        # A ticket that is settled or gone cannot take more charges: keep the event unattributed
        # so staff see it, rather than guessing another ticket.
        return ticket if ticket is not None and ticket.state in tickets.EDITABLE else None
    handler = kinds.get(event.kind)
    return handler.match(session, ctx, event) if handler else None


def record(session: Session, ctx: Context, event: EventIn, kinds: dict[str, EventKind] | None = None
           ) -> tuple[DeviceEvent, bool]:
    """Store ``event`` once, match and bill it; returns (stored row, whether it was new)."""
    caller, now, manual = ctx.caller, ctx.now, ctx.manual
    if event.occurred_at.tzinfo is None:
        raise InvalidValue("occurred_at must carry a time zone (e.g. 2026-11-26T09:30:00+08:00)")
    handler = (kinds or {}).get(event.kind)
    if manual and handler is not None:
        handler.decode(event.payload)
    existing = _existing(session, event.kind, event.natural_key)
    if existing is not None:
        return existing, False
    ticket = _match(session, ctx, event, kinds or {})
    row = DeviceEvent(
        kind=event.kind,
        device=event.device,
        natural_key=event.natural_key,
        occurred_at=event.occurred_at,
        payload=event.payload,
        manual=manual,
        ticket_id=ticket.id if ticket else None,
        attribution=(Attribution.MATCHED if ticket else Attribution.UNATTRIBUTED).value,
        recorded_by=caller.user,
        recorded_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another writer (a second site on the same PostgreSQL) stored it first.
        found = _existing(session, event.kind, event.natural_key)
        assert found is not None
        return found, False
    if manual:
        # A person's claim is audited; a device's event row is its own append-only record
        # (migration 0004 explains why and makes the row immutable).
        audit.write(
            session, caller, now, "event.record", "event", str(row.id), None,
            {"kind": row.kind, "device": row.device, "natural_key": row.natural_key,
             "ticket": ticket.number if ticket else None, "attribution": row.attribution},
            manual=True,
        )
    if handler is not None:
        handler.stored(session, ctx, row)
        if ticket is not None:
            handler.bill(session, ctx, ticket, row)
    return row, True


def find(session: Session, event_id: int) -> DeviceEvent:
    row = session.get(DeviceEvent, event_id)
    if row is None:
        raise NotFound(f"no device event {event_id} (see `gatewayctl events list`)")
    return row


def attach(session: Session, ctx: Context, row: DeviceEvent, ticket: Ticket,
           kinds: dict[str, EventKind] | None = None) -> None:
    """Staff put an unattributed event on a ticket (audited), which bills it."""
    caller, now = ctx.caller, ctx.now
    if row.attribution == Attribution.MATCHED:
        owner = session.get(Ticket, row.ticket_id)
        raise Conflict(f"event {row.id} is already on ticket {owner.number if owner else row.ticket_id}")
    if ticket.state not in tickets.EDITABLE:
        raise Conflict(f"ticket {ticket.number} is {ticket.state}; attach the event to an open ticket")
    before = {"attribution": row.attribution, "ticket": None}
    row.ticket_id = ticket.id
    row.attribution = Attribution.MATCHED.value
    session.flush()
    audit.write(session, caller, now, "event.attach", "event", str(row.id), before,
                {"attribution": row.attribution, "ticket": ticket.number}, manual=True)
    if handler := (kinds or {}).get(row.kind):
        handler.bill(session, ctx, ticket, row)


def listing(
    session: Session,
    *,
    unattributed: bool = False,
    kind: str | None = None,
    device: str | None = None,
    ticket: str | None = None,
) -> Select[Any]:
    """Events with their ticket's number (rows for ``view``)."""
    query = select(DeviceEvent, Ticket.number).outerjoin(Ticket, DeviceEvent.ticket_id == Ticket.id)
    if unattributed:
        query = query.where(DeviceEvent.attribution == Attribution.UNATTRIBUTED.value)
    if kind:
        query = query.where(DeviceEvent.kind == kind)
    if device:
        query = query.where(DeviceEvent.device == device)
    if ticket is not None:
        query = query.where(DeviceEvent.ticket_id == tickets.find(session, ticket).id)
    return query
