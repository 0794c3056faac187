"""The copiers as the daemon runs them: the SNMP driver, and the waiting copy tickets retried.

``Copiers`` is what ``build_drivers`` hands the supervisor under the driver name ``snmp``. Its
polled readings go to the daemon's ``emit`` like every driver's events: stored once by their
natural key, with the anomalies each reveals in the same transaction (``readings.MeterReadings``,
the ``stored`` step of the matching contract). Beside the polling it retries the closing reading
of copy tickets in ``awaiting_meter`` (the copier slept or was busy when staff finished) and
completes them when the copier answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import structlog

from drivers.snmp.config import SnmpConfig
from drivers.snmp.driver import SnmpDriver
from drivers.snmp.errors import CountersNotSettled, NoReading
from drivers.snmp.reading import MeterReading
from drivers.snmp.stability import SettlePolicy
from gatewayd import tickets
from gatewayd.audit import DAEMON
from gatewayd.config import Config
from gatewayd.copying import metering, readings
from gatewayd.errors import LedgerError
from gatewayd.ledger import Ledger

log = structlog.get_logger("gatewayd.copiers")

#: Longest a billing read may keep a staff request waiting: gatewayctl gives up after 30 s.
DESK_MAX_WAIT_S = 20.0


class Copiers:
    name = "snmp"

    def __init__(self, config: Config, driver: SnmpDriver, ledger: Ledger, writer: Executor):
        self.snmp: SnmpConfig = config.sections["snmp"]
        self.driver = driver
        self.ledger = ledger  # the daemon's: its services carry the price list of the last reload
        self._writer = writer
        self.retry_every = min((d.poll_interval for d in self.snmp.devices), default=60.0)

    @classmethod
    def build(cls, config: Config, ledger: Ledger, writer: Executor) -> Copiers:
        """The driver starts from each copier's last stored reading, so anomalies span restarts."""
        snmp: SnmpConfig = config.sections["snmp"]
        for warning in snmp.warnings:
            log.warning("snmp.config_warning", detail=warning)
        with ledger.transaction() as s:
            previous = readings.last_readings(s, [d.name for d in snmp.devices])
        log.info("snmp.copiers", devices=[d.name for d in snmp.devices], previous=sorted(previous))
        return cls(config, SnmpDriver(snmp, previous=previous), ledger, writer)

    # -- the driver contract ------------------------------------------------------------------

    async def run(self, emit: Callable[[Any], Any]) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.driver.run(emit))
            group.create_task(self._retry_forever())

    def status(self) -> dict[str, Any]:
        return self.driver.status()

    # -- for the routes -----------------------------------------------------------------------

    def has(self, device: str) -> bool:
        return any(d.name == device for d in self.snmp.devices)

    def names(self) -> list[str]:
        return [d.name for d in self.snmp.devices]

    async def desk_read(self, device: str) -> MeterReading:
        """A billing read while staff wait: the configured settling, capped at DESK_MAX_WAIT_S."""
        policy = self.snmp.billing
        capped = SettlePolicy(policy.stable_polls, policy.poll_every, min(policy.max_wait, DESK_MAX_WAIT_S))
        return await self.driver.billing_read(device, capped)

    # -- copy tickets waiting for their closing reading ---------------------------------------

    async def _retry_forever(self) -> None:
        while True:
            await asyncio.sleep(self.retry_every)
            await self.retry_waiting()

    async def retry_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        waiting = await loop.run_in_executor(self._writer, self._waiting)
        for number, device in waiting:
            bound = log.bind(ticket=number, device=device)
            if not self.has(device):
                bound.warning("copy.meter_retry_skipped", reason="device no longer in [snmp]")
                continue
            try:
                reading = await self.driver.billing_read(device)
            except (NoReading, CountersNotSettled) as err:
                bound.info("copy.meter_retry_failed", error=str(err))
                continue
            try:
                await loop.run_in_executor(self._writer, self._complete, number, reading)
            except LedgerError as err:  # cancelled meanwhile, or the price list cannot price it
                bound.warning("copy.meter_retry_refused", error=err.detail)
                continue
            bound.info("copy.metered", reading_at=reading.occurred_at.isoformat())

    def _waiting(self) -> list[tuple[str, str]]:
        with self.ledger.transaction() as s:
            return metering.awaiting(s)

    def _complete(self, number: str, reading: MeterReading) -> None:
        ctx = self.ledger.context(DAEMON)
        with self.ledger.transaction() as s:
            ticket = tickets.find(s, number, lock=True)
            if ticket.state != metering.S.AWAITING_METER:
                return  # staff settled it with a manual count while the copier was read
            metering.close(s, ctx.caller, ctx.now, ticket, reading, ctx.services, action="metered")
