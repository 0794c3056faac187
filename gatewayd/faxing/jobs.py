"""Outgoing fax jobs: created from a fax_out ticket, their whole life in one state table, the
database row as the truth, and moving the ticket on when they end.

The driver (``drivers.fax.driver``) is told "send these pages" (``FaxJob``) and reports what
happened: ``CallStarted``, the call's ``FaxCall`` record, or ``JobNotSent``. Everything else --
counting tries, which pages are delivered, retry or give up (``next_step``, HylaFAX's back-off),
handing the job back to the driver when a retry is due, cancelling -- happens here, through
``TRANSITIONS``, each change audited.

* submitted: an ``open`` ticket is started (``in_progress``); the job is ``queued``.
* ``done`` (every page confirmed): the ticket is finished (``awaiting_customer``: the guest signs).
* ``failed`` after its tries: the ticket fails with the reason, unless another of its jobs is
  still running or already got through.
* ``cancelled`` by staff: the ticket is left as it is for staff to decide (resend or cancel it).

Each call of a job is a ``fax_call`` event on the job's ticket, read as a ``calls.SentFax`` and
billed when stored (``FaxCalls.bill``) in the same transaction that moves the job on; these rows
add the queue state and are the outgoing register (发报记录本).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from drivers.fax.record import HangupCode
from gatewayd import audit, tickets
from gatewayd.audit import Caller
from gatewayd.db import in_period
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.faxing.calls import SentFax, decode_call
from gatewayd.models import (
    ChargeLine,
    DeviceEvent,
    FaxJob,
    FaxJobState,
    Ticket,
    TicketKind,
    TicketState,
)

if TYPE_CHECKING:
    from drivers.fax.config import RetryPolicy  # pyserial only where modems are configured

log = structlog.get_logger("gatewayd.fax")

S = FaxJobState
ACTIVE = frozenset({S.QUEUED, S.SENDING, S.RETRY_WAIT})
FINAL = frozenset({S.DONE, S.FAILED, S.CANCELLED})
SUBMITTABLE = frozenset({TicketState.OPEN, TicketState.IN_PROGRESS})

#: The whole job state machine: what happened -> (the states it can happen in, where it may go).
TRANSITIONS: dict[str, tuple[frozenset[FaxJobState], frozenset[FaxJobState]]] = {
    "call_started": (frozenset({S.QUEUED}), frozenset({S.SENDING})),
    "call_ended": (frozenset({S.SENDING}), frozenset({S.DONE, S.RETRY_WAIT, S.FAILED})),
    "not_sent": (frozenset({S.QUEUED, S.SENDING}), frozenset({S.FAILED})),
    "due": (frozenset({S.RETRY_WAIT}), frozenset({S.QUEUED})),  # handed to the driver again
    "restored": (frozenset({S.SENDING}), frozenset({S.QUEUED})),  # the daemon stopped mid-call
    "cancel": (ACTIVE, frozenset({S.CANCELLED})),
    # The call staff cancelled had delivered every page before it was cut short.
    "delivered_anyway": (frozenset({S.CANCELLED}), frozenset({S.DONE})),
}

#: No point in calling again: the far machine cannot take what we send.
_NOT_RETRIED = frozenset({HangupCode.INCOMPATIBLE})


def next_step(policy: RetryPolicy, job: FaxJob, code: HangupCode, reason: str, now: datetime
              ) -> tuple[FaxJobState, datetime | None, str]:
    """After a call of ``job`` (its tries and delivered pages already count it): done, retry
    when, or give up. A job is done only when every page was delivered."""
    if job.pages_delivered >= job.pages:
        return S.DONE, None, ""
    if job.pages_delivered:
        reason = f"{reason} ({job.pages_delivered} of {job.pages} pages delivered)"
    if code in _NOT_RETRIED:
        return S.FAILED, None, reason
    if job.tries >= policy.max_tries:
        return S.FAILED, None, f"{reason}; gave up after {job.tries} tries"
    if code is HangupCode.RTN_REFUSED:
        # The line and the far end work; it only wants the page again (RTN retransmit policy,
        # the resend it would not take in that call): call back at once.
        return S.RETRY_WAIT, now, f"{reason}: sending it again"
    delay = policy.busy_s if code is HangupCode.BUSY else policy.other_s
    return S.RETRY_WAIT, now + timedelta(seconds=delay), reason


def _move(session: Session, caller: Caller, now: datetime, job: FaxJob, action: str,
          target: FaxJobState, **fields: Any) -> None:
    """The one place a job changes state: checked against ``TRANSITIONS``, audited, and the
    ticket moved on when the job ends."""
    sources, targets = TRANSITIONS[action]
    if S(job.state) not in sources or target not in targets:
        raise Conflict(f"fax job {job.id} is {job.state}; it cannot go to {target} by {action}")
    before = {"state": job.state, "tries": job.tries}
    job.state = target.value
    for name, value in fields.items():
        setattr(job, name, value)
    job.updated_at = now
    job.finished_at = now if target in FINAL else None
    session.flush()
    audit.write(session, caller, now, f"fax_job.{action}", "fax_job", str(job.id), before,
                {"state": job.state, "tries": job.tries, "delivered": job.pages_delivered,
                 "reason": job.reason, "next_try_at": _iso(job.next_try_at)})
    log.info("fax.job", job=job.id, ticket=job.ticket.number, action=action, state=job.state,
             tries=job.tries, reason=job.reason)
    if target in FINAL:
        _move_ticket(session, caller, now, job)


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


def call_started(session: Session, caller: Caller, now: datetime, job_id: str) -> None:
    """The driver began a call for the job: one more try."""
    job = find(session, job_id, lock=True)
    if S(job.state) is S.CANCELLED:
        return  # staff cancelled it as the call began; the driver is cutting it short
    _move(session, caller, now, job, "call_started", S.SENDING, tries=job.tries + 1,
          next_try_at=None)


def not_sent(session: Session, caller: Caller, now: datetime, job_id: str, reason: str) -> None:
    job = find(session, job_id, lock=True)
    if S(job.state) in FINAL:
        return
    _move(session, caller, now, job, "not_sent", S.FAILED, reason=reason, next_try_at=None)


def ticket_of_call(session: Session, call: SentFax) -> Ticket | None:
    """An outgoing call is on its job's ticket (the driver knows only the job)."""
    job = session.get(FaxJob, call.job_id) if call.job_id is not None else None
    return job.ticket if job is not None else None  # a call without a job of ours: staff attach it


def call_ended(session: Session, caller: Caller, now: datetime, policy: RetryPolicy, call_id: str,
               call: SentFax) -> None:
    """A job's call record is stored: its pages count, and the job is done, waits or fails."""
    assert call.job_id is not None
    job = find(session, call.job_id, lock=True)
    if job.last_call_id == call_id:
        return  # this call was applied already (the record re-attached)
    delivered = sorted(set(job.delivered.get("pages", [])) | call.delivered)
    fields = {"delivered": {"pages": delivered}, "pages_delivered": len(delivered), "last_call_id": call_id}
    if S(job.state) is S.CANCELLED:
        if len(delivered) < job.pages:
            for name, value in fields.items():
                setattr(job, name, value)
            return
        _move(session, caller, now, job, "delivered_anyway", S.DONE,
              reason="every page delivered before the call was cut short", **fields)
        return
    if S(job.state) is not S.SENDING:
        # A record for a job that is not sending: it was restored and requeued after the daemon
        # stopped mid-call. Count its pages; the state is the queue's.
        for name, value in fields.items():
            setattr(job, name, value)
        return
    for name, value in fields.items():
        setattr(job, name, value)
    target, when, reason = next_step(policy, job, call.hangup, call.usage.hangup_reason or call.hangup.value, now)
    _move(session, caller, now, job, "call_ended", target, next_try_at=when, reason=reason)


def due(session: Session, caller: Caller, now: datetime) -> list[FaxJob]:
    """Jobs whose retry is due, now ``queued`` again: the caller hands them to the driver."""
    rows = list(session.scalars(select(FaxJob).where(
        FaxJob.state == S.RETRY_WAIT.value, FaxJob.next_try_at <= now).order_by(FaxJob.id).with_for_update()))
    for job in rows:
        _move(session, caller, now, job, "due", S.QUEUED)
    return rows


def to_restore(session: Session, caller: Caller, now: datetime) -> list[FaxJob]:
    """At start the driver's queues are empty: the jobs it must hold again (a call the daemon
    stopped in the middle of is made again)."""
    rows = list(session.scalars(select(FaxJob).where(
        FaxJob.state.in_([S.QUEUED.value, S.SENDING.value])).order_by(FaxJob.id).with_for_update()))
    for job in rows:
        if S(job.state) is S.SENDING:
            _move(session, caller, now, job, "restored", S.QUEUED)
    return rows


def pages_to_send(job: FaxJob) -> tuple[int, ...]:
    """A retry sends only the pages the far end has not confirmed, as HylaFAX does."""
    delivered = set(job.delivered.get("pages", []))
    return tuple(n for n in range(1, job.pages + 1) if n not in delivered)


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
    _move(session, caller, now, job, "cancel", S.CANCELLED, reason=reason, next_try_at=None)


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
            since: datetime | None = None, until: datetime | None = None) -> Select[Any]:
    """Jobs with their ticket and its tenant loaded (what ``view`` and ``register`` read)."""
    query = select(FaxJob).options(joinedload(FaxJob.ticket).joinedload(Ticket.tenant))
    if ticket:
        query = query.where(FaxJob.ticket_id == tickets.find(session, ticket).id)
    if state:
        query = query.where(FaxJob.state == state)
    query = in_period(query, FaxJob.created_at, since, until)
    return query


def register(session: Session, jobs: list[FaxJob]) -> list[dict[str, Any]]:
    """The outgoing register (发报记录本): one line per job, its calls summed. Two queries for
    any number of jobs: their tickets' fax calls, then those calls' charge lines."""
    calls: dict[tuple[int, int | None], list[tuple[int, SentFax]]] = defaultdict(list)
    charged: dict[int, Decimal] = defaultdict(Decimal)
    if jobs:
        # By ticket alone: with ``kind`` in the query too, SQLite (no statistics) walked the year's
        # fax calls by ``(kind, occurred_at)`` instead of the few tickets' events by ``ticket_id``.
        for e in session.scalars(select(DeviceEvent).where(DeviceEvent.ticket_id.in_({job.ticket_id for job in jobs}))
                                 .order_by(DeviceEvent.id)):
            if e.kind != "fax_call":
                continue
            try:
                call = decode_call(e.payload)
            except InvalidValue as err:  # stored before calls were decoded on entry
                log.warning("fax.register_unreadable_call", event_id=e.id, ticket_id=e.ticket_id, reason=str(err))
                continue
            if isinstance(call, SentFax):
                calls[(e.ticket_id, call.job_id)].append((e.id, call))
        for event_id, amount in session.execute(select(ChargeLine.event_id, ChargeLine.amount).where(
                ChargeLine.event_id.in_([event_id for found in calls.values() for event_id, _ in found]))):
            charged[event_id] += amount
    lines = []
    for job in jobs:
        mine = calls.get((job.ticket_id, job.id), [])
        ticket = job.ticket
        lines.append({
            **view(job),
            "customer": ticket.tenant.company if ticket.tenant else ticket.guest_name,
            "room": ticket.room,
            "calls": len(mine),
            "duration_s": round(float(sum(call.duration_s for _, call in mine)), 1),
            "error_pages": sorted(set().union(*(call.error_pages for _, call in mine))),
            "remote_station_id": next((call.remote_station_id for _, call in reversed(mine)
                                       if call.remote_station_id), ""),
            "charged": str(sum((charged[event_id] for event_id, _ in mine), Decimal(0)).quantize(Decimal("0.01"))),
            "ticket_state": ticket.state,
        })
    return lines


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
