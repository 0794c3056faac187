"""Every list route pages by keyset: nothing missing or shown twice, never a silent cut, and a
fixed number of queries whatever the page size (counted with a SQLAlchemy event hook)."""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from gatewayd import api as staff_api
from gatewayd import db
from gatewayd.api.app import Api
from gatewayd.api.server import Request, Response
from gatewayd.audit import Caller
from gatewayd.events import EventIn
from gatewayd.ledger import Ledger
from tests.conftest import Daemon

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI)
DESK = Caller("desk", 0)


class Site:
    """A ledger with a settable clock behind the real routes, in this process (to count queries)."""

    def __init__(self, db_url: str) -> None:
        self.engine = db.make_engine(db_url)
        db.migrate(self.engine)
        self.now = DAY
        self.ledger = Ledger(db.session_factory(self.engine), SHANGHAI, clock=lambda: self.now)
        self.executor = ThreadPoolExecutor(1)
        self.api = Api(self.ledger, self.executor, staff_api.routes())
        self.statements = 0
        self.texts: list[str] = []
        self.executed: list[tuple[str, Any]] = []
        event.listen(self.engine, "before_cursor_execute", self._count)

    def _count(self, _connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements += 1
        self.texts.append(statement)
        self.executed.append((statement, parameters))

    def get(self, target: str) -> Response:
        return asyncio.run(self.api.handle(Request("GET", target, {}, b"", DESK, 0)))

    def pages(self, path: str, **query: Any) -> Iterator[tuple[list[dict[str, Any]], Response]]:
        """Follow rel=next from the first page to the last."""
        target: str | None = f"{path}?{urlencode(query)}"
        while target:
            response = self.get(target)
            assert response.status == 200, response.body
            yield json.loads(response.body), response
            link = dict(response.headers).get("link")
            target = re.fullmatch(r'<(.+)>; rel="next"', link).group(1) if link else None  # type: ignore[union-attr]


@pytest.fixture
def site(db_url: str) -> Iterator[Site]:
    s = Site(db_url)
    yield s
    s.executor.shutdown()
    s.engine.dispose()


def busy_day(site: Site, count: int) -> list[str]:
    """``count`` tickets on DAY (a tenant's, with charges and a payment, or a guest's), one the day
    before and one the day after."""
    site.ledger.save_tenant(DESK, {"company": "Acme Trading Ltd", "rooms": "1203"})
    site.now = DAY - timedelta(days=1)
    site.ledger.open_ticket(DESK, kind="copy", guest_name="yesterday")
    numbers = []
    for n in range(count):
        site.now = DAY + timedelta(minutes=2 * n)
        if n % 3:
            t = site.ledger.open_ticket(DESK, kind="copy", guest_name=f"guest {n}")
        else:
            t = site.ledger.open_ticket(DESK, kind="errand", company="Acme Trading Ltd", room="1203")
            site.ledger.add_charge(DESK, t["id"], description="courier", quantity=Decimal(1), unit="item",
                                   unit_price=Decimal("30.00"), amount=Decimal("30.00"))
            site.ledger.add_payment(DESK, t["id"], amount=Decimal("30.00"), method="cash")
        numbers.append(t["id"])
    site.now = DAY + timedelta(days=1, hours=1)
    site.ledger.open_ticket(DESK, kind="copy", guest_name="tomorrow")
    return numbers


def test_a_day_of_more_than_one_page_is_listed_whole(site: Site) -> None:
    opened = busy_day(site, 230)
    day = {"since": DAY.replace(hour=0).isoformat(), "until": (DAY.replace(hour=0) + timedelta(days=1)).isoformat()}
    first = site.get(f"/tickets?{urlencode(day)}")
    shown = json.loads(first.body)
    # The default page is 200 rows: the rest is announced, never silently cut.
    assert len(shown) == 200
    assert dict(first.headers)["x-total-count"] == "230" and "rel=\"next\"" in dict(first.headers)["link"]

    listed: list[str] = []
    for page, response in site.pages("/tickets", limit=70, **day):
        listed += [t["id"] for t in page]
        if len(listed) == 70:
            site.now = DAY + timedelta(hours=20)  # a ticket opened while the desk pages: shifts nothing
            site.ledger.open_ticket(DESK, kind="copy", guest_name="late")
    assert listed == list(reversed(opened))  # newest first, each exactly once, none of the other days
    errand = next(t for t in json.loads(first.body) if t["kind"] == "errand")
    assert (errand["tenant"], errand["total"], errand["balance"]) == ("Acme Trading Ltd", "30.00", "0.00")


def test_a_listed_ticket_is_shown_as_its_own_page_shows_it(site: Site) -> None:
    """The list builds its rows from plain columns, not the ticket objects the detail route reads:
    each listed ticket must still be exactly what GET /tickets/{id} answers (tenant or guest,
    charges, payments, both receipts of a settled ticket, totals, times)."""
    busy_day(site, 6)
    settled = site.ledger.open_ticket(DESK, kind="errand", company="Acme Trading Ltd", room="1203",
                                      params={"to": "北京"}, quoted_total=Decimal("12.50"), note="快递")
    site.ledger.add_charge(DESK, settled["id"], description="courier", quantity=Decimal("2.5"), unit="kg",
                           unit_price=Decimal("0.125"), amount=Decimal("0.31"))
    site.ledger.add_payment(DESK, settled["id"], amount=Decimal("0.10"), method="cash")
    for action in ("start", "finish", "complete"):
        site.ledger.transition(DESK, settled["id"], action)
    site.ledger.transition(DESK, settled["id"], "settle", method="cash")
    listed = json.loads(site.get("/tickets?limit=50").body)
    assert [t["id"] for t in listed][:1] == [settled["id"]] and len(listed) == 9
    for ticket in listed:
        assert ticket == json.loads(site.get(f"/tickets/{ticket['id']}").body)
    shown = listed[0]
    assert len(shown["receipts"]) == 2 and shown["charges"][0]["unit_price"] == "0.125"
    assert (shown["params"], shown["quoted_total"], shown["balance"]) == ({"to": "北京"}, "12.50", "0.00")


def test_a_list_too_long_to_count_says_more_than(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from gatewayd.api import pages

    busy_day(site, 12)
    monkeypatch.setattr(pages, "COUNT_LIMIT", 5)  # a year of events, in small
    headers = dict(site.get("/tickets?limit=2").headers)
    assert headers["x-total-count-over"] == "5" and "x-total-count" not in headers and "link" in headers
    assert "link" not in dict(site.get("/tickets?limit=20").headers)


def test_listing_takes_the_same_number_of_queries_whatever_the_page_size(site: Site) -> None:
    busy_day(site, 60)
    site.ledger.record_event(DESK, EventIn("print_job", "p1", "job/1", DAY, {"pages": 1}), manual=True)
    for path in ("/tickets", "/events", "/audit", "/tenants"):
        counts = []
        for limit in (5, 50):
            site.statements = 0
            assert site.get(f"{path}?limit={limit}").status == 200
            counts.append(site.statements)
        assert counts[0] == counts[1], f"{path}: {counts[0]} queries for 5 rows, {counts[1]} for 50"
        assert counts[0] <= 8, f"{path}: {counts[0]} queries"


def test_a_ticket_page_is_the_same_statements_whatever_its_size_on_postgresql(site: Site) -> None:
    """psycopg prepares a statement it has run a few times; a page whose text grew with its rows
    (one placeholder per ticket) would be parsed afresh on every request."""
    if site.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no array parameters; its IN list grows with the page")
    busy_day(site, 12)
    texts = []
    for limit in (3, 10):
        site.texts = []
        assert len(json.loads(site.get(f"/tickets?limit={limit}").body)) == limit
        texts.append(site.texts)
    assert texts[0] == texts[1]


def fax_day(site: Site, count: int) -> None:
    """``count`` outgoing jobs (each with its call) and received faxes on DAY, half of them on the
    to-call list through a notify-me request."""
    from gatewayd.models import FaxIncoming, FaxJob, FaxNotifyRequest, Ticket

    at = DAY.astimezone(timezone.utc)
    for n in range(count):
        t = site.ledger.open_ticket(DESK, kind="fax_out", company="Acme Trading Ltd", room="1203")
        with site.ledger.transaction() as s:
            ticket = s.query(Ticket).filter_by(number=t["id"]).one()
            job = FaxJob(ticket_id=ticket.id, modem="m1", number="0085221234567", dial="0085221234567",
                         e164="+85221234567", spool="/dev/null", pages=1, state="done", created_by="desk",
                         created_at=at + timedelta(minutes=n), updated_at=at)
            request = FaxNotifyRequest(guest_name=f"guest {n}", phone="13800138000", state="open",
                                       created_by="desk", created_at=at)
            s.add_all([job, request])
            s.flush()
            s.add(FaxIncoming(call_id=f"in-{n}", device="m1", received_at=at + timedelta(minutes=n), pages=2,
                              call_status="completed", state="pending",
                              notify_request_id=request.id if n % 2 else None))
            job_id = job.id
        site.ledger.record_event(DESK, EventIn("fax_call", "m1", f"out-{n}", at + timedelta(minutes=n),
                                               {"job_id": str(job_id), "direction": "outgoing", "number": "0085221234567",
                                                "status": "completed", "dialled_at": at.isoformat(),
                                                "duration_s": 30}, t["id"]), manual=False)


FAX_LISTS = ("/fax/jobs", "/fax/incoming", "/fax/to-call", "/fax/notify-requests", "/fax/register/out?date=2026-11-24",
             "/fax/register/in?date=2026-11-24")


def test_fax_lists_and_registers_take_the_same_queries_whatever_the_page_size(site: Site) -> None:
    busy_day(site, 0)
    fax_day(site, 44)
    for path in FAX_LISTS:
        counts, sizes = [], []
        for limit in (2, 20):  # both pages have more after them (the to-call list holds 22)
            site.statements = 0
            joiner = "&" if "?" in path else "?"
            response = site.get(f"{path}{joiner}limit={limit}")
            assert response.status == 200, response.body
            counts.append(site.statements)
            sizes.append(len(json.loads(response.body)))
        assert counts[0] == counts[1], f"{path}: {counts[0]} queries for 2 rows, {counts[1]} for 20"
        assert sizes == [2, 20], (path, sizes)
    register = [line for page, _ in site.pages("/fax/register/out", date="2026-11-24", limit=15) for line in page]
    assert [line["calls"] for line in register] == [1] * 44
    assert [line["created_at"] for line in register] == sorted(line["created_at"] for line in register)


def test_a_day_of_the_fax_registers_reads_no_year_long_table_whole(site: Site) -> None:
    """A busy year holds a million events and 150k charge lines: a day's register must reach its
    few rows by an index (SQLite's plans, which have no statistics to go by; PostgreSQL's depend
    on its statistics)."""
    if site.engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    busy_day(site, 0)
    fax_day(site, 3)
    for path in ("/fax/register/out?date=2026-11-24", "/fax/register/in?date=2026-11-24"):
        site.executed = []
        assert site.get(path).status == 200
        executed = list(site.executed)
        with site.engine.connect() as conn:
            for statement, parameters in executed:
                plan = " / ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                          parameters))
                for table in ("device_events", "charge_lines", "audit_trail"):
                    assert f"SCAN {table}" not in plan, f"{path}: {plan}"
                assert "ix_device_events_kind" not in plan, f"{path} walks every event of a kind: {plan}"


def test_events_audit_and_tenants_page_in_their_order(site: Site) -> None:
    busy_day(site, 6)
    for n in range(7):
        # Several events at the same instant: the id breaks the tie, nothing is lost between pages.
        at = DAY + timedelta(minutes=n // 3)
        site.ledger.record_event(DESK, EventIn("print_job", "p1", f"job/{n}", at, {"pages": 1}), manual=True)
    events = [e["natural_key"] for page, _ in site.pages("/events", limit=2) for e in page]
    assert events == [f"job/{n}" for n in (6, 5, 4, 3, 2, 1, 0)]
    audit = [(e["action"], e["entity_id"]) for page, _ in site.pages("/audit", limit=4, entity="event") for e in page]
    assert len(audit) == 7 and len(set(audit)) == 7
    for company in ("Zeta Ltd", "Alpha Ltd", "Mid Ltd"):
        site.ledger.save_tenant(DESK, {"company": company})
    tenants = [t["company"] for page, _ in site.pages("/tenants", limit=1) for t in page]
    assert tenants == ["Acme Trading Ltd", "Alpha Ltd", "Mid Ltd", "Zeta Ltd"]


@pytest.mark.parametrize("query, status, detail", [
    ("cursor=abc", 422, "cursor 'abc' does not look like"),
    ("cursor=999999", 422, "cursor 999999 is not a row of this list"),
    ("limit=0", 422, "limit must be at least 1"),
    ("limit=5001", 422, "limit must be at most 5000"),
    ("limit=ten", 422, "limit must be an integer"),
])
def test_hostile_page_parameters_are_refused_by_name(site: Site, query: str, status: int, detail: str) -> None:
    for path in ("/tickets", "/events", "/audit", "/tenants", *FAX_LISTS):
        response = site.get(f"{path}{'&' if '?' in path else '?'}{query}")
        assert response.status == status and detail in json.loads(response.body)["detail"], (path, response.body)


def test_gatewayctl_says_what_it_left_out_and_follows_cursors_with_all(daemon: Daemon) -> None:
    client = daemon.client()
    for n in range(203):
        client.post("/tickets", {"kind": "copy", "guest_name": f"guest {n}"})
    shown = daemon.ctl("ticket", "list")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.rstrip().endswith("showing 200 of 203, --all for the rest")
    scripted = daemon.ctl("--json", "ticket", "list")
    assert len(json.loads(scripted.stdout)) == 200 and "showing 200 of 203" in scripted.stderr
    everything = daemon.ctl("--json", "ticket", "list", "--all")
    ids = [t["id"] for t in json.loads(everything.stdout)]
    assert len(ids) == len(set(ids)) == 203 and everything.stderr == ""
    assert "showing" not in daemon.ctl("ticket", "list", "--all").stdout
