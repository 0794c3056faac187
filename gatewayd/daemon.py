"""``gatewayd run``: one asyncio loop holding the API server, the drivers and the ledger thread."""

from __future__ import annotations

import asyncio
import grp
import os
import signal
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import structlog
from sqlalchemy.exc import DBAPIError

from gatewayd import config as config_mod
from gatewayd import checkup as checkup_mod
from gatewayd import db, desk, events, faxing, printing, storage, systemd
from gatewayd.api import routes
from gatewayd.api.app import Api
from gatewayd.api.server import ApiServer
from gatewayd.audit import DAEMON
from gatewayd.copying import readings
from gatewayd.ledger import Ledger, utcnow
from gatewayd.storage import StorageHealth
from gatewayd.services import Services
from gatewayd.supervisor import Supervisor

log = structlog.get_logger("gatewayd")


def build_drivers(config: config_mod.Config, ledger: Ledger, writer: Executor) -> list[Any]:
    """The drivers the configuration asks for (none until their sections are configured).

    ``ledger`` (with the daemon's services) and ``writer`` (the single database thread) are for
    the copiers, which start from their last stored readings and close waiting copy tickets.
    """
    drivers: list[Any] = []
    if "snmp" in config.sections:
        from gatewayd.copying.copiers import Copiers  # pysnmp only where copiers are configured

        drivers.append(Copiers.build(config, ledger, writer))
    if "cups" in config.sections:
        from drivers.cups.driver import CupsDriver  # pycups only where printers are configured

        config.state_dir.mkdir(parents=True, exist_ok=True)
        drivers.append(CupsDriver(config.sections["cups"], cursor_path=config.state_dir / "cups-cursor.json"))
    if "fax" in config.sections:
        from drivers.fax.driver import FaxDriver  # pyserial only where modems are configured

        drivers.append(FaxDriver(config.sections["fax"], config.spool_dir / "fax"))
    return drivers


#: Driver events that need more than ``events.from_driver`` (a print job names its ticket in its
#: name or job-account-id option): kind -> adapter.
EVENT_ADAPTERS: dict[str, Callable[[Any], events.EventIn]] = {"print_job": printing.event_in}

#: What drivers emit that is not a device event but the new state of something the ledger keeps
#: (a fax job's queue state): kind -> applier, run on the ledger's thread.
STATE_UPDATES: dict[str, Callable[[Ledger, Any], None]] = {faxing.JOB_KIND: faxing.apply_job_update}


def event_kinds() -> dict[str, events.EventKind]:
    """How each kind of device event finds its ticket and becomes charge lines."""
    return {kind.kind: kind for kind in (printing.PrintJobs(), faxing.FaxCalls(), readings.MeterReadings())}


def keep_private(config: config_mod.Config) -> None:
    """The state and spool directories 0750 and the SQLite files 0640 at most, also when an
    earlier run (or a hand) made them with a looser umask. Only what this user owns is touched."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    config.spool_dir.mkdir(parents=True, exist_ok=True)
    places = [(config.state_dir, 0o750), (config.spool_dir, 0o750)]
    if config.database_url.startswith("sqlite:///"):
        database = Path(config.database_url.removeprefix("sqlite:///"))
        places += [(Path(f"{database}{suffix}"), 0o640) for suffix in ("", "-wal", "-shm")]
    for place, most in places:
        try:
            info = place.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == os.geteuid() and info.st_mode & 0o777 & ~most:
            place.chmod(info.st_mode & most)
            log.warning("state.permissions_tightened", path=str(place), mode=oct(info.st_mode & most))


class Daemon:
    def __init__(self, config: config_mod.Config, *, state_dir: Path | None = None, socket: Path | None = None):
        self.config = config
        self._overrides = {"state_dir": state_dir, "socket": socket}
        self._stop = asyncio.Event()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="ledger")

    def _reload(self) -> None:
        try:
            fresh = config_mod.load(self.config.path, **self._overrides)
        except config_mod.ConfigError as err:
            log.error("config.reload_refused", problems=err.lines, keeping=str(self.config.path))
            return
        for fixed in ("database", "api", "paths"):
            if getattr(fresh, fixed) != getattr(self.config, fixed):
                log.warning("config.restart_needed", section=fixed)
        for section in ("cups", "snmp", "fax"):  # running drivers keep the devices they started with
            if fresh.raw.get(section) != self.config.raw.get(section):
                log.warning("config.restart_needed", section=section)
        self.config = fresh
        # The price list and the dial plan are read per job, so a new rate table applies at once.
        self.services.config = fresh
        log.info("config.reloaded", path=str(fresh.path))

    async def _emit(self, event: Any) -> None:
        """Drivers hand events here; they are stored (and matched) before the driver goes on."""
        loop = asyncio.get_running_loop()
        if apply := STATE_UPDATES.get(type(event).kind):
            await loop.run_in_executor(self._writer, apply, self.ledger, event)
            return
        record = EVENT_ADAPTERS.get(type(event).kind, events.from_driver)(event)
        await loop.run_in_executor(self._writer, lambda: self.ledger.record_event(DAEMON, record, manual=False))

    async def _watchdog(self, interval: float) -> None:
        while True:
            systemd.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def _check_storage(self, engine: Any, health: StorageHealth, *, starting: bool = False) -> bool:
        """Probe the database on the writer thread; True when its state changed. At start a
        database that cannot be written (read-only, unreachable) stops the daemon, named."""
        loop = asyncio.get_running_loop()
        try:
            if starting:
                await loop.run_in_executor(self._writer, db.migrate, engine)
            problem, detail = await loop.run_in_executor(self._writer, storage.probe, engine)
        except DBAPIError as err:
            problem = storage.cause_of(err, engine)
            if problem is None:
                raise
            detail = str(err.orig).strip().splitlines()[0][:200]
        changed = health.set(problem, detail, utcnow())
        if starting and problem in (storage.READ_ONLY, storage.UNREACHABLE):
            systemd.notify(f"STATUS={health.status_line('')}")
            raise storage.StorageUnavailable(
                f"the database at {engine.url.render_as_string(hide_password=True)} is {problem}: {detail}")
        if changed or (starting and problem):
            (log.error if problem else log.info)("storage.problem" if problem else "storage.ok",
                                                 problem=problem, detail=detail)
        return changed

    async def _keep_checking(self, engine: Any, checkup: checkup_mod.Checkup, serving: str) -> None:
        """The storage probe (a request may have seen the problem first), the spool's room and
        the deadlines again every few seconds, for /status; the systemd status line follows
        whatever the storage's state is now."""
        loop = asyncio.get_running_loop()
        shown = serving
        while True:
            await asyncio.sleep(checkup_mod.CHECK_S)
            await self._check_storage(engine, checkup.storage)
            await loop.run_in_executor(self._writer, checkup.check)
            if (line := checkup.storage.status_line(serving)) != shown:
                systemd.notify(f"STATUS={line}")
                shown = line

    async def run(self) -> None:
        config = self.config
        loop = asyncio.get_running_loop()
        keep_private(config)
        engine = db.make_engine(config.database_url)
        health = StorageHealth()
        await self._check_storage(engine, health, starting=True)
        # One Services for the whole daemon: a reload (SIGHUP) replaces its config, and every
        # component -- routes, matching, the copiers' retries -- reads the price list from it.
        self.services = Services(config)
        self.ledger = Ledger(db.session_factory(engine), config.timezone, services=self.services,
                             kinds=event_kinds())
        drivers = build_drivers(config, self.ledger, self._writer)
        self.services.drivers.update({d.name: d for d in drivers})
        # Background work on the ledger's data runs under the supervisor too (restart, status).
        supervisor = Supervisor([*drivers, *faxing.keepers(self.services, self.ledger, self._writer),
                                 desk.FileKeeper(self.services, self.ledger, self._writer)], self._emit)
        checkup = checkup_mod.Checkup(self.ledger, self.services, health)
        await loop.run_in_executor(self._writer, checkup.check)  # /status has it from the first request
        group = config.api["group"]
        console = None
        if config.console["listen"]:
            from gatewayd.console.server import Console  # uvicorn only when the console is on

            console = Console(config.console["listen"], session_timeout_s=config.console["session_timeout_s"],
                              state_dir=config.state_dir, max_connections=config.console["max_connections"],
                              request_timeout=config.api["request_timeout"], idle_timeout=config.api["idle_timeout"])
        api = Api(
            self.ledger,
            self._writer,
            routes(),
            staff_group_gid=grp.getgrnam(group).gr_gid if group else None,
            device_status=supervisor.status,
            site={k: config.site[k] for k in ("name", "country", "timezone", "currency")},
            services=self.services,
            console=console,
            checkup=checkup,
        )
        server = ApiServer(
            config.socket_path, api.handle, mode=int(config.api["mode"], 8), group=group,
            max_body=config.api["max_body_bytes"], max_connections=config.api["max_connections"] or None,
            request_timeout=config.api["request_timeout"], idle_timeout=config.api["idle_timeout"],
        )
        loop.set_exception_handler(server.log.asyncio_handler)
        await server.start()
        if console is not None:
            await console.start(api)
        supervisor.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        interval = systemd.watchdog_interval()
        watchdog = asyncio.create_task(self._watchdog(interval)) if interval else None
        checking = asyncio.create_task(self._keep_checking(engine, checkup, f"serving on {config.socket_path}"))
        log.info("daemon.ready", socket=str(config.socket_path), console=console.url if console else None,
                 database=engine.url.render_as_string(hide_password=True))
        systemd.notify(f"READY=1\nSTATUS=serving on {config.socket_path}")
        await self._stop.wait()

        systemd.notify("STOPPING=1")
        log.info("daemon.stopping")
        if watchdog:
            watchdog.cancel()
        if console is not None:
            await console.stop()
        checking.cancel()
        await server.stop()
        await supervisor.stop()
        self._writer.shutdown(wait=True)  # in-flight writes finish before the process exits
        engine.dispose()
        log.info("daemon.stopped")
