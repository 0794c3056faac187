"""Every anomaly kind a stored meter reading can reveal gets its ``device_anomalies`` record, on both
databases; the agent-driven reset and serial change are in test_copy.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from drivers.snmp.anomalies import AnomalyKind
from drivers.snmp.reading import MeterReading, Unit
from gatewayd import db, events
from gatewayd.audit import DAEMON
from gatewayd.copying import readings
from gatewayd.ledger import Ledger
from gatewayd.models import DeviceAnomaly
from tests.snmp.helpers import T0, reading

#: kind -> (earlier reading, later reading 60 s on) showing it.
CASES: dict[AnomalyKind, tuple[dict[str, Any], dict[str, Any]]] = {
    AnomalyKind.COUNTER_DECREASE: ({"total": 1000}, {"total": 900}),
    AnomalyKind.COUNTER_WRAP: ({"total": 2**32 - 10}, {"total": 5}),
    AnomalyKind.SERIAL_CHANGED: ({"serial": "SN1"}, {"serial": "SN2"}),
    AnomalyKind.REBOOT: ({"uptime": 100_000}, {"uptime": 50}),
    AnomalyKind.IMPLAUSIBLE_JUMP: ({"total": 1000}, {"total": 100_000}),
    AnomalyKind.UNIT_CHANGED: ({"unit": Unit.IMPRESSIONS}, {"unit": Unit.SHEETS}),
    AnomalyKind.COUNTER_MISSING: ({"copy": 5}, {}),
}


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    yield Ledger(db.session_factory(engine), ZoneInfo("Asia/Shanghai"))
    engine.dispose()


def _store(ledger: Ledger, r: MeterReading) -> list[str]:
    """The anomalies storing ``r`` recorded (none when it was stored before)."""
    with ledger.transaction() as s:
        row, created = readings.store(s, events.Context(DAEMON, T0), r)
        return list(s.scalars(select(DeviceAnomaly.kind).where(DeviceAnomaly.reading_event_id == row.id)
                              .order_by(DeviceAnomaly.id))) if created else []


def test_each_anomaly_kind_is_recorded_with_its_readings(ledger: Ledger) -> None:
    for kind, (before, after) in CASES.items():
        device = f"copier-{kind.value}"
        _store(ledger, reading(device=device, **before))
        assert _store(ledger, reading(device=device, at=60, **after)) == [kind.value]

    with ledger.transaction() as s:
        rows = s.scalars(select(DeviceAnomaly).order_by(DeviceAnomaly.id)).all()
        assert [r.kind for r in rows] == [k.value for k in CASES]
        wrap = next(r for r in rows if r.kind == AnomalyKind.COUNTER_WRAP.value)
        assert wrap.delta == 15 and wrap.counter == "total" and wrap.previous_event_id is not None
        assert {r.observed_at for r in rows} == {T0 + timedelta(seconds=60)}  # the revealing reading's time
        listed = readings.anomalies(s, "copier-serial_changed")
        assert listed[0]["before"] == "SN1" and listed[0]["after"] == "SN2"


def test_a_reading_stored_twice_records_its_anomalies_once(ledger: Ledger) -> None:
    _store(ledger, reading(total=1000))
    later = reading(at=60, total=10)
    assert _store(ledger, later) == ["counter_decrease"]
    assert _store(ledger, later) == []  # the same reading again (a restart re-emitting it)
    with ledger.transaction() as s:
        assert len(s.scalars(select(DeviceAnomaly)).all()) == 1
        # What the SNMP driver starts from after a restart: the last stored reading, exactly.
        assert readings.last_readings(s, ["copier", "unknown"]) == {"copier": later}


def test_a_polled_reading_takes_the_daemons_emit_path_and_its_anomalies_come_with_it(db_url: str) -> None:
    """The copiers hand polled readings to the daemon's emit like every driver: ``ledger.record_event``
    with the daemon's kinds stores the reading once and records the anomaly it reveals, in the same
    transaction (before, only ``Copiers`` stored readings with their anomalies; this path stored the
    reading alone)."""
    from gatewayd.daemon import event_kinds

    engine = db.make_engine(db_url)
    db.migrate(engine)
    try:
        ledger = Ledger(db.session_factory(engine), ZoneInfo("Asia/Shanghai"), clock=lambda: T0, kinds=event_kinds())
        ledger.record_event(DAEMON, events.from_driver(reading(total=1000)), manual=False)
        later = events.from_driver(reading(at=60, total=10))
        view, created = ledger.record_event(DAEMON, later, manual=False)
        assert created and view["attribution"] == "unattributed"
        assert ledger.record_event(DAEMON, later, manual=False)[1] is False  # re-emitted after a restart
        with ledger.transaction() as s:
            assert [(a.kind, a.reading_event_id) for a in s.scalars(select(DeviceAnomaly))] == [
                ("counter_decrease", view["id"])]
    finally:
        engine.dispose()
