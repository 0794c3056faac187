"""The fax driver as gatewayd's supervisor sees it: ``name``, ``async run(emit)``, ``status()``,
and its one job contract: ``submit(job)`` -- make one call sending these pages, and report it --
and ``cancel(job_id)``.

One blocking worker thread per modem (``FaxModem`` is blocking). Each worker sends the jobs
submitted to it in order; when none waits it listens for RINGs in short slices, so a new job
waits at most one slice. Every call, sent or received, is emitted as one ``FaxCall`` (an outgoing
one names its ``job_id``); the start of a job's call as ``CallStarted``, and a job no call can
send (its rendered pages gone from the spool) as ``JobNotSent``. Whether a job is done, tried
again later or given up is not the driver's business: ``gatewayd/faxing/jobs.py`` owns the job,
its row in the database is the truth, and it submits the job again when a retry is due.

A modem that cannot be opened, is locked by another program (mgetty, minicom) or vanishes (USB
unplugged, the lab's pty closed) is reopened with back-off; its jobs wait, ``status()`` shows it
``down`` with the error, and the other modems carry on: a worker catches ``FaxError``, the driver's
one exception root, so nothing one modem does ends the driver. Cancelling an active job
makes the worker's port fail its next read or write (within one 20 ms read slice): the T.30
engine ends the call as a local modem error, the call record is still emitted, and the modem is
reopened (a real modem hangs up on the DTR drop of the close).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import serial
import structlog

from . import documents, t4
from .channel import ModemChannel
from .config import FaxConfig, ModemConfig
from .errors import FaxError
from .classes import FaxModemOfAnyClass, open_modem
from .modem import NoIncomingCall

log = structlog.get_logger("drivers.fax")

Emit = Callable[[Any], Awaitable[None]]

#: How long an idle modem listens for RING before looking at its queue again.
IDLE_SLICE_S = 1.0
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
#: A worker waits this long for the ledger to store an event before giving up on the daemon.
STORE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class FaxJob:
    """One call's work: send ``pages`` of ``document`` to ``dial``."""

    job_id: str
    modem: str
    dial: str  #: what follows ATDT
    document: Path  #: the rendered pages, a TIFF Class F (``documents.save_pages``)
    pages: tuple[int, ...]  #: 1-based pages of ``document`` to send (a retry: those not confirmed)


@dataclass(frozen=True)
class CallStarted:
    """A job's call begins (its job is ``sending``). Not a device event: gatewayd's job row."""

    kind: ClassVar[str] = "fax_job"
    device: str
    occurred_at: datetime
    job_id: str


@dataclass(frozen=True)
class JobNotSent:
    """No call could send the job (its pages unreadable): it fails without a call record."""

    kind: ClassVar[str] = "fax_job"
    device: str
    occurred_at: datetime
    job_id: str
    reason: str


# ---------------------------------------------------------------------------- the port


class _AbortablePort:
    """A pyserial port whose reads and writes fail once ``abort`` is set: how a call in
    progress in a blocking worker is cut short (pyserial has no cancel of its own)."""

    def __init__(self, port: serial.SerialBase, abort: threading.Event):
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_abort", abort)

    def _check(self) -> None:
        if self._abort.is_set():
            raise serial.SerialException("call cut short (job cancelled, or the daemon is stopping)")

    def read(self, size: int = 1) -> bytes:
        self._check()
        return self._port.read(size)

    def write(self, data: bytes) -> int | None:
        self._check()
        return self._port.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._port, name, value)  # dtr, rts: the modem control lines


# ---------------------------------------------------------------------------- one modem


@dataclass
class ModemStatus:
    name: str
    port: str
    state: str = "starting"  #: starting, idle, sending, receiving, down
    job: str | None = None
    last_error: str = ""
    last_error_at: str | None = None
    calls: int = 0
    reopens: int = 0
    fax_class: str = ""  #: the class in use: as configured, or what "auto" picked


@dataclass
class _Worker:
    config: ModemConfig
    status: ModemStatus
    queue: list[FaxJob] = field(default_factory=list)
    active: FaxJob | None = None
    abort: threading.Event = field(default_factory=threading.Event)


class FaxDriver:
    """The modems of ``[fax]``: queues, sends, answers, and emits every call."""

    def __init__(self, config: FaxConfig, spool: Path, *, name: str = "fax",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.name = name
        self.config = config
        self.clock = clock
        self.incoming = spool / "in"  #: received faxes, one folder per UTC day
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._workers = {m.name: _Worker(m, ModemStatus(m.name, m.port)) for m in config.modems}

    # ------------------------------------------------------------------ jobs (any thread)

    @property
    def modems(self) -> list[str]:
        return list(self._workers)

    def least_busy(self) -> str:
        """The modem a new job goes to when the request names none: the shortest queue among
        those up, else among all (it waits until its modem comes back)."""
        if not self._workers:
            raise LookupError("no [[fax.modems]] configured")
        with self._lock:
            workers = sorted(self._workers.values(), key=lambda w: (
                w.status.state == "down", len(w.queue) + (w.active is not None)))
            return workers[0].config.name

    def submit(self, job: FaxJob) -> None:
        """Queue ``job`` on its modem; it is called when the modem is free."""
        worker = self._workers.get(job.modem)
        if worker is None:
            raise LookupError(f"no modem named {job.modem!r} (configured: {', '.join(self._workers)})")
        with self._lock:
            if any(j.job_id == job.job_id for j in worker.queue) or (
                    worker.active and worker.active.job_id == job.job_id):
                return  # already known: a restore after a driver restart
            worker.queue.append(job)
            self._lock.notify_all()

    def cancel(self, job_id: str) -> str:
        """``"removed"`` (it was waiting), ``"aborting"`` (its call is cut short; its record
        still comes), or ``"unknown"`` (not here: e.g. waiting for a retry, which is gatewayd's)."""
        with self._lock:
            for worker in self._workers.values():
                for job in worker.queue:
                    if job.job_id == job_id:
                        worker.queue.remove(job)
                        return "removed"
                if worker.active is not None and worker.active.job_id == job_id:
                    worker.abort.set()
                    return "aborting"
        return "unknown"

    def _next(self, worker: _Worker) -> FaxJob | None:
        with self._lock:
            if not worker.queue:
                return None
            worker.active = worker.queue.pop(0)
            return worker.active

    # ------------------------------------------------------------------ the driver contract

    async def run(self, emit: Emit) -> None:
        loop = asyncio.get_running_loop()

        def emit_from_thread(event: Any) -> None:
            # The worker waits until the event is stored: nothing is lost if the daemon dies next.
            asyncio.run_coroutine_threadsafe(emit(event), loop).result(timeout=STORE_TIMEOUT_S)

        self._stop.clear()
        pool = ThreadPoolExecutor(max(1, len(self._workers)), thread_name_prefix=f"{self.name}-modem")
        futures = [loop.run_in_executor(pool, self._work, w, emit_from_thread)
                   for w in self._workers.values()]
        try:
            await asyncio.gather(*futures)
        finally:
            # Stopping (or one worker failed): calls are cut short, their records still stored
            # while we wait here (the loop keeps serving the workers' emits), then all leave.
            self._stop.set()
            for worker in self._workers.values():
                worker.abort.set()
            await asyncio.wait(futures, timeout=STORE_TIMEOUT_S)
            pool.shutdown(wait=False)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "name": self.name, "kind": "fax",
                "modems": [{**vars(w.status), "queued": len(w.queue)} for w in self._workers.values()],
            }

    # ------------------------------------------------------------------ a worker thread

    def _work(self, worker: _Worker, emit: Callable[[Any], None]) -> None:
        structlog.contextvars.bind_contextvars(driver=self.name, modem=worker.config.name)
        backoff = FIRST_BACKOFF_S
        while not self._stop.is_set():
            worker.abort.clear()
            channel = self._channel(worker)
            try:
                modem = open_modem(worker.config, channel)
                worker.status.fax_class = modem.config.fax_class
            except FaxError as err:  # locked by another program, missing, mute: this modem only
                channel.close()
                self._down(worker, err, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = FIRST_BACKOFF_S
            try:
                self._serve(worker, modem, emit)
            except FaxError as err:
                if not self._stop.is_set():
                    self._down(worker, err, FIRST_BACKOFF_S)
                    self._stop.wait(FIRST_BACKOFF_S)
            finally:
                modem.close()
            worker.status.reopens += 1
        worker.status.state = "stopped"

    def _channel(self, worker: _Worker) -> ModemChannel:
        cfg = worker.config
        return ModemChannel(
            cfg.port, baudrate=cfg.baudrate, flow=cfg.flow_control, lock_dir=cfg.lock_dir,
            opener=lambda *a, **kw: _AbortablePort(serial.serial_for_url(*a, **kw), worker.abort))

    def _down(self, worker: _Worker, err: Exception, retry_in: float) -> None:
        worker.status.state = "down"
        worker.status.last_error = str(err)
        worker.status.last_error_at = self.clock().isoformat()
        log.warning("fax.modem_down", error=str(err), retry_in_s=retry_in)

    def _serve(self, worker: _Worker, modem: FaxModemOfAnyClass, emit: Callable[[Any], None]) -> None:
        """Until the port fails or the driver stops: send what is due, else answer calls."""
        worker.status.state = "idle"
        log.info("fax.modem_ready", port=worker.config.port)
        while not self._stop.is_set():
            job = self._next(worker)
            if job is not None:
                self._send(worker, modem, job, emit)
                if worker.abort.is_set():
                    return  # the port was made to fail: reopen it
                modem.initialize()
                continue
            try:
                call = modem.receive_fax(t4.check_page, wait=IDLE_SLICE_S,
                                         store_dir=self.incoming / self.clock().strftime("%Y%m%d"))
            except NoIncomingCall:
                continue
            worker.status.calls += 1
            emit(call)
            log.info("fax.received", call_id=call.call_id, status=call.status.value,
                     pages=call.pages_delivered, remote=call.remote_station_id)
            if worker.abort.is_set():
                return
            worker.status.state = "idle"
            modem.initialize()

    def _send(self, worker: _Worker, modem: FaxModemOfAnyClass, job: FaxJob, emit: Callable[[Any], None]) -> None:
        bound = log.bind(job=job.job_id)
        worker.status.state, worker.status.job = "sending", job.job_id
        emit(CallStarted(job.modem, self.clock(), job.job_id))
        try:
            # Our own spool file, already held to the site's page limit when it was rendered.
            rendered = documents.render(job.document, max_pages=max(job.pages, default=1))
            pages = [rendered[n - 1] for n in job.pages]
            if not pages:
                raise IndexError("no pages to send")
        except (OSError, documents.DocumentError, IndexError) as err:
            # The spool was cleaned or spoiled under us: no call can send this job.
            self._idle(worker)
            emit(JobNotSent(job.modem, self.clock(), job.job_id, f"rendered pages unreadable: {err!r}"))
            return
        call = modem.send_fax(pages, job.dial, job_id=job.job_id, call_id=uuid.uuid4().hex,
                              page_numbers=job.pages)
        worker.status.calls += 1
        self._idle(worker)
        bound.info("fax.sent", call_id=call.call_id, hangup=call.hangup.code.value,
                   delivered=[p.page for p in call.pages if p.delivered], pages=list(job.pages))
        emit(call)

    def _idle(self, worker: _Worker) -> None:
        with self._lock:
            worker.active = None
        worker.status.state, worker.status.job = "idle", None
