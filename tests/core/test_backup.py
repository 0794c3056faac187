"""Backups: gatewayctl backup while the daemon runs, gatewayd restore while it is stopped — every
ticket, charge, receipt number and audit entry back — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import grp
import json
import shutil
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from gatewayd import backup, db
from gatewayd.api import routes
from gatewayd.api.app import Api
from gatewayd.api.server import Request
from gatewayd.audit import Caller
from gatewayd.ledger import Ledger
from tests.conftest import BIN, Daemon, write_config


def restore(daemon: Daemon, file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "gatewayd"), "restore", str(file), "--config", str(daemon.config)],
                          capture_output=True, text=True, timeout=120)


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def ledger_view(daemon: Daemon) -> dict[str, Any]:
    """What a restore must bring back: every ticket in full (charges, payments, receipt numbers)
    and the whole audit trail."""
    numbers = [t["id"] for t in ok(daemon.ctl("--json", "ticket", "list"))]
    return {"tickets": {n: ok(daemon.ctl("--json", "ticket", "show", n)) for n in numbers},
            "audit": daemon.client().get("/audit")}


def a_day_at_the_desk(daemon: Daemon) -> None:
    errand = ok(daemon.ctl("--json", "ticket", "open", "errand", "--guest", "张先生", "--phone", "13800138000"))["id"]
    ok(daemon.ctl("--json", "charge", errand, "Courier to Pudong", "1", "30.00"))
    ok(daemon.ctl("--json", "pay", errand, "10.00"))  # a temporary receipt
    for step in ("start", "finish", "complete", "settle"):  # a formal one
        ok(daemon.ctl("--json", "ticket", step, errand))
    copy = ok(daemon.ctl("--json", "ticket", "open", "copy", "--guest", "walk-in"))["id"]
    ok(daemon.ctl("--json", "charge", copy, "A4 copies", "40", "0.50", "--unit", "side"))
    cancelled = ok(daemon.ctl("--json", "ticket", "open", "errand", "--guest", "x", "--phone", "1"))["id"]
    ok(daemon.ctl("--json", "ticket", "cancel", cancelled, "--reason", "changed their mind"))


def test_a_backup_taken_while_running_restores_every_record(daemon: Daemon, tmp_path: Path) -> None:
    a_day_at_the_desk(daemon)
    before = ledger_view(daemon)
    receipts = [r["number"] for t in before["tickets"].values() for r in t["receipts"]]
    assert any(n.startswith("TR-") for n in receipts) and any(n.startswith("R-") for n in receipts)

    file = tmp_path / "nightly" / "gatewayd.backup"
    file.parent.mkdir()
    taken = daemon.ctl("backup", str(file))
    assert taken.returncode == 0, taken.stderr
    assert f"backup written: {file}" in taken.stdout
    assert file.stat().st_mode & 0o777 == 0o600 and not list(file.parent.glob("*.partial"))

    # The desk goes on after the backup; a restore goes back to the backup's moment exactly.
    later = ok(daemon.ctl("--json", "ticket", "open", "errand", "--guest", "later", "--phone", "2"))["id"]
    first = next(iter(before["tickets"]))
    refused = restore(daemon, file)
    assert refused.returncode == 1 and "gatewayd is running" in refused.stderr
    daemon.stop()

    restored = restore(daemon, file)
    assert restored.returncode == 0, restored.stderr
    kept = Path(restored.stdout.strip().rsplit(" ", 1)[-1])
    assert kept.parent == daemon.directory / "state" and kept.stat().st_mode & 0o777 == 0o600
    daemon.start()
    after = ledger_view(daemon)
    assert after == before
    assert later not in after["tickets"] and first in after["tickets"]
    # Numbering goes on from the backup's counters: the next ticket takes the number `later` had.
    assert ok(daemon.ctl("--json", "ticket", "open", "errand", "--guest", "again", "--phone", "3"))["id"] == later


def test_restore_refuses_what_is_not_a_backup_of_this_database(daemon: Daemon, tmp_path: Path) -> None:
    file = tmp_path / "good.backup"
    assert daemon.ctl("backup", str(file)).returncode == 0
    daemon.stop()
    sqlite = daemon_is_sqlite(daemon)
    cases = {
        "notes.txt": (b"not a backup at all\n", "is not a gatewayd backup (neither an SQLite database nor a pg_dump"),
        "other-kind.backup": ((b"PGDMP" + b"\0" * 64) if sqlite else b"SQLite format 3\x00" + b"\0" * 84,
                              "backup but the configured database is"),
    }
    if sqlite:
        cases["cut.backup"] = (file.read_bytes()[: file.stat().st_size // 2], "is not a readable gatewayd backup")
    else:
        cases["cut.backup"] = (file.read_bytes()[:200], "pg_restore exited")
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        result = restore(daemon, tmp_path / name)
        assert result.returncode == 1 and message in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr
    missing = restore(daemon, tmp_path / "nowhere.backup")
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    daemon.start()  # the database is untouched by the refusals
    assert daemon.client().get("/status")


def daemon_is_sqlite(daemon: Daemon) -> bool:
    return 'url = "sqlite' in daemon.config.read_text()


def test_a_backup_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    engine.dispose()
    newer = tmp_path / "newer.sqlite3"
    shutil.copy(tmp_path / "gatewayd.sqlite3", newer)
    with sqlite3.connect(newer) as c:
        c.execute("UPDATE alembic_version SET version_num = '0099_from_a_newer_gatewayd'")
    config = write_config(tmp_path, url)
    result = subprocess.run([str(BIN / "gatewayd"), "restore", str(newer), "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "0099_from_a_newer_gatewayd, newer than this gatewayd" in result.stderr


def test_backup_is_for_staff_only(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    db.migrate(engine)
    staff = next(g for g in grp.getgrall() if "nobody" not in g.gr_mem and g.gr_gid not in (0, 65534))
    with ThreadPoolExecutor(1) as writer:
        api = Api(Ledger(db.session_factory(engine), ZoneInfo("UTC")), writer, routes(), staff_group_gid=staff.gr_gid)
        request = Request("GET", "/backup", {}, b"", Caller("nobody", 65534), 65534)
        response = asyncio.run(api.handle(request))
    assert response.status == 403
    assert b"GET /backup is for staff" in response.body


def test_a_backup_from_an_older_schema_restores_into_a_newer_database_and_migrates(db_url: str, tmp_path: Path) -> None:
    """Last night's backup restored after today's upgrade: the newer tables must not be in the way."""
    from tests.core.test_migrations import REVISIONS, _upgrade

    engine = db.make_engine(db_url)
    _upgrade(engine, REVISIONS[0])  # the oldest: every later table is in the way
    with engine.begin() as c:
        c.execute(text("INSERT INTO tenants (company, rooms, contact, phone, email, fax_numbers, created_at) "
                       "VALUES ('Acme Trading Ltd', '1203', '', '', '', '', '2026-11-26 09:00:00+00')"))
    file = tmp_path / "older.backup"
    file.write_bytes(backup.dump(engine))
    db.migrate(engine)  # the upgrade
    with engine.begin() as c:
        c.execute(text("DELETE FROM tenants"))

    state = tmp_path / "state"
    state.mkdir()
    backup.restore(engine, file, socket_path=tmp_path / "no.sock", state_dir=state)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == REVISIONS[0]
    db.migrate(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == REVISIONS[-1]
        assert c.execute(text("SELECT company FROM tenants")).scalars().all() == ["Acme Trading Ltd"]
    engine.dispose()
