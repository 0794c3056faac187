"""Meeting rooms (会议接待): rooms, bookings without overlap, the preparation checklist as due items,
and billing by booked time from the price list.

A booking opens its ticket (kind ``other``, ``params.service = meeting_room``) at once, quoted by
the table in force for the meeting, so an extra the price list does not know is refused up front.
Two bookings of one room may not overlap (the room's row is locked while checking, so two desks
on one PostgreSQL cannot both win). ``bill`` puts the booked time and extras on the ticket and
leaves it with the customer (awaiting_customer); cancelling a booking cancels its ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from gatewayd import audit, billing, tenants, tickets
from gatewayd.audit import Caller
from gatewayd.desk.common import utc
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.models import BookingState, BookingTask, MeetingRoom, RoomBooking, Ticket, TicketKind

log = structlog.get_logger("gatewayd.desk")


@dataclass(frozen=True)
class ChecklistItem:
    item: str
    text: str
    department: str
    before: timedelta  #: due this long before the meeting starts


#: The meeting procedure's preparation, as due items: 2 days before the meeting is confirmed and
#: the service request filled; 1 day before the room is set up and the equipment checked; 1 hour
#: before access and parking are arranged.
CHECKLIST = (
    ChecklistItem("confirm", "meeting confirmed with the customer", "business centre", timedelta(days=2)),
    ChecklistItem("request_form", "service request form filled", "business centre", timedelta(days=2)),
    ChecklistItem("setup", "room set up", "housekeeping", timedelta(days=1)),
    ChecklistItem("equipment", "equipment checked", "engineering", timedelta(days=1)),
    ChecklistItem("access", "access arranged", "security", timedelta(hours=1)),
    ChecklistItem("parking", "parking arranged", "security", timedelta(hours=1)),
)
CHECKLIST_TEXT = {c.item: c.text for c in CHECKLIST}

#: Longest booking accepted: a typo in a date would otherwise hold a room for months.
MAX_BOOKING = timedelta(hours=24)
LIVE = (BookingState.BOOKED.value, BookingState.BILLED.value)


def add_room(session: Session, caller: Caller, now: datetime, *, name: str, capacity: int,
             equipment: list[str] | None = None) -> MeetingRoom:
    name = name.strip()
    if not name:
        raise InvalidValue("name is required")
    if session.scalars(select(MeetingRoom).where(MeetingRoom.name == name)).first() is not None:
        raise Conflict(f"there is already a meeting room named {name!r}")
    if capacity < 1:
        raise InvalidValue(f"capacity must be at least 1, got {capacity}")
    room = MeetingRoom(name=name, capacity=capacity, equipment=",".join(e.strip() for e in equipment or [] if e.strip()),
                       created_at=now)
    session.add(room)
    session.flush()
    audit.write(session, caller, now, "meeting_room.add", "meeting_room", str(room.id), None, room_view(room))
    return room


def find_room(session: Session, name: str, *, lock: bool = False) -> MeetingRoom:
    query = select(MeetingRoom).where(MeetingRoom.name == name)
    room = session.scalars(query.with_for_update() if lock else query).first()
    if room is None:
        raise NotFound(f"no meeting room {name!r} (see `gatewayctl room list`)")
    return room


def _usage(room: MeetingRoom, starts_at: datetime, ends_at: datetime, extras: dict[str, int]) -> billing.MeetingRoomUsage:
    return billing.MeetingRoomUsage(room=room.name, starts_at=starts_at, ends_at=ends_at,
                                    extras=tuple(sorted(extras.items())))


def _extras(extras: dict[str, Any]) -> dict[str, int]:
    for name, count in extras.items():
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
            raise InvalidValue(f"extras.{name} must be a count from 0 to 1000, got {count!r}")
        if not 0 < len(name) <= 40:
            raise InvalidValue(f"extras: a name of 1-40 characters is needed, got {name!r}")
    return dict(extras)


def book(session: Session, caller: Caller, now: datetime, year: int, services: Any, *, room: str,
         starts_at: datetime, ends_at: datetime, company: str | None = None, contact_room: str = "",
         guest_name: str = "", guest_phone: str = "", attendees: int = 0, purpose: str = "",
         extras: dict[str, int] | None = None) -> RoomBooking:
    extras = _extras(extras or {})
    starts_at, ends_at = utc(starts_at), utc(ends_at)
    if ends_at <= starts_at:
        raise InvalidValue(f"ends_at {ends_at.isoformat()} must be after starts_at {starts_at.isoformat()}")
    if ends_at - starts_at > MAX_BOOKING:
        hours = (ends_at - starts_at).total_seconds() / 3600
        raise InvalidValue(f"a booking may last at most {MAX_BOOKING.total_seconds() / 3600:g} hours, got {hours:g}")
    if starts_at < now:
        raise InvalidValue(f"starts_at {starts_at.isoformat()} is in the past")
    meeting_room = find_room(session, room, lock=True)  # held until commit: one booking decision at a time
    if attendees > meeting_room.capacity:
        raise InvalidValue(f"{attendees} attendees do not fit {meeting_room.name} (capacity {meeting_room.capacity})")
    clash = session.scalars(select(RoomBooking).where(
        RoomBooking.room_id == meeting_room.id, RoomBooking.state.in_(LIVE),
        RoomBooking.starts_at < ends_at, RoomBooking.ends_at > starts_at)).first()
    if clash is not None:
        zone = services.site.zone  # staff read the clash in the site's time
        raise Conflict(f"{meeting_room.name} is booked {clash.starts_at.astimezone(zone):%Y-%m-%d %H:%M} – "
                       f"{clash.ends_at.astimezone(zone):%H:%M} (booking {clash.id}, ticket {clash.ticket.number}); "
                       f"choose another time or room")
    try:
        quote = billing.rate(services.rates, services.site, _usage(meeting_room, starts_at, ends_at, extras))
    except billing.BillingError as err:
        raise InvalidValue(f"cannot price this booking: {err}") from err
    tenant = tenants.find(session, company) if company else None
    ticket = tickets.open_ticket(
        session, caller, now, year, kind=TicketKind.OTHER.value, tenant=tenant, room=contact_room,
        guest_name=guest_name, guest_phone=guest_phone, quoted_total=quote.total,
        params={"service": "meeting_room", "meeting_room": meeting_room.name},
        note=f"meeting room {meeting_room.name} {starts_at.isoformat()} – {ends_at.isoformat()}")
    booking = RoomBooking(room=meeting_room, starts_at=starts_at, ends_at=ends_at, attendees=attendees,
                          purpose=purpose.strip(), extras=extras, state=BookingState.BOOKED.value, ticket=ticket,
                          booked_by=caller.user, booked_at=now)
    booking.tasks = [BookingTask(item=c.item, department=c.department, due_at=starts_at - c.before) for c in CHECKLIST]
    session.add(booking)
    session.flush()
    ticket.params = {**ticket.params, "booking": booking.id}
    audit.write(session, caller, now, "booking.add", "booking", str(booking.id), None, snapshot(booking))
    log.info("booking.added", booking=booking.id, ticket=ticket.number, room=meeting_room.name)
    return booking


def find(session: Session, booking_id: int | str, *, lock: bool = False) -> RoomBooking:
    query = select(RoomBooking).where(RoomBooking.id == int(booking_id))
    booking = session.scalars(query.with_for_update() if lock else query).first()
    if booking is None:
        raise NotFound(f"no booking {booking_id} (see `gatewayctl booking list`)")
    return booking


def tick(session: Session, caller: Caller, now: datetime, booking: RoomBooking, item: str) -> BookingTask:
    """The responsible department reports a checklist item done."""
    task = next((t for t in booking.tasks if t.item == item), None)
    if task is None:
        raise NotFound(f"no checklist item {item!r} (items: {', '.join(CHECKLIST_TEXT)})")
    if booking.state == BookingState.CANCELLED:
        raise Conflict(f"booking {booking.id} was cancelled")
    if task.done_at is not None:
        raise Conflict(f"{item} of booking {booking.id} was ticked by {task.done_by} at {task.done_at.isoformat()}")
    task.done_at, task.done_by = now, caller.user
    session.flush()
    audit.write(session, caller, now, "booking.tick", "booking", str(booking.id), None,
                {"item": item, "department": task.department, "late": now > task.due_at})
    return task


def cancel(session: Session, caller: Caller, now: datetime, booking: RoomBooking, reason: str) -> RoomBooking:
    if booking.state != BookingState.BOOKED:
        raise Conflict(f"booking {booking.id} is {booking.state}; only a booking not yet billed can be cancelled")
    if not reason.strip():
        raise InvalidValue("cancelling a booking needs a reason")
    before = snapshot(booking)
    booking.state, booking.cancel_reason = BookingState.CANCELLED.value, reason.strip()
    tickets.transition(session, caller, now, booking.ticket, "cancel", reason=f"booking cancelled: {reason.strip()}")
    session.flush()
    audit.write(session, caller, now, "booking.cancel", "booking", str(booking.id), before, snapshot(booking))
    return booking


def bill(session: Session, caller: Caller, now: datetime, booking: RoomBooking, services: Any) -> RoomBooking:
    """The booked time and extras onto the ticket by the table in force at the meeting; the ticket
    goes to the customer to sign (awaiting_customer)."""
    if booking.state != BookingState.BOOKED:
        raise Conflict(f"booking {booking.id} is {booking.state}; only a booked meeting is billed (once)")
    try:
        rating = billing.rate(services.rates, services.site,
                              _usage(booking.room, booking.starts_at, booking.ends_at, booking.extras))
    except billing.BillingError as err:
        raise InvalidValue(f"cannot price booking {booking.id}: {err}") from err
    ticket = booking.ticket
    tickets.add_rating(session, caller, now, ticket, rating)
    for action in ("start", "finish"):
        tickets.transition(session, caller, now, ticket, action)
    before = snapshot(booking)
    booking.state = BookingState.BILLED.value
    session.flush()
    audit.write(session, caller, now, "booking.bill", "booking", str(booking.id), before,
                {**snapshot(booking), "total": str(rating.total)})
    return booking


def open_tasks(session: Session) -> list[BookingTask]:
    """Checklist items not ticked of meetings still on (billed in advance or not)."""
    return list(session.scalars(
        select(BookingTask).join(RoomBooking)
        .where(BookingTask.done_at.is_(None), RoomBooking.state.in_(LIVE))
        .order_by(BookingTask.due_at, BookingTask.id)))


# ---------------------------------------------------------------------------- views


def room_view(room: MeetingRoom) -> dict[str, Any]:
    return {"id": room.id, "name": room.name, "capacity": room.capacity,
            "equipment": [e for e in room.equipment.split(",") if e]}


def snapshot(booking: RoomBooking) -> dict[str, Any]:
    return {"state": booking.state, "room": booking.room.name, "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(), "extras": booking.extras, "ticket": booking.ticket.number}


def view(booking: RoomBooking, now: datetime) -> dict[str, Any]:
    t = booking.ticket
    return {
        **snapshot(booking), "id": booking.id, "attendees": booking.attendees, "purpose": booking.purpose,
        "customer": t.tenant.company if t.tenant else t.guest_name, "booked_by": booking.booked_by,
        "booked_at": booking.booked_at.isoformat(), "cancel_reason": booking.cancel_reason,
        "quoted_total": None if t.quoted_total is None else str(t.quoted_total),
        "total": str(tickets.total(t)), "ticket_state": t.state,
        "checklist": [{"item": task.item, "text": CHECKLIST_TEXT.get(task.item, task.item),
                       "department": task.department, "due_at": task.due_at.isoformat(),
                       "done_at": task.done_at.isoformat() if task.done_at else None, "done_by": task.done_by,
                       "overdue": task.done_at is None and booking.state in LIVE and now > task.due_at}
                      for task in booking.tasks],
    }


ORDER = (RoomBooking.starts_at, RoomBooking.id)


def listing(session: Session, *, room: str | None = None, since: datetime | None = None,
            until: datetime | None = None, state: str | None = None) -> Select[tuple[RoomBooking]]:
    query = select(RoomBooking).options(
        selectinload(RoomBooking.room), selectinload(RoomBooking.tasks),
        selectinload(RoomBooking.ticket).selectinload(Ticket.tenant),
        selectinload(RoomBooking.ticket).selectinload(Ticket.charges))
    if room:
        query = query.where(RoomBooking.room_id == find_room(session, room).id)
    if since:
        query = query.where(RoomBooking.ends_at > since)
    if until:
        query = query.where(RoomBooking.starts_at < until)
    if state:
        query = query.where(RoomBooking.state == state)
    return query
