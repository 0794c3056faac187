"""The job watcher: a pull subscription for job-completed events plus a periodic catch-up scan.

Blocking: a :class:`Watcher` and its :class:`CupsClient` live in one worker thread (see
:mod:`drivers.cups.driver`). Each :meth:`Watcher.step` returns the finished jobs not yet emitted;
the caller emits each one and then calls :meth:`Watcher.confirm`. Delivery is at-least-once:
anything not confirmed is found again by the next scan, and ``natural_key`` makes the duplicate
a no-op in the ledger.

Why both a subscription and a scan: the subscription gives prompt events without polling every
job, but cupsd keeps only ``MaxEvents`` (100) events per subscription and loses unsaved
subscriptions on a crash; the scan (Get-Jobs from the low-water job id) closes any such gap, and
runs at start, after every (re)subscription, after a sequence gap, and every
``catchup_interval``.

What no watcher can recover: cupsd writes its job files lazily (``DirtyCleanInterval``, 30 s by
default), so a ``kill -9`` or power cut forgets jobs submitted in the last 30 s -- measured in
the lab. Sites should set ``DirtyCleanInterval 0`` in cupsd.conf; the lab does.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from drivers.cups.attributes import (
    Counted,
    QueueDefaults,
    job_event,
    queue_of,
    submit_time_pages,
)
from drivers.cups.client import TERMINAL_STATES, Attributes, CupsClient
from drivers.cups.config import CupsConfig
from drivers.cups.cursor import JobCursor
from drivers.cups.errors import (
    CupsError,
    CupsNotFound,
    CupsRequestFailed,
    CupsUnavailable,
)
from drivers.cups.events import PageCountSource, PrintJobFinished
from drivers.cups.pagecount import DocumentPages, count_many

log = structlog.get_logger()

_HELD, _STOPPED = 4, 6
#: Back-off while cupsd is unreachable: it restarts in ~30 ms, but a removed package or a
#: stopped service should not be hammered.
_RETRY_MAX_S = 10.0


@dataclass(frozen=True)
class QueueStatus:
    present: bool
    #: IPP printer-state: idle / processing / stopped.
    state: str = ""
    accepting: bool = False
    message: str = ""


@dataclass(frozen=True)
class StuckJob:
    job_id: int
    queue: str
    state: str
    reasons: str
    since: datetime


@dataclass(frozen=True)
class WatcherStatus:
    server: str
    connected: bool = False
    subscription_id: int | None = None
    lease_renewed_at: datetime | None = None
    last_scan_at: datetime | None = None
    low_water: int = 1
    jobs_emitted: int = 0
    last_error: str | None = None
    queues: Mapping[str, QueueStatus] = field(default_factory=dict)
    stuck_jobs: tuple[StuckJob, ...] = ()


_PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}
_JOB_STATES = {3: "pending", 4: "held", 5: "processing", 6: "stopped"}


class Watcher:
    def __init__(self, config: CupsConfig, *, client: CupsClient | None = None,
                 cursor_path: Path | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 page_counter: Callable[[Sequence[Path]], list[DocumentPages]] = count_many):
        self.config = config
        self.client = client or CupsClient(config.server)
        self._cursor = JobCursor(cursor_path, config.server)
        self._monotonic = monotonic
        self._now = now
        self._count_pages = page_counter
        self._low_water = self._cursor.load()
        self._subscription: int | None = None
        self._next_sequence = 1
        self._renew_at = 0.0
        self._scan_at = 0.0  # scan at the first step
        self._retry_delay = 0.0
        #: Job ids found unfinished or finished-but-unconfirmed by the last scan.
        self._unsettled: set[int] = set()
        self._max_seen = self._low_water - 1
        #: natural_key -> job id, for the keys confirmed while their job is >= low water.
        self._emitted: dict[str, int] = {}
        self._defaults: dict[str, QueueDefaults] = {}
        self.status = WatcherStatus(server=config.server, low_water=self._low_water)

    # -- the loop's two entry points ---------------------------------------------------------
    def step(self) -> list[PrintJobFinished]:
        """One round: keep the subscription, pull its events, scan when due."""
        try:
            events = self._step()
        except CupsUnavailable as err:
            self._on_unavailable(err)
            return []
        if not self.status.connected or self._retry_delay:
            log.info("cups.connected", server=self.config.server)
        self._retry_delay = 0.0
        self._set(connected=True, last_error=None)
        return events

    def confirm(self, event: PrintJobFinished) -> None:
        """``event`` was stored: never emit it again in this process; advance the cursor."""
        self._emitted[event.natural_key] = event.job_id
        self._unsettled.discard(event.job_id)
        self._set(jobs_emitted=self.status.jobs_emitted + 1)
        self._advance_low_water()

    def next_delay(self) -> float:
        """Seconds until the next step is worth doing."""
        return self._retry_delay or self.config.poll_interval

    def close(self) -> None:
        if self._subscription is not None:
            # A best effort: if cupsd is gone the lease expires by itself.
            with contextlib.suppress(CupsError):
                self.client.cancel_subscription(self._subscription)
            self._subscription = None

    # -- internals ---------------------------------------------------------------------------
    def _step(self) -> list[PrintJobFinished]:
        now = self._monotonic()
        if self._subscription is None:
            self._subscribe(now)
        elif now >= self._renew_at:
            self._renew(now)
        # job id -> the notification's impressions; a job can come from both in one step.
        finished: dict[int, int | None] = {}
        if self._subscription is not None:
            finished.update(self._pull())
        if self._monotonic() >= self._scan_at:
            for job_id in self._scan():
                finished.setdefault(job_id, None)
        return self._events(finished)

    def _subscribe(self, now: float) -> None:
        self._subscription = self.client.create_subscription(self.config.lease)
        self._next_sequence = 1
        self._renew_at = now + self.config.lease / 2
        self._scan_at = 0.0  # events may have been missed while we had no subscription
        self._set(subscription_id=self._subscription, lease_renewed_at=self._now())
        log.info("cups.subscribed", server=self.config.server, subscription=self._subscription,
                 lease=self.config.lease)

    def _renew(self, now: float) -> None:
        assert self._subscription is not None
        try:
            self.client.renew_subscription(self._subscription, self.config.lease)
        except CupsNotFound:
            log.warning("cups.subscription_lost", subscription=self._subscription)
            self._subscribe(now)
            return
        self._renew_at = now + self.config.lease / 2
        self._set(lease_renewed_at=self._now())

    def _pull(self) -> dict[int, int | None]:
        assert self._subscription is not None
        try:
            notes = self.client.notifications(self._subscription, self._next_sequence)
        except CupsNotFound:
            # Expired, or cupsd was killed before it saved subscriptions.conf.
            log.warning("cups.subscription_lost", subscription=self._subscription)
            self._subscription = None
            self._subscribe(self._monotonic())
            return {}
        finished: dict[int, int | None] = {}
        for note in notes:
            seq = int(note.get("notify-sequence-number", 0))
            if seq > self._next_sequence:
                # cupsd dropped events (MaxEvents per subscription): the scan recovers them.
                log.info("cups.events_dropped", expected=self._next_sequence, got=seq)
                self._scan_at = 0.0
            self._next_sequence = max(self._next_sequence, seq + 1)
            if note.get("notify-subscribed-event") != "job-completed":
                continue
            notified = note.get("job-impressions-completed")
            finished[int(note["notify-job-id"])] = notified if isinstance(notified, int) else None
        return finished

    def _events(self, finished: Mapping[int, int | None]) -> list[PrintJobFinished]:
        """Events for finished jobs: attributes, spooled documents, one batch page count."""
        jobs = [a for a in map(self._terminal_attributes, sorted(finished)) if a is not None]
        fetched: list[Path] = []  # every temp file, removed even if cupsd goes away mid-way
        try:
            documents = {int(a["job-id"]): self._fetch_documents(a, fetched) for a in jobs}
            counts = {c.path: c for c in self._count_pages(
                [p for docs in documents.values() if docs for p in docs])}
        finally:
            for p in fetched:
                p.unlink(missing_ok=True)
        events = []
        for attrs in jobs:
            job_id = int(attrs["job-id"])
            queue = queue_of(attrs)
            event = job_event(attrs, server=self.config.server, queue=self.config.queue(queue),
                              defaults=self._queue_defaults(queue),
                              counted=self._counted(attrs, documents[job_id], counts),
                              notified_impressions=finished[job_id])
            if event.natural_key not in self._emitted:
                events.append(event)
        return events

    def _terminal_attributes(self, job_id: int) -> Attributes | None:
        try:
            attrs = self.client.job_attributes(job_id)
        except CupsNotFound:
            # Purged from history before we read it (MaxJobs, PreserveJobHistory, its queue
            # deleted): nothing to bill from; say so loudly, it is a configuration problem.
            log.error("cups.job_vanished", job_id=job_id)
            return None
        if int(attrs.get("job-state", 0)) not in TERMINAL_STATES:
            return None  # restarted (Restart-Job) after the notification: the scan follows it
        return attrs

    def _fetch_documents(self, attrs: Attributes, fetched: list[Path]) -> list[Path] | None:
        """The job's spooled documents as temp files (also appended to ``fetched``, for the
        caller to remove); None if any is gone (files purged, queue deleted)."""
        job_id, queue = int(attrs["job-id"]), queue_of(attrs)
        paths: list[Path] = []
        for number in range(1, int(attrs.get("number-of-documents", 1) or 0) + 1):
            try:
                path = self.client.fetch_document(queue, job_id, number)
            except CupsRequestFailed as err:
                log.info("cups.document_unavailable", job_id=job_id, document=number,
                         reason=err.message)
                return None
            fetched.append(path)
            paths.append(path)
        return paths

    def _counted(self, attrs: Attributes, documents: list[Path] | None,
                 counts: Mapping[Path, DocumentPages]) -> Counted:
        if documents is not None:
            results = [counts[p] for p in documents]
            for r in results:
                if r.problem:
                    log.warning("cups.page_count_failed", job_id=attrs["job-id"],
                                problem=r.problem)
            if all(r.pages is not None for r in results):
                return Counted(sum(r.pages or 0 for r in results),
                               PageCountSource.SPOOLED_DOCUMENT)
        at_submit = submit_time_pages(attrs)
        if at_submit is not None:
            return Counted(at_submit, PageCountSource.AT_SUBMIT)
        return Counted(None, PageCountSource.CUPS_IMPRESSIONS)

    def _queue_defaults(self, queue: str) -> QueueDefaults:
        if queue not in self._defaults:
            try:
                attrs = self.client.queue_attributes(queue)
            except CupsNotFound:
                attrs = {}  # the queue was removed after the job ran
            self._defaults[queue] = QueueDefaults.from_attributes(attrs)
        return self._defaults[queue]

    def _scan(self) -> list[int]:
        """Finished jobs from the low-water mark on that were not emitted yet."""
        self._defaults.clear()  # pick up queue changes made since the last scan
        jobs = self.client.jobs_from(self._low_water)
        wall = self._now()
        finished: list[int] = []
        stuck: list[StuckJob] = []
        unsettled: set[int] = set()
        for job_id, attrs in sorted(jobs.items()):
            self._max_seen = max(self._max_seen, job_id)
            state = int(attrs.get("job-state", 0))
            if state not in TERMINAL_STATES:
                unsettled.add(job_id)
                stuck += self._stuck(job_id, attrs, state, wall)
                continue
            key = (f"{self.config.server}/{queue_of(attrs)}/{job_id}/"
                   f"{attrs.get('time-at-completed')}")
            if key in self._emitted:
                continue
            unsettled.add(job_id)
            finished.append(job_id)
        self._unsettled = unsettled
        self._scan_at = self._monotonic() + self.config.catchup_interval
        self._set(last_scan_at=wall, queues=self._queue_status(), stuck_jobs=tuple(stuck))
        self._advance_low_water()
        return finished

    def _stuck(self, job_id: int, attrs: Attributes, state: int,
               wall: datetime) -> list[StuckJob]:
        created = attrs.get("time-at-creation")
        if state not in (_HELD, _STOPPED) or not isinstance(created, int):
            return []
        since = datetime.fromtimestamp(created, UTC)
        if (wall - since).total_seconds() < self.config.stuck_after:
            return []
        reasons = attrs.get("job-state-reasons", "")
        return [StuckJob(job_id, queue_of(attrs), _JOB_STATES[state],
                         ",".join(reasons) if isinstance(reasons, list) else str(reasons), since)]

    def _queue_status(self) -> dict[str, QueueStatus]:
        present = self.client.queues()
        result = {}
        for q in self.config.queues:
            attrs = present.get(q.name)
            if attrs is None:
                result[q.name] = QueueStatus(present=False, message="queue not found on cupsd")
                continue
            result[q.name] = QueueStatus(
                present=True,
                state=_PRINTER_STATES.get(int(attrs.get("printer-state", 0)), "unknown"),
                accepting=bool(attrs.get("printer-is-accepting-jobs", False)),
                message=str(attrs.get("printer-state-message", "")))
        return result

    def _advance_low_water(self) -> None:
        low = min(self._unsettled, default=self._max_seen + 1)
        if low <= self._low_water:
            return
        self._low_water = low
        self._emitted = {k: j for k, j in self._emitted.items() if j >= low}
        self._cursor.save(low)
        self._set(low_water=low)

    def _on_unavailable(self, err: CupsUnavailable) -> None:
        if self.status.connected or self._retry_delay == 0.0:
            log.warning("cups.unavailable", server=self.config.server, error=str(err))
        self.client.close()
        # The subscription may survive a cupsd restart; _pull finds out and re-creates it. Scan
        # on reconnection either way: jobs may have finished while we could not ask.
        self._scan_at = 0.0
        self._retry_delay = min(max(self._retry_delay * 2, self.config.poll_interval),
                                _RETRY_MAX_S)
        self._set(connected=False, last_error=str(err))

    def _set(self, **changes: Any) -> None:
        # One immutable snapshot, swapped whole: status() reads it from the event-loop thread.
        self.status = replace(self.status, **changes)
