"""The store itself, on SQLite and PostgreSQL: exact money, aware UTC times, an audit trail that only grows."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gatewayd import audit, db
from gatewayd.api.app import Api
from gatewayd.audit import Caller
from gatewayd.errors import InvalidValue
from gatewayd.ledger import Ledger
from gatewayd.models import AuditEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def ledger(db_url: str) -> Ledger:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    db.migrate(engine)  # idempotent
    return Ledger(db.session_factory(engine), SHANGHAI)


def trail(ledger: Ledger, entity: str | None = None, entity_id: str | None = None) -> list[dict]:
    with ledger.transaction() as s:
        return [audit.view(e) for e in s.scalars(audit.listing(entity, entity_id).order_by(AuditEntry.id.desc()))]


def test_money_survives_the_round_trip_exactly(ledger: Ledger) -> None:
    caller = Caller("desk")
    t = ledger.open_ticket(caller, kind="copy", guest_name="x", quoted_total=Decimal("0.10"))
    for _ in range(3):
        ledger.add_charge(caller, t["id"], description="copy", quantity=Decimal("1"), unit="side",
                          unit_price=Decimal("0.10"), amount=Decimal("0.10"))
    shown = ledger.get_ticket(t["id"])
    assert shown["total"] == "0.30"  # 0.1 + 0.1 + 0.1 in binary floating point is not 0.3
    assert shown["quoted_total"] == "0.10"


def test_times_are_stored_as_aware_utc_and_numbers_follow_the_local_year(db_url: str) -> None:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai: the ticket belongs to 2027.
    new_year = datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)
    ledger = Ledger(db.session_factory(engine), SHANGHAI, clock=lambda: new_year)
    t = ledger.open_ticket(Caller("desk"), kind="copy", guest_name="x")
    assert t["id"] == "T-2027-000001"
    assert datetime.fromisoformat(t["created_at"]) == new_year
    assert datetime.fromisoformat(t["created_at"]).utcoffset() == timedelta(0)


def test_naive_times_are_refused(ledger: Ledger) -> None:
    from gatewayd.events import EventIn

    with pytest.raises(InvalidValue, match="must carry a time zone"):
        ledger.record_event(Caller("desk"), EventIn("print_job", "p1", "k", datetime(2026, 1, 1), {}), manual=True)


def test_the_audit_trail_cannot_be_rewritten(ledger: Ledger) -> None:
    ledger.open_ticket(Caller("desk"), kind="copy", guest_name="x")
    for statement in ("UPDATE audit_trail SET actor = 'someone else'", "DELETE FROM audit_trail"):
        with pytest.raises(DBAPIError, match="append-only"):
            with ledger.sessions.begin() as s:
                s.execute(text(statement))
    assert [e["actor"] for e in trail(ledger)] == ["desk"]


def test_a_device_event_is_its_own_record_and_cannot_be_rewritten(ledger: Ledger) -> None:
    from gatewayd.events import EventIn

    at = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
    ticket = ledger.open_ticket(Caller("desk"), kind="print", guest_name="x")
    machine, _ = ledger.record_event(Caller("gatewayd"), EventIn("print_job", "p1", "job/1", at, {"pages": 1}),
                                     manual=False)
    typed, _ = ledger.record_event(Caller("desk"), EventIn("print_job", "p1", "job/2", at, {"pages": 2}),
                                   manual=True)
    # Migration 0004: no audit row repeats a machine's event; a person's entry and decision keep theirs.
    assert not trail(ledger, "event", str(machine["id"]))
    assert [e["action"] for e in trail(ledger, "event", str(typed["id"]))] == ["event.record"]
    for statement in ("UPDATE device_events SET payload = '{}'", "UPDATE device_events SET occurred_at = NULL",
                      "UPDATE device_events SET manual = true", "DELETE FROM device_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with ledger.sessions.begin() as s:
                s.execute(text(statement))
    attached = ledger.attach_event(Caller("desk"), machine["id"], ticket["id"])  # attribution may still move
    assert attached["ticket"] == ticket["id"]
    assert [e["action"] for e in trail(ledger, "event", str(machine["id"]))] == ["event.attach"]


def test_staff_only_routes_check_the_callers_groups(ledger: Ledger) -> None:
    staff_gid = os.getgid() + 4242  # a group the test's own user is not in
    api = Api(ledger, None, [], staff_group_gid=staff_gid)  # type: ignore[arg-type]
    outsider = Caller("nobody", 65534)
    assert not api.is_staff(outsider, 65534)
    assert api.is_staff(Caller("root", 0), 0)
    assert Api(ledger, None, []).is_staff(outsider, 65534)  # type: ignore[arg-type]
