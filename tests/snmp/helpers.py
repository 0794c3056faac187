"""Shared test helpers: readings built by hand, a fake clock, lab device configs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drivers.snmp.config import SnmpConfig, parse_snmp_config
from drivers.snmp.reading import Counter, DeviceStatus, MeterReading, PrinterStatus, Unit

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "snmprec"


def reading(*, at: float = 0.0, total: int = 1000, copy: int | None = None,
            serial: str | None = "SN1", uptime: int | None = 100_000,
            unit: Unit = Unit.IMPRESSIONS, wraps_at: int | None = 2**32,
            status: PrinterStatus = PrinterStatus.IDLE, device: str = "copier") -> MeterReading:
    counters = [Counter("total", total, unit, wraps_at)]
    if copy is not None:
        counters.append(Counter("copy", copy, unit, None))
    return MeterReading(device=device, occurred_at=T0 + timedelta(seconds=at), profile="test",
                        serial=serial, counters=tuple(counters), sysuptime=uptime,
                        status=status, device_status=DeviceStatus.RUNNING)


class FakeClock:
    """Virtual time: sleep() advances it at once (and lets other tasks run); hooks may act."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.on_sleep: list[Any] = []  # callables run at each sleep, in order, once each

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        if self.on_sleep:
            self.on_sleep.pop(0)()
        await asyncio.sleep(0)


def lab_config(lab: Any, *communities: str, **section: Any) -> SnmpConfig:
    devices = [{"name": c, "host": lab.host, "port": lab.port, "community": c}
               for c in communities]
    raw = {"timeout": 0.5, "retries": 0, **section, "devices": devices}
    return parse_snmp_config(raw, Path("."))


def v3_config(lab: Any, context: str, **device: Any) -> SnmpConfig:
    entry = {"name": "v3dev", "host": lab.host, "port": lab.port, "version": "3",
             "context": context, **device}
    return parse_snmp_config({"timeout": 0.5, "retries": 0, "devices": [entry]}, Path("."))


def drive(driver: Any, action: Any) -> Any:
    """Run ``await action(driver)`` in a fresh loop, closing the driver's engine in that loop."""

    async def go() -> Any:
        try:
            return await action(driver)
        finally:
            driver.close()

    return asyncio.run(go())
