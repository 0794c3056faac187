"""A year of a busy site: the monthly report, lists and the index migration on a generated ledger.

    .venv/bin/python bench/year.py [--scale 1.0] [--only sqlite|postgresql] [--keep]
    .venv/bin/python bench/year.py --database URL [--scale 1.0]    # measure a kept year again

``--scale 1`` is one year of one busy site (issue 15): 100,000 tickets with about 154k charge
lines, 1.0 M copier readings on 20 copiers (one every ~10 min), 50k print jobs, 20k fax calls and
the audit entries the daemon wrote for them (1.8 M before migration 0004); ``--scale 0.25`` is a
quarter, ``2`` two years. The data is deterministic (one seeded ``random.Random``) and written
with bulk inserts through the models' own tables (``Model.__table__``), so the column types
(UTC times, exact money, JSON) are the daemon's. The indexes migrations 0004, 0007 and 0008 add are
dropped while the year is written, then built again and timed: what the upgrade costs at start.

Figures, each beside its floor measured in the same run on the same database:
- ``GET /reports/monthly/2026-06`` (JSON, CSV, HTML) through a real daemon, best of 3, and the
  daemon's peak RSS (VmHWM) — beside the plain SQL queries one per aggregate;
- ``GET /tickets`` for one busy day and its first page, ``GET /events`` and ``GET /audit`` first
  pages, the day's fax registers (out, in) and typing and copy registers — beside the bare
  ``SELECT`` of the same rows;
- the time those migrations' CREATE INDEX statements take on the year, and the daemon's start.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, Table, insert, text  # noqa: E402

from drivers.fax.record import (  # noqa: E402
    CallStatus,
    Direction,
    FaxCall,
    HangupCause,
    HangupCode,
    PageAttempt,
    PageResult,
    PageStatus,
)
from gatewayd import db, events  # noqa: E402
from gatewayd.models import (  # noqa: E402
    AuditEntry,
    Base,
    ChargeLine,
    Counter,
    DeviceEvent,
    FaxIncoming,
    FaxJob,
    Payment,
    Receipt,
    Tenant,
    Ticket,
)
from tests.conftest import Daemon, Postgres, write_config  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2026
BATCH = 5_000
COPIERS = 20
PRINTERS = ("desk-laser", "lobby-colour", "ps")
#: (prefix, region, name, a number there as the desk dials it)
DESTINATIONS = [("+852", "HK", "Hong Kong 香港", "00852 2523 0000"), ("+1", "US", "USA/Canada", "001 212 555 0100"),
                ("+81", "JP", "Japan 日本", "0081 3 3224 0000"), ("+86", "CN", "China 中国", "010 6552 0000"),
                ("+886", "TW", "Taiwan 台湾", "00886 2 2311 0000"), ("+49", "DE", "Germany", "0049 30 2000 0000"),
                ("+44", "GB", "United Kingdom", "0044 20 7946 0000"), ("+65", "SG", "Singapore", "0065 6225 0000")]
#: ticket kinds with their share of the year's tickets
KINDS = (("copy", 0.30), ("print", 0.25), ("fax_out", 0.16), ("fax_in", 0.04), ("errand", 0.15), ("other", 0.10))
SYSTEM = "gatewayd"
#: What migrations 0004, 0007 and 0008 add, dropped while the year is written and then timed being built.
YEAR_INDEXES = ("ix_device_events_kind_device_occurred_at", "ix_device_events_occurred_at",
                "ix_device_events_kind_occurred_at", "ix_charge_lines_created_at", "ix_charge_lines_event_id")
SPLIT_COUNTERS = (("copy.mono", 2), ("copy.colour", 9), ("print.mono", 3), ("print.colour", 11), ("fax.print", 40),
                  ("copy.mono.A4", 3), ("copy.mono.A3", 12), ("copy.colour.A4", 10), ("copy.colour.A3", 50),
                  ("duplex", 5), ("scan", 7))
STAFF = ("alice", "bob", "chen")


@dataclass
class Rows:
    """What is written, table by table, flushed in batches through the models' tables."""

    engine: Engine
    pending: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    next_id: dict[str, int] = field(default_factory=dict)

    def add(self, model: Any, **row: Any) -> int:
        table = model.__table__
        if "id" in table.c and "id" not in row:
            row["id"] = self.next_id[table.name] = self.next_id.get(table.name, 0) + 1
        batch = self.pending.setdefault(table, [])
        batch.append(row)
        if len(batch) >= BATCH:
            self.flush()
        return row.get("id", 0)

    def flush(self) -> None:
        """Every pending row, parents first (the foreign keys are checked)."""
        with self.engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                batch = self.pending.get(table)
                if batch:
                    conn.execute(insert(table), batch)
                    self.written[table.name] = self.written.get(table.name, 0) + len(batch)
                    batch.clear()


def _business_times(rng: random.Random, count: int, start: datetime, end: datetime) -> list[datetime]:
    """``count`` instants between 08:00 and 20:00 local on the days in [start, end), sorted."""
    days = (end - start).days
    out = []
    for _ in range(count):
        day = start + timedelta(days=rng.randrange(days))
        out.append(day.replace(hour=8) + timedelta(seconds=rng.randrange(12 * 3600)))
    out.sort()
    return [t.astimezone(timezone.utc) for t in out]


def _audit(rows: Rows, at: datetime, action: str, entity: str, entity_id: str, after: dict[str, Any],
           actor: str = SYSTEM, before: dict[str, Any] | None = None) -> None:
    rows.add(AuditEntry, at=at, actor=actor, uid=None, action=action, entity=entity, entity_id=entity_id,
             before=before, after=after, manual=False)


def _event(rows: Rows, kind: str, device: str, key: str, at: datetime, payload: dict[str, Any],
           ticket: tuple[int, str] | None, audited: bool) -> int:
    event_id = rows.add(DeviceEvent, kind=kind, device=device, natural_key=key, occurred_at=at, payload=payload,
                        manual=False, ticket_id=ticket[0] if ticket else None,
                        attribution="matched" if ticket else "unattributed", recorded_by=SYSTEM, recorded_at=at)
    if audited:
        _audit(rows, at, "event.record", "event", str(event_id),
               {"kind": kind, "device": device, "natural_key": key, "ticket": ticket[1] if ticket else None,
                "attribution": "matched" if ticket else "unattributed"})
    return event_id


def _line(rows: Rows, ticket: tuple[int, str], at: datetime, description: str, quantity: int, unit: str,
          price: Decimal, rule: str, inputs: dict[str, Any], event_id: int | None = None) -> Decimal:
    amount = (price * quantity).quantize(Decimal("0.01"))
    line_id = rows.add(ChargeLine, ticket_id=ticket[0], description=description, quantity=Decimal(quantity),
                       unit=unit, unit_price=price, amount=amount, rule=rule, rate_version="2026-01-01",
                       inputs=inputs, event_id=event_id, manual=False, created_by=SYSTEM, created_at=at)
    _audit(rows, at, "charge.add", "ticket", ticket[1],
           {"charge_id": line_id, "description": description, "amount": str(amount), "rule": rule})
    return amount


def _params(kind: str, rng: random.Random) -> dict[str, Any]:
    if kind == "copy":
        return {"media": "A4"}
    if kind == "print" and rng.random() < 0.3:  # typed at the desk, then printed: the typing register
        return {"service": "typing"}
    return {}


def _call(call_id: str, direction: Direction, at: datetime, seconds: int, pages: int, **fields: Any) -> dict[str, Any]:
    """A fax call's payload as the daemon stores it: a driver's ``FaxCall`` through ``events.from_driver``."""
    good = PageStatus.CONFIRMED if direction is Direction.OUTGOING else PageStatus.RECEIVED_GOOD
    results = tuple(PageResult(n, (PageAttempt(1, good, 14400, "fine"),), True, False) for n in range(1, pages + 1))
    call = FaxCall(device="modem-1", occurred_at=at, call_id=call_id, direction=direction, status=CallStatus.COMPLETED,
                   hangup=HangupCause(HangupCode.NORMAL, "normal clearing", "E"),
                   dialled_at=at - timedelta(seconds=seconds + 20), connected_at=at - timedelta(seconds=seconds),
                   hung_up_at=at, duration_s=float(seconds), bit_rate=14400, resolution="fine", pages=results, **fields)
    return events.from_driver(call).payload


def span(scale: float) -> tuple[datetime, datetime]:
    start = datetime(YEAR, 1, 1, tzinfo=ZONE)
    return start, start + timedelta(days=max(1, round(365 * scale)))


def reported(scale: float) -> tuple[str, datetime]:
    """The month reported (June for a year) and a day in it whose tickets are listed."""
    start, end = span(scale)
    month = (start + (end - start) * 5 / 12).replace(day=1)
    day = min(month + timedelta(days=15), end - timedelta(days=1))
    return f"{month:%Y-%m}", day.replace(hour=0, minute=0, second=0, microsecond=0)


def generate(engine: Engine, scale: float, audited_events: bool = True) -> dict[str, int]:
    """Write the year; returns rows per table."""
    rng = random.Random(15)
    rows = Rows(engine)
    start, end = span(scale)
    created = start.astimezone(timezone.utc)
    tenants = []
    for n in range(300):
        company = f"Tenant {n:03d} Trading Ltd"
        tenant_id = rows.add(Tenant, company=company, rooms=f"{10 + n // 20}{n % 20:02d}", contact="", phone="",
                             email="", fax_numbers="", created_at=created)
        _audit(rows, created, "tenant.save", "tenant", str(tenant_id), {"company": company}, actor="alice")
        tenants.append(tenant_id)

    # Copiers read every ~10.5 min all year round (1.0 M readings a year on 20 copiers).
    readings = round(1_000_000 * scale)
    step = (end - start) / (readings / COPIERS)
    counters = [rng.randrange(10_000, 2_000_000) for _ in range(COPIERS)]
    uptime = [0] * COPIERS
    for n in range(readings // COPIERS):
        at = (start + step * n).astimezone(timezone.utc)
        for c in range(COPIERS):
            local_hour = (at.astimezone(ZONE)).hour
            counters[c] += rng.randrange(0, 40) if 8 <= local_hour < 20 else 0
            uptime[c] += int(step.total_seconds() * 100)
            device = f"copier-{c:02d}"
            # A Counter32 that wraps: the last copier is near 2**32 at the start of the year.
            value = (counters[c] + (2**32 - 1_000_000 if c == COPIERS - 1 else 0)) % 2**32
            # The counters a Kyocera TASKalfa reports (tests/data/snmprec): total, then by function,
            # colour and paper size.
            split = [{"name": name, "value": counters[c] // share, "unit": "impressions", "wraps_at": 2**32}
                     for name, share in SPLIT_COUNTERS]
            payload = {"device": device, "occurred_at": at.isoformat(), "profile": "kyocera", "serial": f"SN{c:05d}",
                       "counters": [{"name": "total", "value": value, "unit": "impressions", "wraps_at": 2**32},
                                    *split],
                       "sysuptime": uptime[c] % 2**32, "status": "idle", "device_status": "running",
                       "copy_counters": ["copy.mono"]}
            _event(rows, "meter_reading", device, f"{device}/{at.isoformat()}", at, payload, None, audited_events)

    count = round(100_000 * scale)
    times = _business_times(rng, count, start, end)
    year_numbers: dict[int, int] = {}
    receipts: dict[int, int] = {}
    fax_calls = prints = 0
    for n, opened in enumerate(times):
        year = opened.astimezone(ZONE).year
        year_numbers[year] = year_numbers.get(year, 0) + 1
        number = f"T-{year}-{year_numbers[year]:06d}"
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        tenant = rng.choice(tenants) if rng.random() < 0.7 else None
        device = f"copier-{rng.randrange(COPIERS):02d}" if kind == "copy" else (
            rng.choice(PRINTERS) if kind == "print" else "")
        cancelled = rng.random() < 0.02
        done = opened + timedelta(minutes=rng.randrange(5, 90))
        state = "cancelled" if cancelled else "settled"
        ticket_id = rows.add(
            Ticket, number=number, kind=kind, state=state, tenant_id=tenant, room="", guest_name="" if tenant else "Guest",
            guest_phone="", device=device, params=_params(kind, rng), quoted_total=None,
            note="", reason="customer left" if cancelled else "", signed_by="", opened_by=rng.choice(STAFF),
            created_at=opened, updated_at=done, completed_at=None if cancelled else done,
            settled_at=None if cancelled else done, version=5,
        )
        ticket = (ticket_id, number)
        snapshot = {"state": "open", "kind": kind, "device": device}
        _audit(rows, opened, "ticket.open", "ticket", number, snapshot, actor="alice")
        for action in ("start", "finish", "complete"):
            _audit(rows, opened, f"ticket.{action}", "ticket", number, snapshot, actor="alice", before=snapshot)
        total = Decimal("0.00")
        if kind == "copy":
            sides = rng.randrange(1, 120)
            total += _line(rows, ticket, done, f"A4 mono copies, {sides} sides", sides, "side", Decimal("0.50"),
                           "copy.prices[A4 mono]", {"sides": sides, "media": "A4"})
        elif kind == "print":
            for _ in range(2):
                prints += 1
                sides = rng.randrange(1, 30)
                printer = device if rng.random() < 0.95 else rng.choice(PRINTERS)
                payload = {"queue": printer, "job_id": prints, "billed_sides": sides, "copies": 1, "media": "A4",
                           "colour": "mono", "outcome": "completed", "sides": "one-sided"}
                event_id = _event(rows, "print_job", printer, f"cups/{printer}/{prints}", done, payload, ticket,
                                  audited_events)
                total += _line(rows, ticket, done, f"A4 mono print, {sides} sides", sides, "side", Decimal("1.00"),
                               "print.prices[A4 mono]", {"sides": sides}, event_id)
        elif kind == "fax_out":
            fax_calls += 1
            code, region, name, dial = rng.choice(DESTINATIONS)
            seconds = rng.randrange(30, 400)
            billed = -(-seconds // 60) * 60
            pages = rng.randrange(1, 6)
            call_id = f"out-{fax_calls}"
            job_id = rows.add(FaxJob, ticket_id=ticket_id, modem="modem-1", number=dial, dial=dial.replace(" ", ""),
                              e164=code + dial.replace(" ", "")[len(code) + 1:], region=region, documents="letter.pdf",
                              spool="", pages=pages, pages_delivered=pages, delivered={"pages": list(range(1, pages + 1))},
                              state="done", tries=1, next_try_at=None, reason="", last_call_id=call_id,
                              created_by="alice", created_at=opened, updated_at=done, finished_at=done)
            payload = _call(call_id, Direction.OUTGOING, done, seconds, pages, number=dial.replace(" ", ""),
                            remote_station_id=f"{code} 555 {fax_calls:04d}", pages_requested=pages, job_id=str(job_id))
            event_id = _event(rows, "fax_call", "modem-1", call_id, done, payload, ticket, audited_events)
            total += _line(rows, ticket, done, f"{code} {name}, {billed // 60} min", billed // 60, "min",
                           Decimal("6.00"), f"fax_out.destinations[{code}]", {"billed_s": billed}, event_id)
            total += _line(rows, ticket, done, "connect fee", 1, "call", Decimal("2.00"), "fax_out.connect_fee", {},
                           event_id)
        elif kind == "fax_in":
            pages = rng.randrange(1, 6)
            total += _line(rows, ticket, done, f"received fax, {pages} pages", pages, "page", Decimal("2.00"),
                           "fax_in.per_page", {"pages": pages})
        else:
            total += _line(rows, ticket, done, "service", 1, "item", Decimal(rng.randrange(5, 60)),
                           f"{kind}.service_charge", {})
            if kind == "errand":
                total += _line(rows, ticket, done, "courier", 1, "item", Decimal("30.00"), "errand.costs", {})
        if cancelled:
            _audit(rows, done, "ticket.cancel", "ticket", number, snapshot, actor="alice", before=snapshot)
            continue
        rows.add(Payment, ticket_id=ticket_id, method="cash", amount=total, received_by="alice", created_at=done)
        receipts[year] = receipts.get(year, 0) + 1
        receipt = f"R-{year}-{receipts[year]:06d}"
        rows.add(Receipt, number=receipt, kind="formal", ticket_id=ticket_id, amount=total, issued_by="alice",
                 issued_at=done, exchanged_for="")
        _audit(rows, done, "ticket.settle", "ticket", number, {"receipt": receipt, "collected": str(total)},
               actor="alice", before=snapshot)

    # Print jobs nobody claimed, and received faxes (20k calls a year with the outgoing ones).
    for at in _business_times(rng, round(50_000 * scale) - prints, start, end):
        prints += 1
        printer = rng.choice(PRINTERS)
        payload = {"queue": printer, "job_id": prints, "billed_sides": rng.randrange(1, 10), "copies": 1,
                   "media": "A4", "colour": "mono", "outcome": "completed", "sides": "one-sided"}
        _event(rows, "print_job", printer, f"cups/{printer}/{prints}", at, payload, None, audited_events)
    for at in _business_times(rng, round(20_000 * scale) - fax_calls, start, end):
        fax_calls += 1
        call_id, pages, sender = f"in-{fax_calls}", rng.randrange(1, 5), rng.choice(DESTINATIONS)
        payload = _call(call_id, Direction.INCOMING, at, rng.randrange(30, 200), pages, number="6288 0000",
                        caller_id=sender[3].replace(" ", ""), remote_station_id=f"{sender[0]} 555 {fax_calls:04d}",
                        document_path=f"/var/spool/gatewayd/fax/in/{call_id}.tif")
        _event(rows, "fax_call", "modem-1", call_id, at, payload, None, audited_events)
        # Most are the tenants' (assigned by a route), a few wait unclaimed (待查) until archived.
        tenant = rng.choice(tenants) if rng.random() < 0.9 else None
        rows.add(FaxIncoming, call_id=call_id, device="modem-1", received_at=at, called_number="62880000",
                 caller_id=payload["caller_id"], remote_station_id=payload["remote_station_id"], pages=pages,
                 call_status="completed", document_path=payload["document_path"],
                 state="assigned" if tenant else "archived", tenant_id=tenant, assigned_by="route 1" if tenant else "",
                 assigned_at=at if tenant else None, called_at=at + timedelta(minutes=10) if tenant else None,
                 called_by="bob" if tenant else "", archived_at=None if tenant else at + timedelta(days=3))
    for year, last in year_numbers.items():
        rows.add(Counter, name="ticket", year=year, last=last)
    for year, last in receipts.items():
        rows.add(Counter, name="receipt", year=year, last=last)
    rows.flush()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in rows.next_id:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    return rows.written


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    """The fastest of ``runs`` calls, in ms (warm cache: the first call warms it)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return min(times)


#: The floor: what each aggregate costs as one plain SQL query (first and last reading per copier,
#: sums of the month's charge lines, event counts), on the same connection's database.
FLOOR_REPORT = {
    "first and last reading per copier": (
        "WITH RECURSIVE d(device) AS (SELECT min(device) FROM device_events WHERE kind = 'meter_reading' "
        "UNION ALL SELECT (SELECT min(device) FROM device_events WHERE kind = 'meter_reading' AND device > d.device) "
        "FROM d WHERE d.device IS NOT NULL) "
        "SELECT device, (SELECT payload FROM device_events e WHERE e.kind = 'meter_reading' AND e.device = d.device "
        "AND e.occurred_at >= :start AND e.occurred_at < :end ORDER BY e.occurred_at, e.id LIMIT 1), "
        "(SELECT payload FROM device_events e WHERE e.kind = 'meter_reading' AND e.device = d.device "
        "AND e.occurred_at >= :start AND e.occurred_at < :end ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) "
        "FROM d WHERE device IS NOT NULL"),
    "charge lines of the month by kind and rule": (
        "SELECT t.kind, c.rule, count(*), sum(c.quantity) FROM charge_lines c JOIN tickets t ON t.id = c.ticket_id "
        "WHERE c.created_at >= :start AND c.created_at < :end AND t.state <> 'cancelled' GROUP BY t.kind, c.rule"),
    "print jobs and fax calls of the month by kind and attribution": (
        "SELECT kind, attribution, count(*) FROM device_events "
        "WHERE occurred_at >= :start AND occurred_at < :end AND kind IN ('print_job', 'fax_call') "
        "GROUP BY kind, attribution"),
}
#: The lists timed, each beside the plain SELECT of the same rows: (route, its query for the listed
#: day or None for a first page, the floor's SQL with :start/:end as the day's bounds).
LISTS = (
    ("/tickets", {"limit": 1000}, "SELECT * FROM tickets WHERE created_at >= :start AND created_at < :end ORDER BY id DESC"),
    ("/tickets", None, "SELECT * FROM tickets ORDER BY id DESC LIMIT 200"),
    ("/events", None, "SELECT * FROM device_events ORDER BY occurred_at DESC, id DESC LIMIT 200"),
    ("/audit", None, "SELECT * FROM audit_trail ORDER BY id DESC LIMIT 200"),
    ("/fax/register/out", {}, "SELECT * FROM fax_jobs WHERE created_at >= :start AND created_at < :end ORDER BY id"),
    ("/fax/register/in", {},
     "SELECT * FROM fax_incoming WHERE received_at >= :start AND received_at < :end ORDER BY received_at, id"),
    ("/registers/typing", {}, "SELECT * FROM tickets WHERE kind = 'print' AND created_at >= :start "
                              "AND created_at < :end ORDER BY created_at, id"),
    ("/registers/copy", {}, "SELECT * FROM tickets WHERE kind = 'copy' AND created_at >= :start "
                            "AND created_at < :end ORDER BY created_at, id"),
)


def _list_query(path: str, query: dict[str, Any] | None, day: datetime) -> dict[str, Any]:
    """The request's query: the listed day as the route takes it (since/until, or a date), or a first page."""
    if query is None:
        return {}
    if path == "/tickets":
        return {"since": day.isoformat(), "until": (day + timedelta(days=1)).isoformat(), **query}
    return {"date": f"{day:%Y-%m-%d}", **query}


def _bounds(engine: Engine, start: datetime, end: datetime) -> dict[str, Any]:
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if engine.dialect.name == "sqlite":  # stored naive UTC, as UTCDateTime writes it
        return {"start": start.replace(tzinfo=None).isoformat(sep=" "), "end": end.replace(tzinfo=None).isoformat(sep=" ")}
    return {"start": start, "end": end}


def floors(engine: Engine, scale: float) -> dict[str, float]:
    out = {}
    name, day_start = reported(scale)
    month_start = datetime.strptime(name, "%Y-%m").replace(tzinfo=ZONE)
    month = _bounds(engine, month_start, (month_start + timedelta(days=32)).replace(day=1))
    with engine.connect() as conn:
        for label, sql in FLOOR_REPORT.items():
            out[label] = best(lambda: conn.execute(text(sql), month).all())
        day = _bounds(engine, day_start, day_start + timedelta(days=1))
        for n, (_, _, sql) in enumerate(LISTS):
            out[f"list {n}"] = best(lambda: conn.execute(text(sql), day).all())
    return out


def _handled_ms(daemon: Daemon, path: str, params: dict[str, Any]) -> float:
    """The fastest of the daemon's own times for this request (its ``api.request`` log lines): the
    round trip above adds the socket and the client's parsing of the JSON."""
    target = path + (f"?{urlencode(params)}" if params else "")
    times = [line["ms"] for line in map(json.loads, daemon.log.read_text().splitlines())
             if line.get("event") == "api.request" and line.get("path") == target]
    return min(times)


def _rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _database_mb(engine: Engine) -> float:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        return Path(engine.url.database).stat().st_size / 2**20  # type: ignore[arg-type]


def build(label: str, url: str, scale: float) -> None:
    """Write the year into ``url`` and time the indexes of migrations 0004, 0007 and 0008 on it."""
    engine = db.make_engine(url)
    db.migrate(engine)
    indexes = [ix for table in Base.metadata.sorted_tables for ix in table.indexes if ix.name in YEAR_INDEXES]
    for index in indexes:  # the year as it stood before them
        index.drop(engine)
    t = time.perf_counter()
    written = generate(engine, scale)
    generated = time.perf_counter() - t
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    size = _database_mb(engine)
    print(f"{label:10s} generated {sum(written.values()):,} rows in {generated:.0f} s, {size:,.0f} MiB: "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(written.items())), flush=True)
    t = time.perf_counter()
    for index in indexes:
        index.create(engine)
    print(f"{label:10s} the indexes of migrations 0004, 0007 and 0008 ({len(indexes)} CREATE INDEX): "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    engine.dispose()


def measure(label: str, url: str, scale: float, directory: Path) -> None:
    """The figures on a year already in ``url`` (written by ``build`` at this ``scale``)."""
    engine = db.make_engine(url)
    floor = floors(engine, scale)
    month, day_start = reported(scale)
    engine.dispose()

    t = time.perf_counter()
    daemon = Daemon(directory, write_config(directory, url)).start(timeout=600)
    print(f"{label:10s} daemon start to first answer: {time.perf_counter() - t:.1f} s", flush=True)
    client = daemon.client()
    try:
        before = _rss_peak_mb(daemon.proc.pid)  # type: ignore[union-attr]
        report = {fmt: best(lambda: client.request_bytes("GET", f"/reports/monthly/{month}{fmt}"))
                  for fmt in ("", "/csv", "/html")}
        rss = _rss_peak_mb(daemon.proc.pid)  # type: ignore[union-attr]
        lists = {}
        for n, (path, query, _) in enumerate(LISTS):
            params = _list_query(path, query, day_start)
            rows = len(client.get(path, **params))
            name = f"GET {path} " + (f"for {day_start:%Y-%m-%d} ({rows} rows)" if query is not None else f"first page ({rows})")
            lists[name] = (best(lambda: client.get(path, **params), 5), _handled_ms(daemon, path, params),
                           floor[f"list {n}"])
    finally:
        daemon.stop(signal.SIGTERM)
    floor_report = sum(v for k, v in floor.items() if k in FLOOR_REPORT)
    for fmt, ms in report.items():
        print(f"{label:10s} GET /reports/monthly/{month}{fmt:6s} {ms:8.1f} ms   "
              f"(floor: {floor_report:.1f} ms for the {len(FLOOR_REPORT)} aggregate queries)")
    print(f"{label:10s} daemon peak RSS {before:.0f} MB before the reports, {rss:.0f} MB after")
    for name, (ms, handled, floor_ms) in lists.items():
        print(f"{label:10s} {name:48s} {ms:8.1f} ms   (in the daemon {handled:.1f} ms; "
              f"floor: {floor_ms:.1f} ms, plain SELECT)")
    for name in FLOOR_REPORT:
        print(f"{label:10s}   floor {name}: {floor[name]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1 = a year of a busy site; 0.25 = a quarter")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database (its path is printed)")
    parser.add_argument("--database", help="measure again a year written before (a --keep database, or one on a "
                        "PostgreSQL server you keep), at the --scale it was written with; nothing is generated")
    args = parser.parse_args()
    if args.database:
        label = "postgresql" if args.database.startswith("postgresql") else "sqlite"
        directory = Path(tempfile.mkdtemp(prefix="gatewayd-year-"))
        try:
            measure(label, args.database, args.scale, directory)
        finally:
            shutil.rmtree(directory)
        return
    if args.only != "postgresql":
        directory = Path(tempfile.mkdtemp(prefix="gatewayd-year-"))
        url = f"sqlite:///{directory / 'year.sqlite3'}"
        build("sqlite", url, args.scale)
        measure("sqlite", url, args.scale, directory)
        if args.keep:
            print(f"kept {directory / 'year.sqlite3'}")
        else:
            shutil.rmtree(directory)
    if args.only != "sqlite":
        pg = Postgres()
        pg.start()
        directory = Path(tempfile.mkdtemp(prefix="gatewayd-year-"))
        try:
            url = pg.new_database()
            build("postgresql", url, args.scale)
            measure("postgresql", url, args.scale, directory)
        finally:
            pg.stop()
            shutil.rmtree(directory)


if __name__ == "__main__":
    main()
