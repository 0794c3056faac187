"""Ticket lists, this tree against another checkout, on the same database in the same run.

    .venv/bin/python bench/year.py --scale 0.1 --only sqlite --keep     # prints the kept database
    .venv/bin/python bench/lists.py --database sqlite:////tmp/…/year.sqlite3 --before /tmp/old-checkout \\
        --day 2026-01-16

Two real daemons on the one database: *before* runs the other checkout's code (on ``PYTHONPATH``,
this venv's interpreter and packages), *after* this tree's. Each round times every request on
one then the other (best of 5, warm), alternating which goes first; the figure is the best round.
The requests: a day's tickets (``limit=1000``), the first page of 200, and the console's Today
page's ``GET /tickets?state=…&limit=500``, one per active state, one after the other.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.year import ZONE, best  # noqa: E402
from gatewayd.console.pages import ACTIVE_STATES  # noqa: E402
from tests.conftest import Daemon, write_config  # noqa: E402

def start(url: str, pythonpath: str | None) -> Daemon:
    directory = Path(tempfile.mkdtemp(prefix="gatewayd-lists-"))
    saved = os.environ.get("PYTHONPATH")
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    try:
        return Daemon(directory, write_config(directory, url)).start(timeout=600)
    finally:
        if pythonpath:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True, help="a database URL, e.g. one bench/year.py --keep left")
    parser.add_argument("--before", required=True, help="a checkout of the code to compare with")
    parser.add_argument("--day", type=date.fromisoformat, required=True, help="the day whose tickets are listed")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start_of_day = datetime.combine(args.day, datetime.min.time(), ZONE)
    day = {"since": start_of_day.isoformat(), "until": (start_of_day + timedelta(days=1)).isoformat(), "limit": 1000}
    daemons = {"before": start(args.database, args.before), "after": start(args.database, None)}
    try:
        clients = {name: d.client() for name, d in daemons.items()}
        rows = {name: len(c.get("/tickets", **day)) for name, c in clients.items()}
        assert rows["before"] == rows["after"], rows
        figures: dict[str, dict[str, float]] = {}
        for n in range(args.rounds):
            for name in (("before", "after") if n % 2 == 0 else ("after", "before")):
                c = clients[name]
                measured = {
                    f"GET /tickets for {args.day} ({rows[name]} tickets)": best(lambda: c.get("/tickets", **day), 5),
                    "GET /tickets (first page, 200)": best(lambda: c.get("/tickets"), 5),
                    f"Today's {len(ACTIVE_STATES)} GET /tickets?state=…&limit=500": best(
                        lambda: [c.get("/tickets", state=s, limit=500) for s in ACTIVE_STATES], 5),
                }
                for what, ms in measured.items():
                    figures.setdefault(what, {})[name] = min(ms, figures.get(what, {}).get(name, float("inf")))
    finally:
        for d in daemons.values():
            d.stop(signal.SIGTERM)
    for what, by in figures.items():
        print(f"{what:48s} before {by['before']:8.1f} ms   after {by['after']:8.1f} ms   "
              f"({by['before'] / by['after']:.1f}×)")


if __name__ == "__main__":
    main()
