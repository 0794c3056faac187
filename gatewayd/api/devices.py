"""The copiers in the staff API: each one's state, last reading, counters and recorded anomalies.

The driver knows what it saw since the daemon started (state, last error); the ledger knows the
rest (the last stored reading across restarts, the anomalies table, the copy ticket holding it).
"""

from __future__ import annotations

from typing import Any

from gatewayd.api.app import Api, Call, Route
from gatewayd.copying import metering, readings
from gatewayd.errors import NotFound

ANOMALIES_SHOWN = 50


def _copiers(api: Api) -> Any:
    return api.services.drivers.get("snmp") if api.services else None


def _from_ledger(api: Api, names: list[str], limit: int) -> dict[str, dict[str, Any]]:
    with api.ledger.transaction() as s:
        out = {}
        for name in names:
            row = readings.last_stored(s, name)
            holder = metering.holder(s, name)
            out[name] = {
                "stored": readings.summary(readings.reading_of(row)) | {"event": row.id} if row else None,
                "anomalies": readings.anomalies(s, name, limit),
                "ticket": holder.number if holder else None,
            }
        return out


def _device(status: dict[str, Any], ledger: dict[str, Any]) -> dict[str, Any]:
    """Driver status, with the reading and anomalies as the ledger has them."""
    return {
        "kind": "copier",
        **{k: v for k, v in status.items() if k not in ("anomalies", "reading")},
        "reading": ledger["stored"],
        "anomalies": ledger["anomalies"],
        "ticket": ledger["ticket"],
    }


async def list_devices(api: Api, call: Call) -> list[dict[str, Any]]:
    copiers = _copiers(api)
    if copiers is None:
        return []
    names = copiers.names()
    stored = await api.db(_from_ledger, api, names, 5)
    return [_device(copiers.driver.device_status(name), stored[name]) for name in names]


async def show_device(api: Api, call: Call) -> dict[str, Any]:
    name = call.params["name"]
    copiers = _copiers(api)
    if copiers is None or not copiers.has(name):
        known = ", ".join(copiers.names()) if copiers else "none configured"
        raise NotFound(f"no device {name!r} (copiers: {known}; see `gatewayctl devices`)")
    stored = await api.db(_from_ledger, api, [name], ANOMALIES_SHOWN)
    return _device(copiers.driver.device_status(name), stored[name])


ROUTES: list[Route] = [
    Route("GET", "/devices", "The copiers: state, last reading, recent anomalies, the copy ticket using each",
          list_devices),
    Route("GET", "/devices/{name}", "One copier: state, last reading and counters, its anomalies", show_device),
]
