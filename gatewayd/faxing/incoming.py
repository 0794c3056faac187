"""Received faxes: the incoming register (进报记录本), its routing, pickup tickets, the to-call list,
"notify me" requests and the archive of unclaimed faxes.

A received ``fax_call`` has no ticket of its own, so the ledger asks :func:`match` for one
(``FaxCalls.match``, run once, when the call record is first stored). The matcher writes the
register entry, then:

* a routing rule (``[[fax.routes]]``: called number, subaddress, sender's station id -> tenant)
  assigns it: a ``fax_in`` pickup ticket is opened for the tenant and returned, so the ledger puts
  the call on it and bills it per page (``FaxCalls.bill``);
* else the entry stays 待查 (``pending``) until staff assign it (:func:`assign`, which attaches the
  call record to the new ticket, billing it the same way) or it is archived after
  ``archive_after_days`` (:func:`archive_unclaimed`, audited);
* an open "notify me" request for the tenant or the sender is matched and puts the entry on the
  to-call list with the guest's phone;
* the configured notify command runs once the transaction has committed (``notify.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload

from gatewayd import audit, events, tenants, tickets
from gatewayd.audit import DAEMON, Caller
from gatewayd.db import in_period
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.faxing import jobs, notify
from gatewayd.faxing.calls import ReceivedFax, decode_call
from gatewayd.models import (
    DeviceEvent,
    FaxIncoming,
    FaxInState,
    FaxNotifyRequest,
    Tenant,
    Ticket,
    TicketKind,
)

log = structlog.get_logger("gatewayd.fax")

KIND = "fax_call"


def _bare(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).upper()


def match(session: Session, ctx: events.Context, event: events.EventIn) -> Ticket | None:
    """``EventKind.match`` for ``fax_call``: an outgoing call is its job's ticket's; a received
    fax is registered, and its pickup ticket returned when a routing rule knows whose it is.
    The register entry and its audit name who recorded the call (the daemon, or staff typing
    it in) and when, by the ledger's clock."""
    try:
        call = decode_call(event.payload)
    except InvalidValue as err:
        # Staff's records were decoded (and refused) before this; a device's is kept whatever it
        # says -- unattributed, for staff to look at -- rather than lost with the transaction.
        log.error("fax.call_unreadable", device=event.device, call_id=event.natural_key, reason=err.detail)
        return None
    if not isinstance(call, ReceivedFax):
        return jobs.ticket_of_call(session, call)
    if call.pages == 0:
        return None  # nothing arrived to pick up; the call record alone says what happened
    services, caller, now = ctx.services, ctx.caller, ctx.now
    fax = services.config.sections.get("fax")
    entry = FaxIncoming(
        call_id=event.natural_key, device=event.device, received_at=event.occurred_at,
        called_number=call.called_number, caller_id=call.caller_id, remote_station_id=call.remote_station_id,
        subaddress=call.subaddress, pages=call.pages, error_pages=call.error_pages, call_status=call.status.value,
        document_path=call.document_path, state=FaxInState.PENDING.value)
    session.add(entry)
    session.flush()
    audit.write(session, caller, now, "fax_in.register", "fax_in", str(entry.id), None,
                {"call_id": entry.call_id, "pages": entry.pages, "from": entry.remote_station_id},
                manual=ctx.manual)
    ticket = None
    for index, rule in enumerate(fax.routes if fax else ()):
        if not rule.matches(called_number=entry.called_number, subaddress=entry.subaddress,
                            station_id=entry.remote_station_id):
            continue
        tenant = session.scalars(select(Tenant).where(Tenant.company == rule.tenant)).first()
        if tenant is None:
            log.warning("fax.route_unknown_tenant", route=index, tenant=rule.tenant, entry=entry.id)
            continue
        ticket = _assign(session, caller, now, entry, services, tenant=tenant, by=f"route {index}")
        break
    _match_request(session, now, entry)
    if fax and fax.notify_command:
        notify.after_commit(session, fax.notify_command, entry, call)
    return ticket


def _assign(session: Session, caller: Caller, now: datetime, entry: FaxIncoming, services: Any, *,
            tenant: Tenant | None, by: str, room: str = "", guest_name: str = "",
            guest_phone: str = "") -> Ticket:
    """Open the pickup ticket: the fax is here, waiting for its customer (awaiting_customer)."""
    year = now.astimezone(services.config.timezone).year
    if tenant is not None and not room and tenant.rooms:
        room = tenant.rooms.split(",")[0]
    ticket = tickets.open_ticket(
        session, caller, now, year, kind=TicketKind.FAX_IN.value, tenant=tenant, room=room,
        guest_name=guest_name, guest_phone=guest_phone, device=entry.device,
        params={"fax_entry": entry.id, "pages": entry.pages, "from": entry.remote_station_id},
        note=f"received fax {entry.call_id}")
    tickets.transition(session, caller, now, ticket, "start")
    tickets.transition(session, caller, now, ticket, "finish")
    before = {"state": entry.state}
    entry.state = FaxInState.ASSIGNED.value
    entry.tenant, entry.ticket = tenant, ticket
    entry.room, entry.guest_name, entry.guest_phone = room, guest_name, guest_phone
    entry.assigned_by, entry.assigned_at = by, now
    session.flush()
    audit.write(session, caller, now, "fax_in.assign", "fax_in", str(entry.id), before,
                {"state": entry.state, "tenant": tenant.company if tenant else None, "guest": guest_name,
                 "ticket": ticket.number, "by": by}, manual=caller is not DAEMON)
    _match_request(session, now, entry)
    return ticket


def _match_request(session: Session, now: datetime, entry: FaxIncoming) -> None:
    """The oldest open "notify me" request this fax answers: for its tenant, or from its sender."""
    if entry.notify_request_id is not None:
        return
    # Locked: a request staff cancel at this moment is either matched first or stays cancelled.
    for request in session.scalars(select(FaxNotifyRequest).where(FaxNotifyRequest.state == "open")
                                   .order_by(FaxNotifyRequest.id).with_for_update()):
        for_tenant = request.tenant_id is not None and request.tenant_id == entry.tenant_id
        sender = _bare(request.sender)
        from_sender = bool(sender) and sender in (_bare(entry.remote_station_id) + "|" + _bare(entry.caller_id))
        if for_tenant or from_sender:
            request.state, request.matched_at = "matched", now
            entry.notify_request_id = request.id
            session.flush()
            audit.write(session, DAEMON, now, "fax_in.notify_match", "fax_in", str(entry.id), None,
                        {"request": request.id, "guest": request.guest_name, "phone": request.phone})
            return


def find(session: Session, entry_id: int | str, *, lock: bool = False) -> FaxIncoming:
    query = select(FaxIncoming).where(FaxIncoming.id == int(entry_id))
    entry = session.scalars(query.with_for_update() if lock else query).first()
    if entry is None:
        raise NotFound(f"no received fax {entry_id} (see `gatewayctl fax incoming`)")
    return entry


def assign(session: Session, ctx: events.Context, entry: FaxIncoming, kinds: dict[str, events.EventKind], *,
           company: str | None = None, room: str = "", guest_name: str = "", guest_phone: str = "") -> Ticket:
    """Staff say whose a 待查 (or archived: the guest turned up late) fax is; it is billed then."""
    if entry.state == FaxInState.ASSIGNED:
        raise Conflict(f"received fax {entry.id} is already assigned (ticket {entry.ticket.number if entry.ticket else '?'})")
    tenant = tenants.find(session, company) if company else None
    if tenant is None and not guest_name:
        raise InvalidValue("say whose the fax is: a tenant company (with room) or a guest's name")
    caller, now = ctx.caller, ctx.now
    ticket = _assign(session, caller, now, entry, ctx.services, tenant=tenant, by=caller.user, room=room,
                     guest_name=guest_name, guest_phone=guest_phone)
    row = session.scalars(select(DeviceEvent).where(DeviceEvent.kind == KIND,
                                                    DeviceEvent.natural_key == entry.call_id)).first()
    if row is not None:
        events.attach(session, ctx, row, ticket, kinds)
    return ticket


def mark_called(session: Session, caller: Caller, now: datetime, entry: FaxIncoming) -> None:
    if entry.called_at is not None:
        raise Conflict(f"received fax {entry.id} was already marked called by {entry.called_by}")
    entry.called_at, entry.called_by = now, caller.user
    session.flush()
    audit.write(session, caller, now, "fax_in.called", "fax_in", str(entry.id), None,
                {"called_by": caller.user}, manual=True)


def archive_unclaimed(session: Session, now: datetime, after_days: float) -> list[int]:
    """File the 待查 faxes nobody claimed within ``after_days`` (the "no recipient" slip)."""
    cutoff = now - timedelta(days=after_days)
    archived = []
    for entry in session.scalars(select(FaxIncoming).where(
            FaxIncoming.state == FaxInState.PENDING.value, FaxIncoming.received_at < cutoff).with_for_update()):
        entry.state, entry.archived_at = FaxInState.ARCHIVED.value, now
        audit.write(session, DAEMON, now, "fax_in.archive", "fax_in", str(entry.id),
                    {"state": FaxInState.PENDING.value},
                    {"state": entry.state, "reason": f"unclaimed {after_days:g} days after it arrived"})
        archived.append(entry.id)
    session.flush()
    return archived


def add_request(session: Session, caller: Caller, now: datetime, *, guest_name: str, phone: str,
                company: str | None = None, sender: str = "", note: str = "") -> FaxNotifyRequest:
    tenant = tenants.find(session, company) if company else None
    if tenant is None and not _bare(sender):
        raise InvalidValue("a notify-me request needs the company the fax is for, or the sender's fax number/id")
    request = FaxNotifyRequest(guest_name=guest_name, phone=phone, tenant_id=tenant.id if tenant else None,
                               sender=sender, note=note, state="open", created_by=caller.user, created_at=now)
    session.add(request)
    session.flush()
    audit.write(session, caller, now, "fax_in.notify_request", "fax_notify_request", str(request.id), None,
                {"guest": guest_name, "phone": phone, "company": company, "sender": sender})
    return request


def find_request(session: Session, request_id: int | str, *, lock: bool = False) -> FaxNotifyRequest:
    query = select(FaxNotifyRequest).where(FaxNotifyRequest.id == int(request_id))
    request = session.scalars(query.with_for_update() if lock else query).first()
    if request is None:
        raise NotFound(f"no notify-me request {request_id} (see `gatewayctl fax notify-requests`)")
    return request


def cancel_request(session: Session, caller: Caller, now: datetime, request: FaxNotifyRequest,
                   reason: str = "") -> FaxNotifyRequest:
    """The guest no longer wants to be told: an open request is closed, kept in the list as cancelled.
    One already answered by a fax (matched) or cancelled is a conflict naming when and by whom."""
    if request.state == "matched":
        raise Conflict(f"notify-me request {request.id} was already answered by a fax at "
                       f"{_iso(request.matched_at)}: nothing to cancel")
    if request.state == "cancelled":
        raise Conflict(f"notify-me request {request.id} is already cancelled")
    request.state = "cancelled"
    session.flush()
    audit.write(session, caller, now, "fax_in.notify_cancel", "fax_notify_request", str(request.id),
                {"state": "open"}, {"state": "cancelled", "reason": reason})
    log.info("fax.notify_cancelled", request=request.id, guest=request.guest_name)
    return request


# ---------------------------------------------------------------------------- views


def view(entry: FaxIncoming) -> dict[str, Any]:
    request = entry.notify_request_id
    return {
        "id": entry.id, "state": entry.state, "call_id": entry.call_id, "device": entry.device,
        "received_at": entry.received_at.isoformat(), "pages": entry.pages, "error_pages": entry.error_pages,
        "call_status": entry.call_status, "remote_station_id": entry.remote_station_id,
        "caller_id": entry.caller_id, "called_number": entry.called_number, "subaddress": entry.subaddress,
        "document_path": entry.document_path,
        "tenant": entry.tenant.company if entry.tenant else None, "room": entry.room,
        "guest_name": entry.guest_name, "guest_phone": entry.guest_phone,
        "ticket": entry.ticket.number if entry.ticket else None,
        "ticket_state": entry.ticket.state if entry.ticket else None,
        "assigned_by": entry.assigned_by, "assigned_at": _iso(entry.assigned_at),
        "notify_request": request, "called_at": _iso(entry.called_at), "called_by": entry.called_by,
        "archived_at": _iso(entry.archived_at),
    }


def listing(session: Session, *, state: str | None = None, since: datetime | None = None,
            until: datetime | None = None) -> Select[Any]:
    """Register entries with what ``view`` reads (tenant, ticket) loaded."""
    query = select(FaxIncoming).options(joinedload(FaxIncoming.tenant), joinedload(FaxIncoming.ticket))
    if state:
        query = query.where(FaxIncoming.state == state)
    query = in_period(query, FaxIncoming.received_at, since, until)
    return query


def to_call(session: Session) -> Select[Any]:
    """Whom staff should phone: faxes assigned or asked for, not yet called about or archived."""
    return listing(session).where(
        FaxIncoming.called_at.is_(None), FaxIncoming.state != FaxInState.ARCHIVED.value,
        or_(FaxIncoming.state == FaxInState.ASSIGNED.value, FaxIncoming.notify_request_id.is_not(None)))


def to_call_views(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    """The to-call list's lines: who to phone and the number, the notify-me requests in one query."""
    entries = [entry for entry, *_ in rows]
    wanted = {e.notify_request_id for e in entries if e.notify_request_id}
    requests_ = {r.id: r for r in session.scalars(select(FaxNotifyRequest).where(FaxNotifyRequest.id.in_(wanted)))}
    out = []
    for entry in entries:
        request = requests_.get(entry.notify_request_id) if entry.notify_request_id else None
        if request is not None:
            who, phone = request.guest_name, request.phone
        elif entry.tenant is not None:
            who, phone = entry.tenant.contact or entry.tenant.company, entry.tenant.phone
        else:
            who, phone = entry.guest_name, entry.guest_phone
        out.append({**view(entry), "call": who, "phone": phone,
                    "for": entry.tenant.company if entry.tenant else (entry.guest_name or who)})
    return out


def request_view(request: FaxNotifyRequest) -> dict[str, Any]:
    return {"id": request.id, "guest_name": request.guest_name, "phone": request.phone,
            "company": request.tenant.company if request.tenant else None, "sender": request.sender,
            "note": request.note, "state": request.state, "matched_at": _iso(request.matched_at),
            "created_by": request.created_by, "created_at": request.created_at.isoformat()}


def requests(state: str | None = None) -> Select[Any]:
    query = select(FaxNotifyRequest).options(joinedload(FaxNotifyRequest.tenant))
    return query.where(FaxNotifyRequest.state == state) if state else query


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
