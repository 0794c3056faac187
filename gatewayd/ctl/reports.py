"""gatewayctl report: the monthly meter reconciliation."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import quote

from gatewayd.ctl.client import Client
from gatewayd.ctl.core import Result
from gatewayd.tables import render


def monthly(args: argparse.Namespace, client: Client) -> Result:
    month = quote(args.month)
    for fmt, path in (("csv", args.csv), ("html", args.html)):
        if path:
            Path(path).write_bytes(client.request_bytes("GET", f"/reports/monthly/{month}/{fmt}"))
    r = client.get(f"/reports/monthly/{month}")
    devices = render(
        ["device", "counter", "opening", "closing", "metered", "billed copies", "billed prints", "unbilled",
         "anomalies"],
        [(d["device"], d["counter"], d["opening"], d["closing"], d["metered"], d["billed_copy_sides"],
          d["billed_print_sides"], d["unbilled"], d["anomalies"]) for d in r["devices"]],
        numeric=(2, 3, 4, 5, 6, 7, 8),
    )
    fax = render(["destination", "calls", "minutes", "revenue"],
                 [(f["destination"], f["calls"], f"{f['billed_seconds'] / 60:.1f}", f["revenue"]) for f in r["fax_out"]],
                 numeric=(1, 2, 3))
    revenue = render(["service", "amount"], [*r["revenue_by_service"].items(), ("total", r["revenue"])], numeric=(1,))
    unattributed = ", ".join(f"{k} {v}" for k, v in r["unattributed_events"].items()) or "none"
    text = (f"Monthly reconciliation {r['month']} ({r['timezone']})\n\n{devices}\n\nFaxes sent\n{fax}\n\n"
            f"Faxes received: {r['fax_in_calls']} calls, {r['fax_in_pages']} pages\n"
            f"Unattributed events: {unattributed}\n\n{revenue}\n\n{desk_text(r['desk'])}")
    written = [p for p in (args.csv, args.html) if p]
    if written:
        text += "\n\nwrote " + ", ".join(written)
    return r, text


def desk_text(desk: dict) -> str:
    rooms = render(["meeting room", "bookings", "hours", "occupancy %", "revenue"],
                   [(m["room"], m["bookings"], m["booked_hours"], m["occupancy_percent"], m["revenue"])
                    for m in desk["meeting_rooms"]] + [("total", "", "", "", desk["meeting_room_revenue"])],
                   numeric=(1, 2, 3, 4))
    mail = ", ".join(f"{kind} {n}" for kind, n in desk["mail"].items())
    c = desk["complaints"]
    return (f"{rooms}\n\nMail: {mail}\nComplaints: {c['received']} received, {c['replied']} replied "
            f"({c['replied_on_time']} on time), {c['overdue_at_month_end']} overdue at the month's end")


def register(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="reports").add_subparsers(dest="action", required=True)
    m = report.add_parser("monthly", help="meters against bills for a month")
    m.add_argument("month", help="e.g. 2026-11 (the site's calendar)")
    m.add_argument("--csv", metavar="FILE", help="also write the CSV for accounting")
    m.add_argument("--html", metavar="FILE", help="also write the readable report with charts")
    m.set_defaults(handler=monthly)
