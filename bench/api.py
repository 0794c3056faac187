"""Staff API throughput over the Unix socket, on SQLite and PostgreSQL, beside a bare-HTTP baseline.

    .venv/bin/python bench/api.py [--seconds 5]

Figures (one client, keep-alive, sequential requests, as gatewayctl and the desk use it):
- baseline: GET /status on the same daemon socket (HTTP + routing, no database);
- ticket round trip: open + start + read (three requests, three transactions);
- events: POST /events with distinct natural keys (stored, matched, audited).
The ratio baseline/figure shows what the ledger costs on top of moving bytes.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import Daemon, Postgres, write_config  # noqa: E402


def rate(seconds: float, step) -> float:  # type: ignore[no-untyped-def]
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step(n)
        n += 1
    return n / elapsed


def measure(label: str, url: str, seconds: float) -> None:
    directory = Path(tempfile.mkdtemp(prefix="gatewayd-bench-"))
    daemon = Daemon(directory, write_config(directory, url)).start()
    client = daemon.client()
    try:
        baseline = rate(seconds, lambda n: client.get("/status"))

        def ticket(n: int) -> None:
            t = client.post("/tickets", {"kind": "copy", "guest_name": f"bench {n}"})
            client.post(f"/tickets/{t['id']}/start", {})
            client.get(f"/tickets/{t['id']}")

        tickets = rate(seconds, ticket)

        def event(n: int) -> None:
            client.post("/events", {"kind": "print_job", "device": "bench", "natural_key": f"bench/{n}",
                                    "occurred_at": "2026-11-26T09:00:00+08:00", "payload": {"pages": 1}})

        events = rate(seconds, event)
    finally:
        daemon.stop(signal.SIGTERM)
    print(f"{label:10s} baseline GET /status   {baseline:8.0f} req/s")
    print(f"{label:10s} ticket open+start+read {tickets:8.1f} round trips/s  ({tickets * 3:.0f} req/s, "
          f"{baseline / (tickets * 3):.1f}x the baseline's cost per request)")
    print(f"{label:10s} POST /events           {events:8.1f} events/s       "
          f"({baseline / events:.1f}x the baseline's cost)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    sqlite_dir = Path(tempfile.mkdtemp(prefix="gatewayd-bench-db-"))
    measure("sqlite", f"sqlite:///{sqlite_dir / 'bench.sqlite3'}", args.seconds)
    pg = Postgres()
    pg.start()
    try:
        measure("postgresql", pg.new_database(), args.seconds)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
