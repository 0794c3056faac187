"""Faxes in the daemon: the business side of ``drivers/fax``. In order:

  documents.py  documents handed in -> the job's fax pages in the spool
  jobs.py       outgoing jobs: created from a fax_out ticket, kept in step with the driver's
                queue, moving the ticket on; the outgoing register (发报记录本)
  charges.py    call records rated onto tickets: outgoing by time and destination, received
                per page
  incoming.py   received faxes: the incoming register (进报记录本), routing, pickup tickets,
                the to-call list, "notify me" requests, the archive of unclaimed faxes
  notify.py     the notify command for each received fax (HylaFAX FaxRcvdCmd convention)

This module joins them to the daemon: applying the driver's job updates, and the background
work (restoring the queues at start, archiving) that the supervisor runs beside the drivers.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import structlog

from gatewayd.audit import DAEMON
from gatewayd.faxing.charges import bill_call, usage_from_call
from gatewayd.faxing.incoming import matcher
from gatewayd.ledger import Ledger

__all__ = ["JOB_KIND", "apply_job_update", "bill_call", "keepers", "matcher", "usage_from_call"]

log = structlog.get_logger("gatewayd.fax")

#: ``drivers.fax.driver.FaxJobUpdate.kind``: not a device event, the job row's new state.
JOB_KIND = "fax_job"


def apply_job_update(ledger: Ledger, update: Any) -> None:
    """Blocking, on the ledger's thread."""
    from gatewayd.faxing import jobs

    with ledger.transaction() as session:
        jobs.apply_update(session, DAEMON, ledger.clock(), update)


def restore_queues(ledger: Ledger, driver: Any) -> int:
    """Hand the driver the jobs the store says are unfinished (its queues start empty)."""
    from drivers.fax.driver import FaxJob, JobState
    from gatewayd.faxing import jobs

    with ledger.transaction() as session:
        rows = jobs.unfinished(session)
        for row in rows:
            driver.submit(FaxJob(
                job_id=str(row.id), modem=row.modem if row.modem in driver.modems else driver.least_busy(),
                dial=row.dial, document=Path(row.spool), pages=row.pages, ticket_ref=row.ticket.number,
                tries=row.tries,
                not_before=row.next_try_at if row.state == JobState.RETRY_WAIT.value else None,
                delivered=frozenset(row.delivered.get("pages", []))))
        return len(rows)


def keepers(services: Any, ledger: Ledger, writer: Executor) -> list[RegisterKeeper]:
    """The background work fax needs beside the drivers (none without a ``[fax]`` section)."""
    return [RegisterKeeper(services, ledger, writer)] if "fax" in services.config.sections else []


class RegisterKeeper:
    """Restores the fax queues at start, then files unclaimed received faxes every
    ``archive_check_s``. Run by the supervisor like a driver (restarted on failure, in status)."""

    name = "fax-register"

    def __init__(self, services: Any, ledger: Ledger, writer: Executor):
        self.services, self.ledger, self.writer = services, ledger, writer
        self.restored = 0
        self.archived = 0
        self.last_sweep: str | None = None

    async def run(self, emit: Any) -> None:
        from gatewayd.faxing import incoming

        fax = self.services.config.sections["fax"]
        loop = asyncio.get_running_loop()
        if "fax" in self.services.drivers:
            self.restored = await loop.run_in_executor(self.writer, restore_queues, self.ledger,
                                                       self.services.drivers["fax"])
            log.info("fax.queues_restored", jobs=self.restored)

        def sweep() -> list[int]:
            with self.ledger.transaction() as session:
                return incoming.archive_unclaimed(session, self.ledger.clock(), fax.archive_after_days)

        while True:
            archived = await loop.run_in_executor(self.writer, sweep)
            self.archived += len(archived)
            self.last_sweep = self.ledger.clock().isoformat()
            if archived:
                log.info("fax.archived", entries=archived, after_days=fax.archive_after_days)
            await asyncio.sleep(fax.archive_check_s)

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "fax-register", "restored_jobs": self.restored,
                "archived": self.archived, "last_sweep": self.last_sweep}
