"""The meter-reading event and the value types it carries (plain data, JSON-able via asdict)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class Unit(enum.Enum):
    """What a counter counts. Printer-MIB ``PrtMarkerCounterUnitTC`` (RFC 3805) plus our own."""

    IMPRESSIONS = "impressions"  #: one side printed (a duplex sheet is two)
    SHEETS = "sheets"  #: one sheet of media through the device
    PAGES = "pages"  #: scanned or faxed pages (vendor counters that are not marker counts)
    OTHER = "other"  #: a prtMarkerCounterUnit we do not bill (lengths, hours...)
    NOT_REPORTED = "not_reported"  #: the device has no unit object (Konica: LibreNMS PR #17847)


# PrtMarkerCounterUnitTC values (RFC 3805 / IANA-PRINTER-MIB) we map; any other value is OTHER.
PRT_MARKER_COUNTER_UNIT = {7: Unit.IMPRESSIONS, 8: Unit.SHEETS}


class PrinterStatus(enum.Enum):
    """``hrPrinterStatus`` (RFC 2790 HOST-RESOURCES-MIB 1.3.6.1.2.1.25.3.5.1.1)."""

    OTHER = "other"  #: 1
    UNKNOWN = "unknown"  #: 2
    IDLE = "idle"  #: 3 -- the only state in which a billing read may settle
    PRINTING = "printing"  #: 4
    WARMUP = "warmup"  #: 5
    NOT_REPORTED = "not_reported"  #: object absent (all LibreNMS recordings): counters decide alone


HR_PRINTER_STATUS = {1: PrinterStatus.OTHER, 2: PrinterStatus.UNKNOWN, 3: PrinterStatus.IDLE,
                     4: PrinterStatus.PRINTING, 5: PrinterStatus.WARMUP}


class DeviceStatus(enum.Enum):
    """``hrDeviceStatus`` (RFC 2790 1.3.6.1.2.1.25.3.2.1.5)."""

    UNKNOWN = "unknown"  #: 1
    RUNNING = "running"  #: 2
    WARNING = "warning"  #: 3 (toner low, paper out soon...)
    TESTING = "testing"  #: 4
    DOWN = "down"  #: 5 (jam, door open...)
    NOT_REPORTED = "not_reported"  #: object absent


HR_DEVICE_STATUS = {1: DeviceStatus.UNKNOWN, 2: DeviceStatus.RUNNING, 3: DeviceStatus.WARNING,
                    4: DeviceStatus.TESTING, 5: DeviceStatus.DOWN}


@dataclass(frozen=True)
class Counter:
    """One page counter as read. ``wraps_at`` is the modulus the device counts in (2**32 for a
    Counter32, a profile's value for vendors that roll over earlier), None if it never wraps."""

    name: str  #: profile's name: "total", "copy", "copy.mono", "print.colour", "duplex"...
    value: int
    unit: Unit
    wraps_at: int | None = None


@dataclass(frozen=True)
class MeterReading:
    """A copier's counters at one moment (driver contract event, kind ``meter_reading``)."""

    kind: ClassVar[str] = "meter_reading"

    device: str
    occurred_at: datetime  #: aware UTC, when the answer arrived
    profile: str
    serial: str | None  #: None when the device reports none (Canon TM-5300)
    counters: tuple[Counter, ...]
    sysuptime: int | None  #: TimeTicks (1/100 s) since the agent restarted; None if absent
    status: PrinterStatus
    device_status: DeviceStatus
    #: counters a copy ticket bills on this device (the profile's choice: "copy.*" where the
    #: device splits copy from print, else "total")
    copy_counters: tuple[str, ...] = ("total",)

    @property
    def natural_key(self) -> str:
        return f"{self.device}/{self.occurred_at.isoformat()}"

    def counter(self, name: str) -> Counter | None:
        return next((c for c in self.counters if c.name == name), None)

    @property
    def is_idle(self) -> bool:
        """Idle as far as the device tells: not reported counts as idle (stability decides)."""
        return self.status in (PrinterStatus.IDLE, PrinterStatus.NOT_REPORTED)
