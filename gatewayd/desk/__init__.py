"""The desk's other books, beside the machines' registers. In order:

  common.py      what they share: ISO times, a local day as a UTC range
  mail.py        the mail register (信件记录本): letters to pigeonholes, accountable items notified,
                 ID-checked pickup, 查无此人 items held and returned to the post office
  complaints.py  complaints (客户投诉记录单) and tenant visits (客户访问记录单), replies due
  rooms.py       meeting rooms, bookings without overlap, the preparation checklist, billing
  papers.py      newspapers (报刊): subscriptions, deliveries checked, copies held, 代办增订 errands
  registers.py   the typing (打字服务记录本) and copy (复印服务记录本) registers per day; typed files
                 kept until the customer's date, then deleted (audited) by ``FileKeeper`` below
  report.py      their figures in the monthly report (meeting rooms, mail, complaints)
  due.py         every register's deadlines in one list (``gatewayctl due``, ``gatewayctl status``)

Each register's routes are in ``gatewayd/api/desk.py``, its commands in ``gatewayd/ctl/desk.py``.
Deadlines are computed from the injected clock when asked; nothing is deleted that the procedures
say to keep (entries change state, audited).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import Any

import structlog

log = structlog.get_logger("gatewayd.desk")


class FileKeeper:
    """Deletes kept typing files whose date has passed, every ``desk.sweep_s`` (audited, see
    ``registers.sweep``). Run by the supervisor like a driver (restarted on failure, in status)."""

    name = "desk-files"

    def __init__(self, services: Any, ledger: Any, writer: Executor):
        self.services, self.ledger, self.writer = services, ledger, writer
        self.deleted = 0
        self.last_sweep: str | None = None

    async def run(self, emit: Any) -> None:
        from gatewayd.desk import registers

        loop = asyncio.get_running_loop()

        def sweep() -> list[int]:
            with self.ledger.transaction() as session:
                return registers.sweep(session, self.ledger.clock())

        while True:
            self.deleted += len(await loop.run_in_executor(self.writer, sweep))
            self.last_sweep = self.ledger.clock().isoformat()
            await asyncio.sleep(self.services.config.desk["sweep_s"])

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "desk-files", "deleted": self.deleted, "last_sweep": self.last_sweep}
