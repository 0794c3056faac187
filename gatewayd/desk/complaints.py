"""Complaints (客户投诉记录单) and tenant visits (客户访问记录单).

A complaint records who complained, about what, when, who took it and which department handles
it; a reply is due ``desk.complaint_reply_days`` after it was received. Follow-ups are appended,
never edited. Closing records the outcome, when the customer was told and their view of it; a
closed complaint takes no more replies or follow-ups. Nothing here is ever deleted.

A visit records the half-yearly call on a tenant and the opinions collected; an opinion needing an
answer makes a written reply due ``desk.visit_reply_days`` after the visit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from gatewayd import audit, tenants
from gatewayd.audit import Caller
from gatewayd.desk.common import iso, utc
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.models import Complaint, TenantVisit


def _required(**fields: str) -> None:
    for name, value in fields.items():
        if not value.strip():
            raise InvalidValue(f"{name} is required")


def record(session: Session, caller: Caller, now: datetime, reply_days: int, *, complainant: str, subject: str,
           department: str, company: str | None = None, phone: str = "",
           received_at: datetime | None = None) -> Complaint:
    _required(complainant=complainant, subject=subject, department=department)
    received = utc(received_at or now)
    if received > now:
        raise InvalidValue(f"received_at {received.isoformat()} is in the future")
    complaint = Complaint(received_at=received, tenant=tenants.find(session, company) if company else None,
                          complainant=complainant.strip(), phone=phone.strip(), subject=subject.strip(),
                          taken_by=caller.user, department=department.strip(),
                          reply_due_at=received + timedelta(days=reply_days), follow_ups=[])
    session.add(complaint)
    session.flush()
    audit.write(session, caller, now, "complaint.record", "complaint", str(complaint.id), None, snapshot(complaint))
    return complaint


def find(session: Session, complaint_id: int | str, *, lock: bool = False) -> Complaint:
    query = select(Complaint).where(Complaint.id == int(complaint_id))
    complaint = session.scalars(query.with_for_update() if lock else query).first()
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id} (see `gatewayctl complaint list`)")
    return complaint


def _open(complaint: Complaint, what: str) -> None:
    if complaint.closed_at is not None:
        raise Conflict(f"complaint {complaint.id} was closed on {complaint.closed_at.isoformat()} by "
                       f"{complaint.closed_by}; it takes no {what} (record a new complaint)")


def follow_up(session: Session, caller: Caller, now: datetime, complaint: Complaint, *, note: str,
              reply: bool = False) -> Complaint:
    """Append a follow-up; ``reply`` marks it as the reply to the customer (the first one counts for
    the deadline)."""
    _open(complaint, "reply" if reply else "follow-up")
    _required(note=note)
    complaint.follow_ups = [*complaint.follow_ups,
                            {"at": now.isoformat(), "by": caller.user, "note": note.strip(), "reply": reply}]
    before = {"replied_at": iso(complaint.replied_at)}
    if reply and complaint.replied_at is None:
        complaint.replied_at = now
    session.flush()
    audit.write(session, caller, now, "complaint.reply" if reply else "complaint.follow_up", "complaint",
                str(complaint.id), before, {"note": note.strip(), "replied_at": iso(complaint.replied_at)})
    return complaint


def close(session: Session, caller: Caller, now: datetime, complaint: Complaint, *, outcome: str,
          customer_told_at: datetime | None = None, customer_view: str = "") -> Complaint:
    _open(complaint, "second closing")
    _required(outcome=outcome)
    told = utc(customer_told_at or now)
    if told > now:
        raise InvalidValue(f"customer_told_at {told.isoformat()} is in the future")
    before = snapshot(complaint)
    complaint.outcome, complaint.customer_told_at, complaint.customer_view = outcome.strip(), told, customer_view
    if complaint.replied_at is None:
        complaint.replied_at = told  # telling the customer the outcome is the reply
    complaint.closed_at, complaint.closed_by = now, caller.user
    session.flush()
    audit.write(session, caller, now, "complaint.close", "complaint", str(complaint.id), before, snapshot(complaint))
    return complaint


def on_time(complaint: Complaint) -> bool | None:
    """Replied by the due date (None: not replied yet)."""
    return None if complaint.replied_at is None else complaint.replied_at <= complaint.reply_due_at


def snapshot(complaint: Complaint) -> dict[str, Any]:
    return {"complainant": complaint.complainant, "department": complaint.department,
            "reply_due_at": complaint.reply_due_at.isoformat(), "replied_at": iso(complaint.replied_at),
            "outcome": complaint.outcome, "customer_view": complaint.customer_view,
            "closed_at": iso(complaint.closed_at)}


def view(complaint: Complaint, now: datetime) -> dict[str, Any]:
    return {
        "id": complaint.id, "received_at": complaint.received_at.isoformat(),
        "tenant": complaint.tenant.company if complaint.tenant else None, "complainant": complaint.complainant,
        "phone": complaint.phone, "subject": complaint.subject, "taken_by": complaint.taken_by,
        "department": complaint.department, "reply_due_at": complaint.reply_due_at.isoformat(),
        "replied_at": iso(complaint.replied_at), "on_time": on_time(complaint),
        "overdue": complaint.replied_at is None and now > complaint.reply_due_at,
        "follow_ups": complaint.follow_ups, "outcome": complaint.outcome,
        "customer_told_at": iso(complaint.customer_told_at), "customer_view": complaint.customer_view,
        "state": "closed" if complaint.closed_at else "open", "closed_at": iso(complaint.closed_at),
        "closed_by": complaint.closed_by,
    }


ORDER = (Complaint.received_at, Complaint.id)
VISIT_ORDER = (TenantVisit.visited_at, TenantVisit.id)


def listing(now: datetime, *, state: str | None = None, overdue: bool = False) -> Select[tuple[Complaint]]:
    query = select(Complaint).options(selectinload(Complaint.tenant))
    if state == "open":
        query = query.where(Complaint.closed_at.is_(None))
    elif state == "closed":
        query = query.where(Complaint.closed_at.is_not(None))
    if overdue:
        query = query.where(Complaint.replied_at.is_(None), Complaint.reply_due_at < now)
    return query


def awaiting_reply(session: Session) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.replied_at.is_(None))
                                .order_by(Complaint.reply_due_at)))


# ---------------------------------------------------------------------------- tenant visits


def record_visit(session: Session, caller: Caller, now: datetime, reply_days: int, *, company: str, met: str = "",
                 opinions: str = "", needs_reply: bool = False, visited_at: datetime | None = None) -> TenantVisit:
    visited = utc(visited_at or now)
    if visited > now:
        raise InvalidValue(f"visited_at {visited.isoformat()} is in the future")
    if needs_reply and not opinions.strip():
        raise InvalidValue("needs_reply: write down the opinion that needs an answer (opinions is empty)")
    visit = TenantVisit(tenant=tenants.find(session, company), visited_at=visited, visited_by=caller.user,
                        met=met.strip(), opinions=opinions.strip(),
                        reply_due_at=visited + timedelta(days=reply_days) if needs_reply else None)
    session.add(visit)
    session.flush()
    audit.write(session, caller, now, "visit.record", "visit", str(visit.id), None, visit_view(visit, now))
    return visit


def find_visit(session: Session, visit_id: int | str, *, lock: bool = False) -> TenantVisit:
    query = select(TenantVisit).where(TenantVisit.id == int(visit_id))
    visit = session.scalars(query.with_for_update() if lock else query).first()
    if visit is None:
        raise NotFound(f"no tenant visit {visit_id} (see `gatewayctl visit list`)")
    return visit


def reply_visit(session: Session, caller: Caller, now: datetime, visit: TenantVisit, *, reply: str) -> TenantVisit:
    if visit.reply_due_at is None:
        raise Conflict(f"visit {visit.id} recorded no opinion needing an answer")
    if visit.replied_at is not None:
        raise Conflict(f"visit {visit.id} was answered on {visit.replied_at.isoformat()} by {visit.replied_by}")
    _required(reply=reply)
    visit.reply, visit.replied_at, visit.replied_by = reply.strip(), now, caller.user
    session.flush()
    audit.write(session, caller, now, "visit.reply", "visit", str(visit.id), None,
                {"reply": visit.reply, "on_time": now <= visit.reply_due_at})
    return visit


def visit_view(visit: TenantVisit, now: datetime) -> dict[str, Any]:
    due = visit.reply_due_at
    return {"id": visit.id, "tenant": visit.tenant.company, "visited_at": visit.visited_at.isoformat(),
            "visited_by": visit.visited_by, "met": visit.met, "opinions": visit.opinions,
            "reply_due_at": iso(due), "replied_at": iso(visit.replied_at), "reply": visit.reply,
            "replied_by": visit.replied_by,
            "overdue": due is not None and visit.replied_at is None and now > due}


def visits(session: Session, *, company: str | None = None) -> Select[tuple[TenantVisit]]:
    query = select(TenantVisit).options(selectinload(TenantVisit.tenant))
    if company:
        query = query.where(TenantVisit.tenant_id == tenants.find(session, company).id)
    return query


def visits_awaiting_reply(session: Session) -> list[TenantVisit]:
    return list(session.scalars(select(TenantVisit).where(TenantVisit.reply_due_at.is_not(None),
                                                          TenantVisit.replied_at.is_(None))
                                .order_by(TenantVisit.reply_due_at)))
