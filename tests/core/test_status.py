"""GET /status is cheap: the storage, the spool and the deadlines as the daemon last checked them
(every few seconds), never queried per request; gatewayctl learns the site's time zone from
GET /site, and only when it shows a time."""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from gatewayd import checkup, config as config_mod, db
from gatewayd.api import routes
from gatewayd.api.app import Api
from gatewayd.api.server import Request
from gatewayd.audit import Caller
from gatewayd.ledger import Ledger
from gatewayd.services import Services
from tests.conftest import Daemon, write_config


def test_status_makes_no_query_and_no_statvfs(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_mod.load(write_config(tmp_path, db_url))
    config.spool_dir.mkdir(parents=True)
    engine = db.make_engine(config.database_url)
    db.migrate(engine)
    executor = ThreadPoolExecutor(1)
    ledger = Ledger(db.session_factory(engine), config.timezone)
    api = Api(ledger, executor, routes(), services=Services(config), site={"timezone": "Asia/Shanghai"})
    queries, statvfs_calls = [], []
    event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))
    real_statvfs = os.statvfs
    monkeypatch.setattr(os, "statvfs", lambda path: statvfs_calls.append(path) or real_statvfs(path))

    def get(path: str) -> dict[str, Any]:
        response = asyncio.run(api.handle(Request("GET", path, {}, b"", Caller("alice", 1000), 1000)))
        assert response.status == 200, response.body
        return json.loads(response.body)

    try:
        api.checkup.check()  # what the daemon does every few seconds: the hooks see it
        assert queries and statvfs_calls
        queries.clear(), statvfs_calls.clear()
        for _ in range(5):
            status = get("/status")
        assert queries == [] and statvfs_calls == []
        assert get("/site") == {"timezone": "Asia/Shanghai"} and queries == []
        assert status["due"]["overdue"] == 0 and status["due"]["checked_at"]
        assert status["spool"]["path"] == str(config.spool_dir) and status["spool"]["checked_at"]
    finally:
        executor.shutdown()
        engine.dispose()


def _checked(part: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(part["checked_at"])


def test_status_reports_each_part_as_last_checked_and_follows_the_period(daemon: Daemon) -> None:
    c = daemon.client()
    first = c.get("/status")
    now = datetime.now(timezone.utc)
    for part in (first["database"], first["due"], first["spool"]):  # checked before the daemon served
        assert 0 <= (now - _checked(part)).total_seconds() < 30
    assert first["due"]["overdue"] == 0
    c.post("/complaints", {"complainant": "Mr Wang", "subject": "late fax", "department": "business centre",
                           "received_at": "2020-01-01T09:00:00+08:00"})  # its reply long overdue
    deadline = time.monotonic() + 3 * checkup.CHECK_S + 5
    while (later := c.get("/status"))["due"]["overdue"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert later["due"]["overdue"] == 1
    assert _checked(later["due"]) > _checked(first["due"]) and _checked(later["database"]) > _checked(first["database"])
    assert _checked(later["spool"]) > _checked(first["spool"])
    assert "deadlines: 1 overdue" in daemon.ctl("status").stdout


def _requests(daemon: Daemon) -> list[str]:
    lines = [json.loads(line) for line in daemon.log.read_text().splitlines() if line.startswith("{")]
    return [line["path"] for line in lines if line.get("event") == "api.request"]


def test_gatewayctl_asks_the_time_zone_of_site_only_when_it_shows_a_time(daemon: Daemon) -> None:
    c = daemon.client()
    ticket = c.post("/tickets", {"kind": "errand", "guest_name": "Mr Zhou"})
    before = len(_requests(daemon))
    listed = daemon.ctl("ticket", "list")
    assert listed.returncode == 0, listed.stderr
    opened = datetime.fromisoformat(ticket["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert opened.strftime("%Y-%m-%d %H:%M") in listed.stdout  # the site's local time, not the PC's
    asked = _requests(daemon)[before:]
    assert asked.count("/site") == 1 and "/status" not in asked, asked

    before = len(_requests(daemon))
    for args in (["tenant", "list"], ["--json", "ticket", "list"]):
        assert daemon.ctl(*args).returncode == 0
    asked = _requests(daemon)[before:]
    assert "/site" not in asked and "/status" not in asked, asked
