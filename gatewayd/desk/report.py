"""The desk's part of the monthly report: meeting-room revenue and occupancy, mail and parcel
counts, complaints with replies on time. Each figure is its own SQL aggregate over the month (the
site's calendar), so the report can be re-run for any past month and says the same.

Occupancy is booked hours over the hours a room could have been booked: the month's days times
``desk.room_hours_per_day``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from gatewayd.desk.rooms import LIVE
from gatewayd.models import (
    ChargeLine,
    Complaint,
    MailItem,
    MailState,
    MeetingRoom,
    RoomBooking,
    Ticket,
    TicketState,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _room_revenue(session: Session, start: datetime, end: datetime) -> dict[str, Decimal]:
    # Charge lines are few per booking; summed here exactly as Decimal on both databases.
    rows = session.execute(
        select(ChargeLine.inputs["room"].as_string(), ChargeLine.amount)
        .join(Ticket, ChargeLine.ticket_id == Ticket.id)
        .where(ChargeLine.rule.like("meeting_room.%"), ChargeLine.created_at >= start, ChargeLine.created_at < end,
               Ticket.state != TicketState.CANCELLED.value))
    revenue: dict[str, Decimal] = {}
    for room, amount in rows:
        revenue[room] = revenue.get(room, ZERO) + amount
    return revenue


def monthly(session: Session, start: datetime, end: datetime, room_hours_per_day: int) -> dict[str, Any]:
    days = round((end - start).total_seconds() / 86400)
    open_hours = Decimal(days * room_hours_per_day)
    revenue = _room_revenue(session, start, end)
    bookings = {name: 0 for name in session.scalars(select(MeetingRoom.name))}
    hours = {name: Decimal(0) for name in bookings}
    for name, starts, ends in session.execute(
            select(MeetingRoom.name, RoomBooking.starts_at, RoomBooking.ends_at).join(RoomBooking.room)
            .where(RoomBooking.state.in_(LIVE), RoomBooking.starts_at >= start, RoomBooking.starts_at < end)):
        bookings[name] += 1
        hours[name] += Decimal(int((ends - starts).total_seconds())) / 3600
    meeting_rooms = [{"room": name, "bookings": bookings[name], "booked_hours": str(hours[name].quantize(CENT)),
                      "occupancy_percent": str((hours[name] / open_hours * 100).quantize(Decimal("0.1"))),
                      "revenue": str(revenue.get(name, ZERO))} for name in sorted(bookings)]

    in_month = (MailItem.received_at >= start, MailItem.received_at < end)
    mail = {kind: int(n) for kind, n in session.execute(
        select(MailItem.kind, func.sum(MailItem.count)).where(*in_month).group_by(MailItem.kind))}
    mail["unknown_recipient"] = session.scalar(
        select(func.count()).select_from(MailItem).where(*in_month, MailItem.tenant_id.is_(None))) or 0
    mail["returned_to_post"] = session.scalar(select(func.count()).select_from(MailItem).where(
        MailItem.state == MailState.RETURNED.value, MailItem.returned_at >= start, MailItem.returned_at < end)) or 0

    received = (Complaint.received_at >= start, Complaint.received_at < end)
    replied = and_(Complaint.replied_at.is_not(None), Complaint.replied_at < end)
    complaints = {
        "received": session.scalar(select(func.count()).select_from(Complaint).where(*received)) or 0,
        "replied": session.scalar(select(func.count()).select_from(Complaint).where(*received, replied)) or 0,
        "replied_on_time": session.scalar(select(func.count()).select_from(Complaint).where(
            *received, replied, Complaint.replied_at <= Complaint.reply_due_at)) or 0,
        "overdue_at_month_end": session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.reply_due_at < end, or_(Complaint.replied_at.is_(None), Complaint.replied_at > end),
            Complaint.received_at < end)) or 0,
    }
    return {"meeting_rooms": meeting_rooms, "meeting_room_revenue": str(sum(revenue.values(), ZERO)),
            "mail": dict(sorted(mail.items())), "complaints": complaints}


def csv_rows(desk: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    rows: list[tuple[str, str, str, Any]] = []
    for r in desk["meeting_rooms"]:
        rows += [("meeting_room", r["room"], metric, r[metric])
                 for metric in ("bookings", "booked_hours", "occupancy_percent", "revenue")]
    rows.append(("meeting_room", "total", "revenue", desk["meeting_room_revenue"]))
    rows += [("mail", kind, "items", n) for kind, n in desk["mail"].items()]
    rows += [("complaints", "", metric, n) for metric, n in desk["complaints"].items()]
    return rows


def html(desk: dict[str, Any], table: Any) -> str:
    """The desk's sections of the HTML report (``table`` is the report's table renderer)."""
    rooms = [[r["room"], r["bookings"], r["booked_hours"], f"{r['occupancy_percent']} %", r["revenue"]]
             for r in desk["meeting_rooms"]] + [["total", "", "", "", desk["meeting_room_revenue"]]]
    c = desk["complaints"]
    return f"""<h2>会议室 Meeting rooms</h2>
{table(["room", "bookings", "booked hours", "occupancy", "revenue"], rooms)}
<h2>信件 Mail and parcels</h2>
{table(["kind", "items"], [[k, n] for k, n in desk["mail"].items()])}
<h2>投诉 Complaints</h2>
<p>{c["received"]} received, {c["replied"]} replied ({c["replied_on_time"]} on time),
{c["overdue_at_month_end"]} overdue at the month's end.</p>
"""

