"""Faults: cupsd killed (-9) mid-job and restarted, the watcher down while jobs finish, the
subscription lost, a queue removed, a job stuck held -- nothing crashes, nothing is lost, and
the fake ledger (a dict keyed by natural key) records every job exactly once."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drivers.cups.client import CupsClient
from drivers.cups.driver import CupsDriver
from drivers.cups.events import PrintJobFinished
from drivers.cups.submit import PrintRequest, submit
from drivers.cups.watcher import Watcher
from lab.cups.cupsd import CupsLab
from lab.cups.documents import make_documents
from lab.cups.harness import lab_config, watch_until


def _submit(lab: CupsLab, doc: Path, queue: str, n: int, first_ticket: int) -> set[int]:
    config = lab_config(lab)
    return {submit(config, PrintRequest(queue, doc, f"T-2026-{first_ticket + i:06d}",
                                        copies=2)).job_id for i in range(n)}


def _assert_once_each(ledger: dict[str, PrintJobFinished], job_ids: set[int]) -> None:
    per_job = Counter(e.job_id for e in ledger.values())
    assert set(per_job) >= job_ids
    assert {j: n for j, n in per_job.items() if n != 1} == {}


def _wait_all_final(lab: CupsLab, job_ids: set[int], timeout: float = 30) -> None:
    client = CupsClient(str(lab.socket))
    deadline = time.monotonic() + timeout
    while any(client.job_attributes(j)["job-state"] < 7 for j in job_ids):
        assert time.monotonic() < deadline, "jobs did not finish"
        time.sleep(0.05)


def test_cupsd_killed_mid_job_then_watcher_restarted(private_lab: CupsLab, tmp_path: Path
                                                     ) -> None:
    doc = make_documents(private_lab.dir / "docs")["3p-A4-colour"]
    cursor = tmp_path / "cups.cursor"
    config = lab_config(private_lab)
    ledger: dict[str, PrintJobFinished] = {}
    watcher = Watcher(config, cursor_path=cursor)
    watcher.step()

    first = _submit(private_lab, doc, "ps", 8, 200)
    # Wait for the first job to finish, so the rest are queued or printing when cupsd dies.
    watch_until(watcher, ledger, {min(first)})
    private_lab.kill()
    assert watcher.step() == []
    assert watcher.status.connected is False and watcher.status.last_error
    private_lab.start()
    watch_until(watcher, ledger, first)
    assert watcher.status.connected is True and watcher.status.last_error is None

    # The daemon dies (no close, no confirm of anything new); jobs finish while it is down.
    del watcher
    second = _submit(private_lab, doc, "pdf", 5, 300)
    _wait_all_final(private_lab, second)
    restarted = Watcher(config, cursor_path=cursor)
    assert restarted.status.low_water > min(first)  # the cursor survived
    emitted = watch_until(restarted, ledger, second)
    assert emitted == len(second)  # the cursor spared re-emitting the first batch
    _assert_once_each(ledger, first | second)


def test_subscription_lost_behind_our_back(private_lab: CupsLab) -> None:
    doc = make_documents(private_lab.dir / "docs")["1p-A4-mono"]
    config = lab_config(private_lab, catchup_interval=3600)  # the subscription must do it
    watcher = Watcher(config)
    watcher.step()
    old = watcher.status.subscription_id
    assert old is not None
    CupsClient(str(private_lab.socket)).cancel_subscription(old)
    jobs = _submit(private_lab, doc, "raw", 3, 400)
    ledger: dict[str, PrintJobFinished] = {}
    watch_until(watcher, ledger, jobs, timeout=10)
    assert watcher.status.subscription_id not in (None, old)
    _assert_once_each(ledger, jobs)


def test_removed_queue_and_stuck_job_in_status(private_lab: CupsLab) -> None:
    doc = make_documents(private_lab.dir / "docs")["1p-A4-mono"]
    config = lab_config(private_lab, stuck_after=60, catchup_interval=1)
    # Seen from two hours later, a held job is stuck.
    watcher = Watcher(config, now=lambda: datetime.now(UTC) + timedelta(hours=2))
    ledger: dict[str, PrintJobFinished] = {}
    done = _submit(private_lab, doc, "raw", 1, 500)
    # Deleting a queue makes cupsd purge its jobs' history (CUPS 2.4.2): only a watcher that
    # was running when they finished has them.
    watch_until(watcher, ledger, done)
    private_lab.remove_queue("raw")
    out = subprocess.run(["lp", "-h", str(private_lab.socket), "-d", "pdf", "-H", "indefinite",
                          str(doc)], capture_output=True, text=True, check=True).stdout
    held = int(out.split()[3].rsplit("-", 1)[1])  # "request id is pdf-2 (1 file(s))"
    time.sleep(1.1)  # the next catch-up scan is due
    assert watcher.step() == []
    (event,) = ledger.values()
    assert (event.queue, event.device) == ("raw", "printer-raw")
    status = watcher.status
    assert status.queues["raw"].present is False
    assert status.queues["pdf"].present is True
    assert [(s.job_id, s.queue, s.state) for s in status.stuck_jobs] == [(held, "pdf", "held")]
    assert status.low_water == held  # the held job keeps the scan looking at it


def test_driver_run_emits_and_reports_status(private_lab: CupsLab) -> None:
    doc = make_documents(private_lab.dir / "docs")["1p-A4-mono"]
    config = lab_config(private_lab)
    driver = CupsDriver(config, name="cups-lab")
    ledger: dict[str, PrintJobFinished] = {}

    async def emit(event: PrintJobFinished) -> None:
        ledger.setdefault(event.natural_key, event)

    async def scenario() -> None:
        task = asyncio.create_task(driver.run(emit))
        jobs = await asyncio.to_thread(_submit, private_lab, doc, "ps", 2, 600)
        for _ in range(200):
            if {e.job_id for e in ledger.values()} >= jobs:
                break
            await asyncio.sleep(0.05)
        private_lab.kill()  # the driver keeps running and says so
        for _ in range(100):
            if not driver.status()["connected"]:
                break
            await asyncio.sleep(0.05)
        status = driver.status()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert {e.job_id for e in ledger.values()} >= jobs
        assert status["running"] is True and status["connected"] is False
        assert status["jobs_emitted"] == 2 and status["queues"]["ps"]["present"] is True
        json.dumps(status)

    asyncio.run(scenario())
    assert driver.status()["running"] is False
