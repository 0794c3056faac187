"""Upgrades keep the data: from every released schema revision, with a day's records in it, to
the head, on SQLite and PostgreSQL; and a database newer than the code is refused, not touched."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, Table, select, text

import gatewayd
from gatewayd import db
from gatewayd.audit import Caller
from gatewayd.events import EventIn
from gatewayd.faxing import jobs
from gatewayd.ledger import Ledger
from gatewayd.models import Base, FaxIncoming, FaxInState
from tests.conftest import BIN, write_config

#: Every revision that shipped, oldest first (a new migration joins this list by itself).
REVISIONS = [r.revision for r in reversed(list(ScriptDirectory.from_config(db.alembic_config()).walk_revisions()))]
DESK = Caller("desk")
AT = datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc)


def _upgrade(engine: Engine, revision: str) -> None:
    config = db.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _a_business_day(tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Records made by the code itself (tickets, charges, payments, receipts, a print job and a
    meter reading, a fax job, an incoming fax, audit entries), as rows per table."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'day.sqlite3'}")
    db.migrate(engine)
    ledger = Ledger(db.session_factory(engine), ZoneInfo("Asia/Shanghai"), clock=lambda: AT)
    ledger.save_tenant(DESK, {"company": "Acme Trading Ltd", "room": "1203"})
    copy = ledger.open_ticket(DESK, kind="copy", company="Acme Trading Ltd", room="1203")
    ledger.add_charge(DESK, copy["id"], description="A4 copies", quantity=Decimal("40"), unit="side",
                      unit_price=Decimal("0.50"), amount=Decimal("20.00"))
    ledger.add_payment(DESK, copy["id"], amount=Decimal("20.00"), method="cash")
    errand = ledger.open_ticket(DESK, kind="errand", guest_name="张先生", guest_phone="13800138000")
    ledger.add_charge(DESK, errand["id"], description="Courier to Pudong", quantity=Decimal("1"), unit="item",
                      unit_price=Decimal("30.00"), amount=Decimal("30.00"))
    for action in ("start", "finish", "complete"):
        ledger.transition(DESK, errand["id"], action)
    ledger.transition(DESK, errand["id"], "settle", method="cash")
    ledger.open_ticket(DESK, kind="print", guest_name="x")
    ledger.record_event(DESK, EventIn("print_job", "desk-laser", "job/7", AT, {"pages": 3}), manual=True)
    ledger.record_event(DESK, EventIn("meter_reading", "sharp-mfp", "sharp-mfp/2026-11-26T09:30",
                                      AT, {"counters": {"copy_mono": 18231, "print_mono": 5120}}), manual=True)
    fax = ledger.open_ticket(DESK, kind="fax_out", guest_name="陈先生", guest_phone="13900001111")
    with ledger.transaction() as s:
        jobs.create(s, DESK, AT, fax["id"], modem="fax1", number="0085221234567", dial="90085221234567",
                    e164="+85221234567", spool="/var/lib/gatewayd/spool/fax/out/1.tif", pages=2)
        s.add(FaxIncoming(call_id="fax1/call-1", device="fax1", received_at=AT, pages=2, call_status="ok",
                          state=FaxInState.PENDING.value, document_path="fax/in/2026-11-26/1.tif"))
    tables = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            tables[table.name] = [dict(r._mapping) for r in connection.execute(select(table))]
    engine.dispose()
    assert tables["receipts"] and tables["audit_trail"] and tables["fax_jobs"] and tables["fax_incoming"]
    assert {e["kind"] for e in tables["device_events"]} == {"print_job", "meter_reading"}
    return tables


@pytest.fixture(scope="module")
def business_day(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    return _a_business_day(tmp_path_factory.mktemp("day"))


def _rows(engine: Engine, name: str, columns: list[str]) -> list[dict[str, Any]]:
    table = Base.metadata.tables[name]
    with engine.connect() as connection:
        rows = connection.execute(select(*(table.c[c] for c in columns)).order_by(*table.primary_key.columns))
        return [dict(r._mapping) for r in rows]


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_an_upgrade_from_every_released_schema_keeps_every_record(
        db_url: str, revision: str, business_day: dict[str, list[dict[str, Any]]]) -> None:
    engine = db.make_engine(db_url)
    _upgrade(engine, revision)
    # The records as that version stored them: its tables, its columns.
    old = MetaData()
    old.reflect(engine)
    shipped = {name: [c.name for c in old.tables[name].columns] for name in old.tables if name != "alembic_version"}
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name not in shipped or not business_day[table.name]:
                continue
            columns = shipped[table.name]
            then = Table(table.name, MetaData(), *(c._copy() for c in table.columns if c.name in columns))
            connection.execute(then.insert(), [{c: row[c] for c in columns} for row in business_day[table.name]])

    db.migrate(engine)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == REVISIONS[-1]
    for name, columns in shipped.items():
        expected = sorted(({c: row[c] for c in columns} for row in business_day[name]),
                          key=lambda row: [row[c.name] for c in Base.metadata.tables[name].primary_key.columns])
        assert _rows(engine, name, columns) == expected, f"{name} changed in the upgrade from {revision}"
    assert shipped.keys() >= {"tickets", "charge_lines", "payments", "receipts", "audit_trail", "device_events"}
    engine.dispose()


def test_a_database_newer_than_the_code_is_refused_naming_both_versions(db_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    with engine.begin() as connection:  # what a newer gatewayd would leave behind
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_from_a_newer_gatewayd'"))

    config = write_config(tmp_path, db_url)
    for command_line in (["run", "--config", str(config)], ["migrate", "--config", str(config)]):
        result = subprocess.run([str(BIN / "gatewayd"), *command_line], capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
        assert "0099_from_a_newer_gatewayd" in result.stderr
        assert f"gatewayd {gatewayd.__version__} (schema {REVISIONS[-1]})" in result.stderr
        assert "Traceback" not in result.stderr
    with engine.connect() as connection:  # untouched
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0099_from_a_newer_gatewayd"
    engine.dispose()
