"""The console's pages beside the staff-API calls that carry the same data, on a month of a busy site.

    .venv/bin/python bench/console.py [--only sqlite|postgresql]

The month is ``bench/year.py``'s generator at 31/365 of its year (about 8,500 tickets, 85k copier
readings, their charge lines and audit entries), plus 40 outgoing fax jobs on the register's day
and 60 tickets put back into the open states so Today has work on it. One real daemon serves
both doors; each figure is the best of 5 (after one warm-up) from a keep-alive client:
- the console over HTTP on 127.0.0.1 (templates, session, CSRF and header middleware included);
- the same data over the Unix socket: the API calls the page makes, one after the other.
The difference is what the console adds on top of the API it calls in-process.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text, update  # noqa: E402

from bench.year import ZONE, best, generate, span  # noqa: E402
from gatewayd import db  # noqa: E402
from gatewayd.models import FaxJob, Ticket  # noqa: E402
from tests.conftest import Daemon, Postgres, write_config  # noqa: E402

SCALE = 31 / 365
OPEN_STATES = ["open", "in_progress", "awaiting_customer", "completed"]


def prepare(url: str) -> tuple[str, str]:
    """The month, then fax jobs on one day and some open tickets; returns (register day, a ticket)."""
    engine = db.make_engine(url)
    db.migrate(engine)
    generate(engine, SCALE, audited_events=False)
    start, _ = span(SCALE)
    day = (start + timedelta(days=15)).replace(hour=0)
    with engine.begin() as conn:
        faxes = conn.execute(select(Ticket.id, Ticket.number).where(
            Ticket.kind == "fax_out", Ticket.created_at >= day.astimezone(timezone.utc),
            Ticket.created_at < (day + timedelta(days=1)).astimezone(timezone.utc)).limit(40)).all()
        at = (day + timedelta(hours=10)).astimezone(timezone.utc)
        conn.execute(insert(FaxJob.__table__), [
            {"ticket_id": tid, "modem": "fax1", "number": "9,0085221234567", "dial": "9,0085221234567",
             "e164": "+85221234567", "region": "HK", "documents": "letter.pdf", "spool": "/nonexistent",
             "pages": 2, "pages_delivered": 2, "delivered": {"pages": [1, 2]}, "state": "done", "tries": 1,
             "reason": "", "last_call_id": "", "created_by": "alice", "created_at": at, "updated_at": at,
             "finished_at": at} for tid, _ in faxes])
        latest = conn.execute(select(Ticket.id).order_by(Ticket.id.desc()).limit(60)).scalars().all()
        for n, tid in enumerate(latest):
            conn.execute(update(Ticket).where(Ticket.id == tid).values(state=OPEN_STATES[n % len(OPEN_STATES)]))
        busiest = conn.execute(text(
            "SELECT t.number FROM tickets t JOIN charge_lines c ON c.ticket_id = t.id "
            "GROUP BY t.number ORDER BY count(*) DESC, t.number LIMIT 1")).scalar_one()
    engine.dispose()
    return day.astimezone(ZONE).date().isoformat(), busiest


def measure(label: str, url: str, directory: Path) -> None:
    t = time.perf_counter()
    day, ticket = prepare(url)
    print(f"{label:10s} generated the month in {time.perf_counter() - t:.0f} s", flush=True)
    daemon = Daemon(directory, write_config(directory, url, console='listen = "127.0.0.1:0"')).start(timeout=300)
    api = daemon.client()
    try:
        link = daemon.ctl("console", "--print-url").stdout.strip()
        base = link.split("/login/")[0]
        browser = httpx.Client(base_url=base, headers={"accept-language": "zh-CN"}, timeout=60)
        browser.get(link)

        def today_api() -> None:
            for state in ["open", "in_progress", "awaiting_meter", "awaiting_customer", "completed", "failed"]:
                api.get("/tickets", state=state, limit=500)
            for state in ["queued", "sending", "retry_wait"]:
                api.get("/fax/jobs", state=state)
            api.get("/fax/to-call")
            api.get("/fax/incoming", state="pending")
            api.get("/status")
            api.get("/devices")
            api.get("/due")
            api.get("/mail/to-call")

        def ticket_api() -> None:
            api.get(f"/tickets/{ticket}")
            api.get("/audit", entity="ticket", id=ticket)

        pages = [
            ("Today", lambda: browser.get("/"), today_api, "16 calls"),
            (f"ticket {ticket}", lambda: browser.get(f"/tickets/{ticket}"), ticket_api, "2 calls"),
            (f"fax register {day}", lambda: browser.get(f"/fax/register/out?date={day}"),
             lambda: api.get("/fax/register/out", date=day), "1 call"),
        ]
        for name, page, same_data, calls in pages:
            assert page().status_code == 200, name
            console_ms, api_ms = best(page, 5), best(same_data, 5)
            print(f"{label:10s} {name:28s} console {console_ms:7.1f} ms   API ({calls}) {api_ms:7.1f} ms   "
                  f"+{console_ms - api_ms:.1f} ms ({console_ms / api_ms:.2f}x)", flush=True)
    finally:
        daemon.stop(signal.SIGTERM)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        directory = Path(tempfile.mkdtemp(prefix="gatewayd-bench-console-"))
        measure("sqlite", f"sqlite:///{directory / 'bench.sqlite3'}", directory)
    if args.only in (None, "postgresql"):
        pg = Postgres()
        pg.start()
        try:
            measure("postgresql", pg.new_database(), Path(tempfile.mkdtemp(prefix="gatewayd-bench-console-")))
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
