"""Meter readings in the ledger: stored once with the anomalies they reveal, and read back.

A reading is a ``meter_reading`` device event whose payload is the driver's ``MeterReading`` as
plain JSON (``events.from_driver``). Anomalies are computed here against the device's previous
*stored* reading, not the driver's memory, so a restart, a billing read taken between polls or a
second site sharing the database all see the same history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
from gatewayd.audit import Caller
from gatewayd.models import DeviceAnomaly, DeviceEvent

KIND = MeterReading.kind


def from_payload(payload: dict[str, Any]) -> MeterReading:
    """The stored payload back into the driver's reading (inverse of ``events.from_driver``)."""
    return MeterReading(
        device=payload["device"],
        occurred_at=datetime.fromisoformat(payload["occurred_at"]),
        profile=payload["profile"],
        serial=payload["serial"],
        counters=tuple(Counter(c["name"], int(c["value"]), Unit(c["unit"]), c["wraps_at"])
                       for c in payload["counters"]),
        sysuptime=payload["sysuptime"],
        status=PrinterStatus(payload["status"]),
        device_status=DeviceStatus(payload["device_status"]),
        copy_counters=tuple(payload["copy_counters"]),
    )


def reading_of(row: DeviceEvent) -> MeterReading:
    return from_payload(row.payload)


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


def store(
    session: Session,
    caller: Caller,
    now: datetime,
    reading: MeterReading,
    *,
    ticket: str | None = None,
    max_pages_per_minute: int = DEFAULT_MAX_PAGES_PER_MINUTE,
) -> tuple[DeviceEvent, list[DeviceAnomaly]]:
    """Store ``reading`` (on ``ticket`` if given) and the anomalies it shows; idempotent."""
    previous = last_stored(session, reading.device, before=reading.occurred_at)
    event = events.from_driver(reading)
    if ticket is not None:
        event = events.EventIn(event.kind, event.device, event.natural_key, event.occurred_at, event.payload, ticket)
    row, created = events.record(session, events.Context(caller, now), event)
    if not created:
        return row, []  # stored before: its anomalies were recorded then
    found = compare(reading_of(previous) if previous else None, reading,
                    max_pages_per_minute=max_pages_per_minute)
    anomalies = [
        DeviceAnomaly(
            device=a.device, kind=a.kind.value, detail=a.detail, counter=a.counter, before=a.before,
            after=a.after, delta=a.delta, observed_at=a.occurred_at, reading_event_id=row.id,
            previous_event_id=previous.id if previous else None, recorded_at=now,
        )
        for a in found
    ]
    session.add_all(anomalies)
    session.flush()
    return row, anomalies


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
