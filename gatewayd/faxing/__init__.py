"""Faxes in the daemon: the business side of ``drivers/fax``. In order:

  documents.py  documents handed in -> the job's fax pages in the spool
  calls.py      a call record as everything below reads it: ``SentFax`` / ``ReceivedFax``, the
                one decoder of a ``fax_call`` payload (a malformed one is refused naming the field)
  jobs.py       outgoing jobs: their state table (the row is the truth), retries, moving the
                ticket on; the outgoing register (发报记录本)
  incoming.py   received faxes: the incoming register (进报记录本), routing, pickup tickets,
                the to-call list, "notify me" requests, the archive of unclaimed faxes
  notify.py     the notify command for each received fax (HylaFAX FaxRcvdCmd convention)

This module joins them to the daemon and the driver: a stored call rated onto its ticket
(outgoing by time and destination, received per page) and moving its job on, what the driver
reports about a job, handing jobs to the driver (at start, and when a retry is due),
and the background work the supervisor runs beside the drivers.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.orm import Session

from gatewayd import audit, billing, events, tickets
from gatewayd.audit import DAEMON
from gatewayd.errors import InvalidValue
from gatewayd.faxing import calls, incoming
from gatewayd.ledger import Ledger
from gatewayd.models import DeviceEvent, Ticket

__all__ = ["JOB_KIND", "FaxCalls", "apply_job_update", "keepers"]

log = structlog.get_logger("gatewayd.fax")

#: ``drivers.fax.driver.CallStarted`` / ``JobNotSent``: not device events, the job row's news.
JOB_KIND = "fax_job"
#: How often waiting jobs are looked at for a retry that is due.
RETRY_CHECK_S = 1.0


def apply_job_update(ledger: Ledger, report: Any) -> None:
    """What the driver says of a job (blocking, on the ledger's thread)."""
    from drivers.fax.driver import CallStarted, JobNotSent
    from gatewayd.faxing import jobs

    with ledger.transaction() as session:
        match report:
            case CallStarted(job_id=job_id):
                jobs.call_started(session, DAEMON, ledger.clock(), job_id)
            case JobNotSent(job_id=job_id, reason=reason):
                jobs.not_sent(session, DAEMON, ledger.clock(), job_id, reason)


class FaxCalls:
    """The ledger's contract for ``fax_call`` events (``events.EventKind``): the record read by
    ``calls.decode_call``; a received fax is registered and routed (``incoming.match``); a call on
    its ticket is rated, and a job's call moves the job on in the same transaction (so a stored
    call is never sent again)."""

    kind = "fax_call"
    decode = staticmethod(calls.decode_call)
    match = staticmethod(incoming.match)

    @staticmethod
    def stored(session: Session, ctx: events.Context, row: DeviceEvent) -> None:
        return None  # a received fax is registered as it is matched (``incoming.match``)

    @staticmethod
    def bill(session: Session, ctx: events.Context, ticket: Ticket, row: DeviceEvent) -> None:
        """An outgoing call rated by time and destination, a received one per page
        (``FaxInUsage``) once it is on its fax_in ticket; a job's own call moves the job on."""
        from gatewayd.faxing import jobs

        try:
            call = calls.decode_call(row.payload)
        except InvalidValue as err:  # stored before calls were decoded on entry
            _unpriced(session, ctx, ticket, row, err)
            return
        usage = billing.FaxInUsage(pages=call.pages, at=row.occurred_at) if isinstance(
            call, calls.ReceivedFax) else call.usage
        try:
            rating = billing.rate(ctx.services.rates, ctx.services.site, usage)
        except billing.BillingError as err:
            _unpriced(session, ctx, ticket, row, err)
        else:
            tickets.add_rating(session, ctx.caller, ctx.now, ticket, rating, event_id=row.id)
        if isinstance(call, calls.SentFax) and call.job_id is not None and not row.manual:
            jobs.call_ended(session, ctx.caller, ctx.now, ctx.services.config.sections["fax"].retry,
                            row.natural_key, call)


def _unpriced(session: Session, ctx: events.Context, ticket: Ticket, row: DeviceEvent, err: Exception) -> None:
    """The call stays recorded and on its ticket; staff price it by hand. Never lose it."""
    log.warning("fax.call_unpriced", ticket=ticket.number, event_id=row.id, reason=str(err))
    audit.write(session, ctx.caller, ctx.now, "charge.unpriced", "ticket", ticket.number, None,
                {"event": row.id, "reason": str(err)})


def _hand_over(driver: Any, rows: list[Any]) -> None:
    from drivers.fax.driver import FaxJob
    from gatewayd.faxing import jobs

    for row in rows:
        driver.submit(FaxJob(job_id=str(row.id), dial=row.dial, document=Path(row.spool),
                             modem=row.modem if row.modem in driver.modems else driver.least_busy(),
                             pages=jobs.pages_to_send(row)))


def restore_queues(ledger: Ledger, driver: Any) -> int:
    """Hand the driver the jobs the store says are queued (its queues start empty)."""
    from gatewayd.faxing import jobs

    with ledger.transaction() as session:
        rows = jobs.to_restore(session, DAEMON, ledger.clock())
        _hand_over(driver, rows)
        return len(rows)


def submit_due(ledger: Ledger, driver: Any) -> int:
    """Hand the driver the jobs whose retry is due."""
    from gatewayd.faxing import jobs

    with ledger.transaction() as session:
        rows = jobs.due(session, DAEMON, ledger.clock())
        _hand_over(driver, rows)
        return len(rows)


def keepers(services: Any, ledger: Ledger, writer: Executor) -> list[RegisterKeeper]:
    """The background work fax needs beside the drivers (none without a ``[fax]`` section)."""
    return [RegisterKeeper(services, ledger, writer)] if "fax" in services.config.sections else []


class RegisterKeeper:
    """Restores the fax queues at start, hands the driver each job whose retry is due, and files
    unclaimed received faxes every ``archive_check_s``. Run by the supervisor like a driver
    (restarted on failure, in status)."""

    name = "fax-register"

    def __init__(self, services: Any, ledger: Ledger, writer: Executor):
        self.services, self.ledger, self.writer = services, ledger, writer
        self.restored = 0
        self.retried = 0
        self.archived = 0
        self.last_sweep: str | None = None

    async def run(self, emit: Any) -> None:
        from gatewayd.faxing import incoming, retention

        fax = self.services.config.sections["fax"]
        loop = asyncio.get_running_loop()
        driver = self.services.drivers.get("fax")
        if driver is not None:
            self.restored = await loop.run_in_executor(self.writer, restore_queues, self.ledger, driver)
            log.info("fax.queues_restored", jobs=self.restored)

        def sweep() -> tuple[list[int], retention.Swept]:
            with self.ledger.transaction() as session:
                now = self.ledger.clock()
                archived = incoming.archive_unclaimed(session, now, fax.archive_after_days)
                return archived, retention.sweep(session, now, self.services.config.spool_dir,
                                                 keep_days=fax.keep_days, keep_sent_days=fax.keep_sent_days)

        next_sweep = 0.0
        while True:
            if driver is not None:
                self.retried += await loop.run_in_executor(self.writer, submit_due, self.ledger, driver)
            if loop.time() >= next_sweep:
                archived, swept = await loop.run_in_executor(self.writer, sweep)
                self.archived += len(archived)
                self.last_sweep = self.ledger.clock().isoformat()
                next_sweep = loop.time() + fax.archive_check_s
                if archived:
                    log.info("fax.archived", entries=archived, after_days=fax.archive_after_days)
                if swept.sent_deleted or swept.received_deleted or swept.archived_moved:
                    log.info("fax.spool_swept", sent_deleted=swept.sent_deleted,
                             received_deleted=swept.received_deleted, archived_moved=swept.archived_moved)
            await asyncio.sleep(min(RETRY_CHECK_S, fax.archive_check_s))

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "fax-register", "restored_jobs": self.restored, "retries_handed_over": self.retried,
                "archived": self.archived, "last_sweep": self.last_sweep}
