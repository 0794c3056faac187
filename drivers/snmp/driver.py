"""SnmpDriver: polls the configured copiers and takes billing reads (driver contract)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

from drivers.snmp.anomalies import Anomaly, compare
from drivers.snmp.clock import SystemClock
from drivers.snmp.config import DeviceConfig, SnmpConfig
from drivers.snmp.describe import describe, describe_anomaly
from drivers.snmp.errors import (
    AuthenticationFailed,
    CountersNotSettled,
    DeviceAnswerInvalid,
    DeviceUnreachable,
    NoReading,
    UnknownModel,
)
from drivers.snmp.oid import IDENTITY_OIDS
from drivers.snmp.profiles import DeviceIdentity, Profile
from drivers.snmp.reader import build_reading, choose_profile, identity_of, reading_oids
from drivers.snmp.reading import MeterReading
from drivers.snmp.session import SnmpSession
from drivers.snmp.stability import SettlePolicy, SettleWatch, Verdict

Emit = Callable[[MeterReading], Awaitable[None]]
KEPT_ANOMALIES = 20  # per device, newest last: enough for staff to see a pattern

_STATE_OF_ERROR = {DeviceUnreachable: "unreachable", AuthenticationFailed: "auth_failed",
                   DeviceAnswerInvalid: "invalid_answer", UnknownModel: "unknown_model"}


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def now(self) -> datetime: ...
    async def sleep(self, seconds: float) -> None: ...


@dataclass
class _Device:
    config: DeviceConfig
    session: SnmpSession | None = None
    profile: Profile | None = None
    identity: DeviceIdentity | None = None  #: what the device said it is, read once per device
    last: MeterReading | None = None
    error: NoReading | None = None
    error_at: datetime | None = None
    failures: int = 0
    anomalies: deque[Anomaly] = field(default_factory=lambda: deque(maxlen=KEPT_ANOMALIES))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SnmpDriver:
    name = "snmp"

    def __init__(self, config: SnmpConfig, *, previous: Mapping[str, MeterReading] | None = None,
                 clock: Clock | None = None):
        """``previous``: each device's last stored reading (from the ledger), so anomalies are
        detected across daemon restarts."""
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self._devices = {d.name: _Device(d) for d in config.devices}
        for name, reading in (previous or {}).items():
            if name in self._devices:
                self._devices[name].last = reading
        self._engine: SnmpEngine | None = None
        self._gate = asyncio.Semaphore(config.max_concurrent)

    # -- the contract -------------------------------------------------------------------------

    async def run(self, emit: Emit) -> None:
        """Poll every device every poll_interval forever; ``emit`` each reading."""
        try:
            async with asyncio.TaskGroup() as group:
                count = len(self._devices)
                for i, name in enumerate(self._devices):
                    group.create_task(self._poll_forever(name, emit, i / max(count, 1)))
        finally:
            self.close()

    def status(self) -> dict[str, Any]:
        return {"driver": self.name,
                "devices": [self.device_status(name) for name in self._devices]}

    # -- for the ticket flow ------------------------------------------------------------------

    async def read(self, device: str) -> MeterReading:
        """One reading now (no settling). Raises a NoReading subclass when there is none."""
        state = self._devices[device]
        async with state.lock:
            try:
                reading = await self._read(state)
            except NoReading as err:
                state.error, state.error_at = err, self.clock.now()
                state.failures += 1
                raise
            found = compare(state.last, reading,
                            max_pages_per_minute=state.config.max_pages_per_minute)
            state.anomalies.extend(found)
            if state.last is not None and state.last.serial != reading.serial:
                state.identity = None  # another device: ask what it is again next time
                if state.config.profile == "auto":
                    state.profile = None
            state.last, state.error, state.failures = reading, None, 0
            return reading

    async def billing_read(self, device: str, policy: SettlePolicy | None = None
                           ) -> MeterReading:
        """A reading fit to bill from: idle, counters unchanged over ``stable_polls`` polls.

        Returns that reading (the caller stores it, e.g. with the same ``emit``). Raises
        CountersNotSettled when ``max_wait`` runs out first, or DeviceUnreachable /
        AuthenticationFailed at once when the device gives no reading.
        """
        policy = policy or self.config.billing
        watch = SettleWatch(policy, self.clock.monotonic())
        while True:
            reading = await self.read(device)
            now = self.clock.monotonic()
            verdict = watch.observe(reading, now)
            if verdict is Verdict.SETTLED:
                return reading
            if verdict is Verdict.GAVE_UP:
                raise CountersNotSettled(device, watch.reason, watch.polls, watch.waited(now),
                                         watch.last)
            await self.clock.sleep(policy.poll_every)

    def anomalies(self, device: str) -> tuple[Anomaly, ...]:
        return tuple(self._devices[device].anomalies)

    def last_reading(self, device: str) -> MeterReading | None:
        return self._devices[device].last

    def device_status(self, device: str) -> dict[str, Any]:
        state = self._devices[device]
        cfg = state.config
        if state.error is not None:
            condition = _STATE_OF_ERROR.get(type(state.error), "no_reading")
        else:
            condition = "ok" if state.last is not None else "never_read"
        return {
            "name": cfg.name, "host": cfg.host, "port": cfg.port, "version": cfg.version.value,
            "profile": state.profile.name if state.profile else cfg.profile,
            # The make and model as the device words them, for staff (a generic Printer-MIB
            # profile says nothing of the make); None until the device has answered.
            "model": (state.identity.model or None) if state.identity else None,
            "sys_descr": (state.identity.sys_descr or None) if state.identity else None,
            "state": condition,
            "error": state.error.detail if state.error else None,
            "error_at": state.error_at.isoformat() if state.error and state.error_at else None,
            "consecutive_failures": state.failures,
            **describe(state.last),
            "anomalies": [describe_anomaly(a) for a in state.anomalies],
        }

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
            for state in self._devices.values():
                state.session = None

    # -- internals ----------------------------------------------------------------------------

    async def _poll_forever(self, name: str, emit: Emit, phase: float) -> None:
        interval = self._devices[name].config.poll_interval
        # Spread first polls over one interval so a hundred copiers are not asked at once.
        await self.clock.sleep(phase * interval)
        while True:
            try:
                reading = await self.read(name)
            except NoReading:
                pass  # recorded in status(); "no reading" is never stored as zero
            else:
                await emit(reading)
            await self.clock.sleep(interval)

    async def _read(self, state: _Device) -> MeterReading:
        session = self._session(state)
        async with self._gate:
            if state.identity is None:
                state.identity = identity_of(await session.get(IDENTITY_OIDS))
            if state.profile is None:
                state.profile = choose_profile(state.config.name, state.config.profile,
                                               self.config.profiles, state.identity)
            values = await session.get(reading_oids(state.profile))
        return build_reading(state.config.name, state.profile, values, self.clock.now())

    def _session(self, state: _Device) -> SnmpSession:
        if self._engine is None:
            self._engine = SnmpEngine()
        if state.session is None:
            state.session = SnmpSession(self._engine, state.config)
        return state.session
