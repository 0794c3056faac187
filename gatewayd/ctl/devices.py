"""gatewayctl's copier commands: ``devices`` (state, counters, anomalies) and ``copy`` (meter counts).

A copy ticket is opened and finished like any other (``ticket open copy --device X``,
``ticket start``, ``ticket finish``); ``copy`` adds what only copies have: the meter beside the
ticket, a manual count for a ticket awaiting its meter, and the customer's own count.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from gatewayd.ctl.client import Client
from gatewayd.ctl.render import local, show_ticket
from gatewayd.tables import render

Result = tuple[Any, str | None]
_COPY_NAMES = ("copy.mono", "copy.colour", "total")


def _counters(reading: dict[str, Any] | None) -> str:
    if not reading:
        return ""
    counters = reading["counters"]
    shown = [n for n in reading["copy_counters"] if n in counters] or [n for n in _COPY_NAMES if n in counters]
    return ", ".join(f"{n} {counters[n]}" for n in shown)


def devices_list(args: argparse.Namespace, client: Client) -> Result:
    ds = client.get("/devices")
    rows = [(d["name"], f"{d['host']}:{d['port']}", d["profile"], d["state"],
             d["reading"]["serial"] if d["reading"] else "", local(d["reading"]["at"]) if d["reading"] else "",
             _counters(d["reading"]), len(d["anomalies"]), d["ticket"] or "") for d in ds]
    return ds, render(["device", "address", "profile", "state", "serial", "last reading", "copy counters",
                       "anomalies", "ticket"], rows, numeric=(7,))


def device_show(args: argparse.Namespace, client: Client) -> Result:
    d = client.get(f"/devices/{quote(args.name)}")
    lines = [f"{d['name']}  {d['host']}:{d['port']}  profile {d['profile']}  {d['state']}"]
    if d.get("model") or d.get("sys_descr"):
        lines.append(f"model:    {' / '.join(t for t in (d.get('model'), d.get('sys_descr')) if t)}")
    if d.get("error"):
        lines.append(f"error:    {d['error']} (since {local(d['error_at'])}, {d['consecutive_failures']} failures)")
    if d["ticket"]:
        lines.append(f"in use:   copy ticket {d['ticket']}")
    reading = d["reading"]
    if reading:
        serial = f"  serial {reading['serial']}" if reading["serial"] else "  (no serial number reported)"
        lines.append(f"reading:  {local(reading['at'])}{serial}  ({reading['status']})")
        lines += ["", render(["counter", "value", "unit"],
                             [(n + (" *" if n in reading["copy_counters"] else ""), v, reading["units"][n])
                              for n, v in reading["counters"].items()], numeric=(1,)),
                  "(* billed for copies)"]
    else:
        lines.append("reading:  none stored yet")
    if d["anomalies"]:
        lines += ["", render(["seen", "anomaly", "detail"],
                             [(local(a["observed_at"]), a["kind"], a["detail"]) for a in d["anomalies"]])]
    return d, "\n".join(lines)


def show_meter(m: dict[str, Any]) -> str:
    lines = [f"{m['ticket']}  {m['state']}  meter {m['mode'] or 'none'}" + (f" on {m['device']}" if m["device"] else "")]
    for end in ("opening", "closing"):
        if m[end]:
            lines.append(f"{end}:  {local(m[end]['at'])}  {_counters(m[end])}")
    if m["waiting"]:
        lines.append(f"waiting: {m['waiting']}" + ("  [needs a manual count]" if m["needs_count"] else ""))
    count = m["count"]
    if count:
        parts = ", ".join(f"{p['media']} {p['colour']} {p['sides']}" for p in count["by"]) or "nothing"
        lines.append(f"count:   {count['sides']} sides by {count['source']} ({parts})"
                     + (f", {count['printed_deducted']} printed sides deducted" if count.get("printed_deducted") else ""))
    customer = m["customer_count"]
    if customer:
        differs = f", {m['difference']:+d} against the meter" if m["difference"] else ", same as the meter"
        lines.append(f"customer counted {customer['sides']} sides{differs if count else ''}")
    return "\n".join(lines)


def copy_status(args: argparse.Namespace, client: Client) -> Result:
    m = client.get(f"/tickets/{quote(args.id)}/meter")
    return m, show_meter(m)


def copy_count(args: argparse.Namespace, client: Client) -> Result:
    t = client.post(f"/tickets/{quote(args.id)}/meter",
                    {"mono": args.mono, "colour": args.colour, "media": args.media, "note": args.note})
    return t, show_ticket(t) + "\n\n" + show_meter(t["meter"])


def copy_customer_count(args: argparse.Namespace, client: Client) -> Result:
    t = client.post(f"/tickets/{quote(args.id)}/customer-count", {"sides": args.sides, "note": args.note})
    return t, show_meter(t["meter"])


def register(sub: argparse._SubParsersAction) -> None:
    dev = sub.add_parser("devices", help="copiers: state, last reading, anomalies")
    # `gatewayctl devices --json` as well as `gatewayctl --json devices`; absent, it leaves the
    # top-level flag alone.
    dev.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    dev.set_defaults(handler=devices_list)
    dev_sub = dev.add_subparsers(dest="action")
    show = dev_sub.add_parser("show", help="one copier: counters and anomalies")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    show.set_defaults(handler=device_show)

    copy = sub.add_parser("copy", help="copy tickets' meter counts").add_subparsers(dest="action", required=True)
    st = copy.add_parser("status", help="the meter beside a copy ticket")
    st.add_argument("id")
    st.set_defaults(handler=copy_status)
    ct = copy.add_parser("count", help="settle a copy ticket awaiting its meter with sides counted by hand")
    ct.add_argument("id")
    ct.add_argument("--mono", type=int, default=0, help="mono sides copied")
    ct.add_argument("--colour", type=int, default=0, help="colour sides copied")
    ct.add_argument("--media", help="paper size, if not the ticket's")
    ct.add_argument("--note")
    ct.set_defaults(handler=copy_count)
    cc = copy.add_parser("customer-count", help="record the sides the customer counted")
    cc.add_argument("id")
    cc.add_argument("sides", type=int)
    cc.add_argument("--note")
    cc.set_defaults(handler=copy_customer_count)
