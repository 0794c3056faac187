"""JSON-able summaries for ``GET /devices/{id}`` and ``gatewayctl devices``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drivers.snmp.anomalies import Anomaly
from drivers.snmp.reading import MeterReading


def describe(reading: MeterReading | None, anomalies: Sequence[Anomaly] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"reading": None, "anomalies": [describe_anomaly(a) for a in anomalies]}
    if reading is not None:
        out["reading"] = {
            "at": reading.occurred_at.isoformat(),
            "profile": reading.profile,
            "serial": reading.serial,
            "status": reading.status.value,
            "device_status": reading.device_status.value,
            "sysuptime": reading.sysuptime,
            "counters": {c.name: {"value": c.value, "unit": c.unit.value}
                         for c in reading.counters},
            "copy_counters": list(reading.copy_counters),
        }
    return out


def describe_anomaly(anomaly: Anomaly) -> dict[str, Any]:
    return {"kind": anomaly.kind.value, "at": anomaly.occurred_at.isoformat(),
            "counter": anomaly.counter, "before": anomaly.before, "after": anomaly.after,
            "delta": anomaly.delta, "detail": anomaly.detail}
