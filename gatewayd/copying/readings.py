"""Meter readings in the ledger: stored once with the anomalies they reveal, and read back.

A reading is a ``meter_reading`` device event whose payload is the driver's ``MeterReading`` as
plain JSON (``events.from_driver``). Anomalies are computed here against the device's previous
*stored* reading, not the driver's memory, so a restart, a billing read taken between polls or a
second site sharing the database all see the same history.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from drivers.snmp.anomalies import DEFAULT_MAX_PAGES_PER_MINUTE, compare
from drivers.snmp.reading import (
    Counter,
    DeviceStatus,
    MeterReading,
    PrinterStatus,
    Unit,
)
from gatewayd import events
from gatewayd.errors import InvalidValue
from gatewayd.models import DeviceAnomaly, DeviceEvent

log = structlog.get_logger("gatewayd.copiers")

KIND = MeterReading.kind


#: More counters than any profile reads (a few dozen at most): a bigger list is not a reading.
MAX_COUNTERS = 64
#: Counters are Counter32/Counter64 at most; the anomaly table keeps them as BIGINT.
MAX_VALUE = 2**63 - 1


def _whole(value: Any, field: str, low: int, high: int = MAX_VALUE) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(f"{field} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _choice(payload: dict[str, Any], key: str, kind: type[enum.Enum], default: enum.Enum) -> Any:
    value = payload.get(key, default.value)
    try:
        return kind(value)
    except ValueError:
        raise InvalidValue(f"payload.{key} must be one of {', '.join(str(m.value) for m in kind)}, "
                           f"got {value!r}") from None


def _counter(item: Any, at: str) -> Counter:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise InvalidValue(f"{at} must be a counter like {{\"name\": \"total\", \"value\": 1234}}, got {item!r}")
    wraps_at = item.get("wraps_at")
    if wraps_at is not None:
        wraps_at = _whole(wraps_at, f"{at}.wraps_at", 1)
    value = _whole(item.get("value"), f"{at}.value", 0)
    unit = item.get("unit", Unit.IMPRESSIONS.value)
    if unit not in {u.value for u in Unit}:
        raise InvalidValue(f"{at}.unit must be one of {', '.join(u.value for u in Unit)}, got {unit!r}")
    return Counter(item["name"], value, Unit(unit), wraps_at)


def counters_of(payload: dict[str, Any]) -> tuple[Counter, ...]:
    """The counters a stored reading carries: the driver's list of counters, or what staff type
    in -- the same list, or the short form ``{"total": 1234}`` (impressions, never wrapping);
    ``InvalidValue`` naming the field."""
    found = payload.get("counters")
    if isinstance(found, dict):
        found = [{"name": name, "value": value} for name, value in found.items()]
    if not isinstance(found, list) or not 0 < len(found) <= MAX_COUNTERS:
        raise InvalidValue(f"payload.counters must be a list of 1 to {MAX_COUNTERS} counters like "
                           f"[{{\"name\": \"total\", \"value\": 1234, \"unit\": \"impressions\"}}] "
                           f"(or {{\"total\": 1234}}), got {repr(found)[:80]}")
    counters = tuple(_counter(item, f"payload.counters[{i}]") for i, item in enumerate(found))
    names = [c.name for c in counters]
    if len(set(names)) != len(names):
        raise InvalidValue(f"payload.counters names a counter twice: {sorted(n for n in set(names) if names.count(n) > 1)}")
    return counters


def decode(payload: dict[str, Any], device: str, occurred_at: datetime) -> MeterReading:
    """A stored reading as the driver's ``MeterReading`` (the inverse of ``events.from_driver``).
    The device and time are the event's; a reading typed in by staff carries only counters, and
    what it does not say is *not reported*."""
    serial = payload.get("serial")
    if serial is not None and not isinstance(serial, str):
        raise InvalidValue(f"payload.serial must be text, got {serial!r}")
    uptime = payload.get("sysuptime")
    copy_counters = payload.get("copy_counters", ["total"])
    if not isinstance(copy_counters, list) or not all(isinstance(n, str) for n in copy_counters):
        raise InvalidValue(f"payload.copy_counters must be a list of counter names, got {copy_counters!r}")
    return MeterReading(
        device=device,
        occurred_at=occurred_at,
        profile=str(payload.get("profile") or "manual"),
        serial=serial,
        counters=counters_of(payload),
        sysuptime=None if uptime is None else _whole(uptime, "payload.sysuptime", 0),
        status=_choice(payload, "status", PrinterStatus, PrinterStatus.NOT_REPORTED),
        device_status=_choice(payload, "device_status", DeviceStatus, DeviceStatus.NOT_REPORTED),
        copy_counters=tuple(copy_counters),
    )


def reading_of(row: DeviceEvent) -> MeterReading:
    return decode(row.payload, row.device, row.occurred_at)


class MeterReadings:
    """The ledger's contract for ``meter_reading`` events (``events.EventKind``): a reading is put
    on a copy ticket by the ticket's meter (``metering``), never guessed, and billed there as a
    delta of two readings -- so it matches and bills nothing by itself. Stored, a device's reading
    is compared with the device's previous one: the anomalies it reveals are recorded with it."""

    kind = KIND
    decode = staticmethod(counters_of)  # what a hand-entered reading must get right

    @staticmethod
    def match(session: Session, ctx: events.Context, event: events.EventIn) -> None:
        return None

    @staticmethod
    def stored(session: Session, ctx: events.Context, row: DeviceEvent) -> None:
        if not row.manual:  # staff's readings carry counters only: no part of the device's history
            record_anomalies(session, ctx, row)

    @staticmethod
    def bill(session: Session, ctx: events.Context, ticket: Any, row: DeviceEvent) -> None:
        return None


#: ``events.record``'s kinds for a reading taken at the desk (the daemon's ``event_kinds`` has it too).
KINDS: dict[str, events.EventKind] = {KIND: MeterReadings()}


def last_stored(session: Session, device: str, before: datetime | None = None) -> DeviceEvent | None:
    """The device's newest reading read off the device (manual events carry no counters)."""
    query = (select(DeviceEvent)
             .where(DeviceEvent.kind == KIND, DeviceEvent.device == device, DeviceEvent.manual.is_(False))
             .order_by(DeviceEvent.occurred_at.desc(), DeviceEvent.id.desc()).limit(1))
    if before is not None:
        query = query.where(DeviceEvent.occurred_at < before)
    return session.scalars(query).first()


def last_readings(session: Session, devices: list[str]) -> dict[str, MeterReading]:
    """Each device's last stored reading: the SNMP driver's ``previous`` at start."""
    found = {name: last_stored(session, name) for name in devices}
    return {name: reading_of(row) for name, row in found.items() if row is not None}


def store(session: Session, ctx: events.Context, reading: MeterReading, *, ticket: str | None = None
          ) -> tuple[DeviceEvent, bool]:
    """Store a reading taken at the desk (on ``ticket`` if given) as the daemon stores a polled
    one, anomalies included; idempotent. Returns (stored row, whether it was new)."""
    event = events.from_driver(reading)
    if ticket is not None:
        event = dataclasses.replace(event, ticket=ticket)
    return events.record(session, ctx, event, KINDS)


def record_anomalies(session: Session, ctx: events.Context, row: DeviceEvent) -> list[DeviceAnomaly]:
    """The anomalies ``row`` reveals against the device's previous stored reading, recorded and
    logged. The limit of a plausible jump is the device's ``max_pages_per_minute`` in the
    configuration in force."""
    previous = last_stored(session, row.device, before=row.occurred_at)
    try:
        found = compare(reading_of(previous) if previous else None, reading_of(row),
                        max_pages_per_minute=_max_pages_per_minute(ctx.services, row.device))
    except InvalidValue as err:  # the reading is kept whatever it says; only the comparison is lost
        log.warning("snmp.reading_not_compared", device=row.device, event_id=row.id, reason=err.detail)
        return []
    anomalies = [
        DeviceAnomaly(
            device=a.device, kind=a.kind.value, detail=a.detail, counter=a.counter, before=a.before,
            after=a.after, delta=a.delta, observed_at=a.occurred_at, reading_event_id=row.id,
            previous_event_id=previous.id if previous else None, recorded_at=ctx.now,
        )
        for a in found
    ]
    session.add_all(anomalies)
    session.flush()
    for anomaly in anomalies:
        log.warning("snmp.anomaly", device=anomaly.device, event_id=row.id, kind=anomaly.kind, detail=anomaly.detail)
    return anomalies


def _max_pages_per_minute(services: Any, device: str) -> int:
    snmp = services.config.sections.get("snmp") if services is not None else None
    configured = next((d for d in snmp.devices if d.name == device), None) if snmp else None
    return configured.max_pages_per_minute if configured else DEFAULT_MAX_PAGES_PER_MINUTE


def anomaly_view(row: DeviceAnomaly) -> dict[str, Any]:
    return {
        "id": row.id, "device": row.device, "kind": row.kind, "detail": row.detail, "counter": row.counter,
        "before": row.before, "after": row.after, "delta": row.delta, "observed_at": row.observed_at.isoformat(),
        "reading_event_id": row.reading_event_id, "previous_event_id": row.previous_event_id,
    }


def anomalies(session: Session, device: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first."""
    query = select(DeviceAnomaly).order_by(DeviceAnomaly.observed_at.desc(), DeviceAnomaly.id.desc()).limit(limit)
    if device is not None:
        query = query.where(DeviceAnomaly.device == device)
    return [anomaly_view(row) for row in session.scalars(query)]


def summary(reading: MeterReading) -> dict[str, Any]:
    """A reading as staff read it: when, serial, and each counter's value."""
    return {
        "at": reading.occurred_at.isoformat(),
        "serial": reading.serial,
        "profile": reading.profile,
        "status": reading.status.value,
        "counters": {c.name: c.value for c in reading.counters},
        "units": {c.name: c.unit.value for c in reading.counters},
        "copy_counters": list(reading.copy_counters),
    }
