"""Keeps each driver running: a driver that fails is restarted with back-off and shown in status.

A crashing driver never takes the daemon down; its events are stored through ``emit`` before the
driver moves on, so a restart re-reads at most what was not yet stored (and the ledger's natural
keys make that harmless).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import structlog

log = structlog.get_logger("gatewayd.supervisor")

Emit = Callable[[Any], Awaitable[None]]

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0


@dataclass
class _Slot:
    driver: Any
    task: asyncio.Task | None = None
    restarts: int = 0
    last_error: str = ""
    last_error_at: float | None = None


class Supervisor:
    def __init__(self, drivers: list[Any], emit: Emit):
        self._slots = [_Slot(d) for d in drivers]
        self._emit = emit

    def start(self) -> None:
        for slot in self._slots:
            slot.task = asyncio.create_task(self._keep_running(slot), name=f"driver:{slot.driver.name}")

    async def stop(self) -> None:
        tasks = [slot.task for slot in self._slots if slot.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep_running(self, slot: _Slot) -> None:
        backoff = FIRST_BACKOFF_S
        bound = log.bind(driver=slot.driver.name)
        while True:
            started = time.monotonic()
            try:
                await slot.driver.run(self._emit)
                bound.info("driver.returned")
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - the one place a driver's failure is contained
                slot.last_error = f"{type(err).__name__}: {err}"
                slot.last_error_at = time.time()
                bound.error("driver.failed", error=slot.last_error, restart_in_s=backoff)
            slot.restarts += 1
            if time.monotonic() - started > MAX_BACKOFF_S:
                backoff = FIRST_BACKOFF_S  # it ran fine for a while: this is a new failure
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "driver": slot.driver.name,
                "running": bool(slot.task and not slot.task.done()),
                "restarts": slot.restarts,
                "last_error": slot.last_error,
                **slot.driver.status(),
            }
            for slot in self._slots
        ]
