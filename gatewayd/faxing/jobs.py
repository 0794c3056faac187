"""Outgoing fax jobs in the ledger: created from a fax_out ticket, kept in step with the driver's
queue (``drivers.fax.driver.FaxJobUpdate``), and moving the ticket on when they end.

* submitted: an ``open`` ticket is started (``in_progress``); the job is ``queued``.
* ``done`` (every page confirmed): the ticket is finished (``awaiting_customer``: the guest signs).
* ``failed`` after its tries: the ticket fails with the reason, unless another of its jobs is
  still running or already got through.
* ``cancelled`` by staff: the ticket is left as it is for staff to decide (resend or cancel it).

Each call of a job is a ``fax_call`` event on the ticket, billed when stored (``charges.py``);
these rows add the queue state and are the outgoing register (发报记录本).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatewayd import audit, tickets
from gatewayd.audit import Caller
from gatewayd.errors import Conflict, NotFound
from gatewayd.models import (
    ChargeLine,
    DeviceEvent,
    FaxJob,
    FaxJobState,
    Ticket,
    TicketKind,
    TicketState,
)

log = structlog.get_logger("gatewayd.fax")

S = FaxJobState
ACTIVE = frozenset({S.QUEUED, S.SENDING, S.RETRY_WAIT})
SUBMITTABLE = frozenset({TicketState.OPEN, TicketState.IN_PROGRESS})


def fax_ticket(session: Session, number: str, *, lock: bool = False) -> Ticket:
    """The fax_out ticket a job is sent for, refused unless it can still take one."""
    ticket = tickets.find(session, number, lock=lock)
    if ticket.kind != TicketKind.FAX_OUT:
        raise Conflict(f"ticket {number} is a {ticket.kind} ticket; faxes are sent for fax_out tickets")
    if ticket.state not in SUBMITTABLE:
        raise Conflict(f"ticket {number} is {ticket.state}; a fax can be sent only for an open or "
                       "in-progress ticket (open a new one to send again)")
    return ticket


def create(session: Session, caller: Caller, now: datetime, ticket_number: str, **fields: Any) -> FaxJob:
    ticket = fax_ticket(session, ticket_number, lock=True)
    if ticket.state == TicketState.OPEN:
        tickets.transition(session, caller, now, ticket, "start")
    job = FaxJob(ticket_id=ticket.id, state=S.QUEUED.value, created_by=caller.user, created_at=now,
                 updated_at=now, **fields)
    session.add(job)
    session.flush()
    audit.write(session, caller, now, "fax_job.submit", "fax_job", str(job.id), None,
                {"ticket": ticket.number, "number": job.number, "dial": job.dial, "modem": job.modem,
                 "pages": job.pages, "documents": job.documents})
    return job


def find(session: Session, job_id: int | str, *, lock: bool = False) -> FaxJob:
    query = select(FaxJob).where(FaxJob.id == int(job_id))
    job = session.scalars(query.with_for_update() if lock else query).first()
    if job is None:
        raise NotFound(f"no fax job {job_id} (see `gatewayctl fax jobs`)")
    return job


def apply_update(session: Session, caller: Caller, now: datetime, update: Any) -> None:
    """The driver's word on a job (``FaxJobUpdate``); the ticket moves on when the job ends."""
    job = find(session, update.job_id, lock=True)
    before = {"state": job.state, "tries": job.tries}
    job.state = S(update.state.value).value
    job.tries = update.tries
    job.delivered = {"pages": list(update.delivered)}
    job.pages_delivered = len(update.delivered)
    job.next_try_at = update.next_try_at
    job.reason = update.reason
    job.last_call_id = update.call_id or job.last_call_id
    job.updated_at = now
    if S(job.state) not in ACTIVE:
        job.finished_at = now
    session.flush()
    audit.write(session, caller, now, "fax_job.update", "fax_job", str(job.id), before,
                {"state": job.state, "tries": job.tries, "delivered": job.pages_delivered,
                 "reason": job.reason, "next_try_at": _iso(job.next_try_at)})
    _move_ticket(session, caller, now, job)


def _move_ticket(session: Session, caller: Caller, now: datetime, job: FaxJob) -> None:
    ticket = tickets.find(session, job.ticket.number, lock=True)
    siblings = [j for j in session.scalars(select(FaxJob).where(FaxJob.ticket_id == ticket.id))
                if j.id != job.id]
    if any(S(j.state) in ACTIVE for j in siblings) or ticket.state != TicketState.IN_PROGRESS:
        return  # another job still decides, or staff already moved the ticket
    if job.state == S.DONE:
        tickets.transition(session, caller, now, ticket, "finish")
    elif job.state == S.FAILED and not any(j.state == S.DONE for j in siblings):
        tickets.transition(session, caller, now, ticket, "fail", reason=f"fax to {job.number}: {job.reason}")


def cancel(session: Session, caller: Caller, now: datetime, job: FaxJob, reason: str) -> None:
    if S(job.state) not in ACTIVE:
        raise Conflict(f"fax job {job.id} is {job.state}; only a queued, waiting or sending job can be cancelled")
    before = {"state": job.state}
    job.state = S.CANCELLED.value
    job.reason = reason
    job.next_try_at = None
    job.updated_at = job.finished_at = now
    session.flush()
    audit.write(session, caller, now, "fax_job.cancel", "fax_job", str(job.id), before,
                {"state": job.state, "reason": reason})


def unfinished(session: Session) -> list[FaxJob]:
    """Jobs the driver must (again) hold: after a restart its queues start empty."""
    return list(session.scalars(select(FaxJob).where(FaxJob.state.in_([s.value for s in ACTIVE]))
                                .order_by(FaxJob.id)))


def view(job: FaxJob) -> dict[str, Any]:
    return {
        "id": job.id, "ticket": job.ticket.number, "state": job.state, "modem": job.modem,
        "number": job.number, "dial": job.dial, "e164": job.e164, "region": job.region,
        "documents": job.documents, "pages": job.pages, "pages_delivered": job.pages_delivered,
        "tries": job.tries, "next_try_at": _iso(job.next_try_at), "reason": job.reason,
        "last_call_id": job.last_call_id, "created_by": job.created_by,
        "created_at": job.created_at.isoformat(), "updated_at": job.updated_at.isoformat(),
        "finished_at": _iso(job.finished_at),
    }


def listing(session: Session, *, ticket: str | None = None, state: str | None = None,
            since: datetime | None = None, until: datetime | None = None, limit: int = 200) -> list[FaxJob]:
    query = select(FaxJob).order_by(FaxJob.id.desc()).limit(limit)
    if ticket:
        query = query.where(FaxJob.ticket_id == tickets.find(session, ticket).id)
    if state:
        query = query.where(FaxJob.state == state)
    if since:
        query = query.where(FaxJob.created_at >= since)
    if until:
        query = query.where(FaxJob.created_at < until)
    return list(session.scalars(query))


def register(session: Session, since: datetime | None, until: datetime | None) -> list[dict[str, Any]]:
    """The outgoing register (发报记录本) for a period: one line per job, its calls summed."""
    lines = []
    for job in sorted(listing(session, since=since, until=until, limit=10_000), key=lambda j: j.id):
        calls = [e for e in session.scalars(select(DeviceEvent).where(
            DeviceEvent.kind == "fax_call", DeviceEvent.ticket_id == job.ticket_id))
            if e.payload.get("job_id") == str(job.id)]
        charged = sum((c.amount for c in session.scalars(select(ChargeLine).where(
            ChargeLine.event_id.in_([e.id for e in calls]))) if calls), Decimal(0))
        ticket = job.ticket
        lines.append({
            **view(job),
            "customer": ticket.tenant.company if ticket.tenant else ticket.guest_name,
            "room": ticket.room,
            "calls": len(calls),
            "duration_s": round(sum(float(e.payload.get("duration_s") or 0) for e in calls), 1),
            "error_pages": sorted({p["page"] for e in calls for p in e.payload.get("pages", [])
                                   if p.get("error_page")}),
            "remote_station_id": next((e.payload.get("remote_station_id") for e in reversed(calls)
                                       if e.payload.get("remote_station_id")), ""),
            "charged": str(charged.quantize(Decimal("0.01"))),
            "ticket_state": ticket.state,
        })
    return lines


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
