"""The desk's registers through the real API handlers in-process, on SQLite and PostgreSQL, with
the ledger's clock injected: each deadline is made to pass by moving the clock, not by waiting.
(The gatewayctl tests in test_ctl.py run a real daemon instead.)"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest

from gatewayd import config as config_mod
from gatewayd import db
from gatewayd.api import routes
from gatewayd.api.app import Api
from gatewayd.api.server import Request
from gatewayd.audit import Caller
from gatewayd.ledger import Ledger
from gatewayd.services import Services
from tests.conftest import write_config

#: Monday 30 November 2026, 09:00 in Shanghai.
MONDAY_9AM = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


class Desk:
    """The API as gatewayctl sees it, with a clock the test moves."""

    def __init__(self, api: Api, executor: ThreadPoolExecutor):
        self.api, self.executor = api, executor
        self.now = MONDAY_9AM
        self.caller = Caller("alice", 1000)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def request(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        query = {k: v for k, v in query.items() if v is not None}
        target = path + ("?" + urlencode(query) if query else "")
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        response = asyncio.run(self.api.handle(Request(method, target, {}, data, self.caller, 1000)))
        payload = json.loads(response.body) if response.body else None
        if response.status >= 400:
            raise Refused(response.status, payload["detail"])
        return payload

    def request_raw(self, method: str, path: str) -> tuple[int, bytes]:
        status, body, _ = self.exchange(method, path)
        return status, body

    def exchange(self, method: str, target: str) -> tuple[int, bytes, dict[str, str]]:
        response = asyncio.run(self.api.handle(Request(method, target, {}, b"", self.caller, 1000)))
        return response.status, response.body, dict(response.headers)

    def every_page(self, target: str) -> tuple[list[Any], int]:
        """A list route's rows across all its pages (following Link: rel=next), and the page count."""
        rows: list[Any] = []
        pages = 0
        following: str | None = target
        while following:
            status, body, headers = self.exchange("GET", following)
            assert status == 200, body
            rows += json.loads(body)
            pages += 1
            link = headers.get("link", "")
            following = link[1:link.index(">")] if link else None
        return rows, pages

    def get(self, path: str, **query: Any) -> Any:
        return self.request("GET", path, **query)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body or {})


@pytest.fixture
def desk_extra() -> str:
    """More ``[desk]`` keys for one test (parametrize ``desk_extra`` to set them)."""
    return ""


@pytest.fixture
def desk(tmp_path: Path, db_url: str, desk_extra: str) -> Iterator[Desk]:
    config = config_mod.load(write_config(tmp_path, db_url, extra=f"[desk]\nmail_hold_days = 3\n{desk_extra}\n"))
    config.spool_dir.mkdir(parents=True)  # the daemon makes it at start; /status reports its free space
    engine = db.make_engine(config.database_url)
    db.migrate(engine)
    executor = ThreadPoolExecutor(1)
    holder: list[Desk] = []
    ledger = Ledger(db.session_factory(engine), config.timezone, clock=lambda: holder[0].now)
    d = Desk(Api(ledger, executor, routes(), services=Services(config)), executor)
    holder.append(d)
    d.post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203,1205", "contact": "Ms Li", "phone": "021-5555-0101"})
    d.post("/tenants", {"company": "Borealis Consulting", "rooms": "1501", "contact": "Mr Wang", "phone": "021-5555-0202"})
    yield d
    executor.shutdown()
    engine.dispose()


def local(text: str) -> str:
    """A Shanghai wall-clock time as the API takes it."""
    return f"{text}+08:00"
