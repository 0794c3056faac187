"""Driving the CUPS driver against the lab, shared by the tests and the benchmark."""

from __future__ import annotations

import time
from typing import Any

from drivers.cups.config import CupsConfig, parse_cups_config
from drivers.cups.events import PrintJobFinished
from drivers.cups.watcher import Watcher
from lab.cups.cupsd import CupsLab


def lab_config(lab: CupsLab, **overrides: Any) -> CupsConfig:
    """Every lab queue configured as device ``printer-<queue>``, price class ``class-<queue>``."""
    raw: dict[str, Any] = {
        "server": str(lab.socket), "poll_interval": 0.05, "catchup_interval": 5,
        "queues": [{"name": q, "device": f"printer-{q}", "price_class": f"class-{q}"}
                   for q in lab.queue_names]}
    raw.update(overrides)
    return parse_cups_config(raw)


def watch_until(watcher: Watcher, ledger: dict[str, PrintJobFinished], job_ids: set[int],
                timeout: float = 30.0) -> int:
    """Step ``watcher`` as the driver does, recording into ``ledger`` (a fake event ledger keyed
    by natural key, so a re-emitted event is a no-op) until every job in ``job_ids`` is in it.
    Returns how many events were emitted (duplicates included)."""
    deadline = time.monotonic() + timeout
    emitted = 0
    while not job_ids <= {e.job_id for e in ledger.values()}:
        if time.monotonic() > deadline:
            missing = job_ids - {e.job_id for e in ledger.values()}
            raise TimeoutError(f"jobs never emitted: {sorted(missing)}; {watcher.status}")
        for event in watcher.step():
            ledger.setdefault(event.natural_key, event)
            watcher.confirm(event)
            emitted += 1
        time.sleep(watcher.next_delay())
    return emitted
