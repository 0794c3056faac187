"""The CUPS driver as gatewayd's supervisor sees it: ``name``, ``async run(emit)``, ``status()``.

pycups blocks, and libcups keeps per-thread state, so the watcher and its connection live in one
dedicated worker thread for the whole run; the event loop only awaits it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from drivers.cups.config import CupsConfig
from drivers.cups.events import PrintJobFinished
from drivers.cups.watcher import Watcher, WatcherStatus

log = structlog.get_logger()

Emit = Callable[[PrintJobFinished], Awaitable[None]]


class CupsDriver:
    def __init__(self, config: CupsConfig, *, name: str = "cups",
                 cursor_path: Path | None = None,
                 watcher_factory: Callable[[CupsConfig, Path | None], Watcher] | None = None):
        self.name = name
        self.config = config
        self.cursor_path = cursor_path
        self._make_watcher = watcher_factory or (
            lambda cfg, path: Watcher(cfg, cursor_path=path))
        self._status = WatcherStatus(server=config.server)
        self._running = False

    async def run(self, emit: Emit) -> None:
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-pycups")
        watcher = await loop.run_in_executor(pool, self._make_watcher, self.config,
                                             self.cursor_path)
        self._running = True
        structlog.contextvars.bind_contextvars(driver=self.name)
        try:
            while True:
                events = await loop.run_in_executor(pool, watcher.step)
                self._status = watcher.status
                for event in events:
                    await emit(event)
                    await loop.run_in_executor(pool, watcher.confirm, event)
                    log.info("cups.job_finished", queue=event.queue, job_id=event.job_id,
                             outcome=event.outcome.value, billed_sides=event.billed_sides,
                             pages_from=event.page_count_source.value, key=event.natural_key)
                self._status = watcher.status
                await asyncio.sleep(watcher.next_delay())
        finally:
            self._running = False
            # Cancelled or failed: drop the subscription (best effort) in the watcher's thread,
            # then let the thread go without blocking the loop on an in-flight request.
            pool.submit(watcher.close)
            pool.shutdown(wait=False)

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "cups", "running": self._running,
                **_jsonable(dataclasses.asdict(self._status))}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
