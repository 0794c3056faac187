"""Two desks on one PostgreSQL booking the same room at once: exactly one booking wins.

Only PostgreSQL has concurrent writers (several sites on one server); the daemon's SQLite has one
writer thread. The room's row lock is what keeps the second desk from checking for a clash
before the first has committed."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gatewayd import config as config_mod
from gatewayd import db
from gatewayd.audit import Caller
from gatewayd.desk import rooms
from gatewayd.errors import Conflict
from gatewayd.services import Services
from tests.conftest import write_config

NOW = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
START, END = datetime(2026, 12, 3, 6, 0, tzinfo=timezone.utc), datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)


def test_two_desks_cannot_both_book_one_room(tmp_path: Path, postgres) -> None:  # type: ignore[no-untyped-def]
    url = postgres.new_database()
    services = Services(config_mod.load(write_config(tmp_path, url)))
    engine = db.make_engine(url)
    db.migrate(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as s:
        rooms.add_room(s, Caller("setup"), NOW, name="Room 2", capacity=6)

    def book(session, who: str):  # type: ignore[no-untyped-def]
        return rooms.book(session, Caller(who), NOW, 2026, services, room="Room 2", starts_at=START, ends_at=END,
                          guest_name=who)

    outcome: dict[str, object] = {}
    first = sessions()
    first.begin()
    book(first, "desk A")  # holds the room's row until it commits

    def second() -> None:
        try:
            with sessions.begin() as s:
                book(s, "desk B")
            outcome["b"] = "booked"
        except Conflict as err:
            outcome["b"] = err.detail

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.5)
    assert "b" not in outcome  # desk B waits for desk A's decision
    first.commit()
    first.close()
    thread.join(10)
    assert "is booked" in str(outcome["b"])
    with sessions() as s:
        listed = [rooms.view(b, NOW) for b in s.scalars(rooms.listing(s))]
    assert [b["customer"] for b in listed] == ["desk A"]
    engine.dispose()
