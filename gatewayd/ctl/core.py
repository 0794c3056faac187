"""gatewayctl's core commands: status, tickets, charges, payments, events, tenants, audit."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from gatewayd.ctl.client import Client
from gatewayd.ctl.render import ALL, change, listed, local, show_events, show_ticket, show_tickets
from gatewayd.models import TicketKind
from gatewayd.tables import render
from gatewayd.tickets import TRANSITIONS

Result = tuple[Any, str | None]


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param wants key=value, got {pair!r}")
        out[key] = value
    return out


def status(args: argparse.Namespace, client: Client) -> Result:
    s = client.get("/status")
    devices = render(["device", "running", "restarts", "last error"],
                     [(d["driver"], d["running"], d["restarts"], d["last_error"]) for d in s["devices"]])
    due = s["due"]
    deadlines = (f"deadlines: {due['overdue']} overdue, {due['due_today']} due within a day"
                 + (" (see `gatewayctl due`)" if due["overdue"] or due["due_today"] else ""))
    db = s["database"]
    trouble = f"\nDATABASE {db['problem'].upper()} since {db['since']}: {db['detail']}" if db.get("problem") else ""
    room = s["spool"]
    spool = f"spool: {room['free_mb']} MB free in {room['path']}" + (
        f" — LOW, below {room['min_free_mb']} MB: received faxes may be lost; free some space" if room["low"] else "")
    return s, (f"gatewayd {s['version']}, up {s['uptime_s']} s, database {db['url']}{trouble}\n{devices}\n"
               f"{deadlines}\n{spool}\n{_checked(db, due, room)}")


def _checked(*parts: dict[str, Any]) -> str:
    """How old the daemon's figures are: it checks every few seconds, and a part it could not
    check (the deadlines while the database is down) keeps its older figure -- the oldest counts."""
    now = datetime.now(timezone.utc)
    oldest = max((now - datetime.fromisoformat(p["checked_at"])).total_seconds() for p in parts)
    return f"checked {max(0, round(oldest))} s ago"


def ticket_open(args: argparse.Namespace, client: Client) -> Result:
    t = client.post("/tickets", {
        "kind": args.kind, "company": args.company, "room": args.room, "guest_name": args.guest,
        "guest_phone": args.phone, "device": args.device, "params": _params(args.param) or None,
        "quoted_total": args.quote, "note": args.note,
    })
    return t, show_ticket(t)


def ticket_list(args: argparse.Namespace, client: Client) -> Result:
    ts = client.listing("/tickets", everything=args.all, state=args.state, kind=args.kind, tenant=args.tenant,
                        since=args.since, until=args.until)
    return listed(args, ts, show_tickets(ts.rows))


def ticket_show(args: argparse.Namespace, client: Client) -> Result:
    t = client.get(f"/tickets/{quote(args.id)}")
    return t, show_ticket(t)


def ticket_transition(args: argparse.Namespace, client: Client) -> Result:
    body: dict[str, Any] = {"version": args.version}
    for option in ("reason", "signed_by", "method"):
        body[option] = getattr(args, option, None)
    t = client.post(f"/tickets/{quote(args.id)}/{args.action}", body)
    return t, show_ticket(t)


def charge(args: argparse.Namespace, client: Client) -> Result:
    t = client.post(f"/tickets/{quote(args.id)}/charges", {
        "description": args.description, "quantity": args.quantity, "unit_price": args.unit_price, "unit": args.unit,
    })
    return t, show_ticket(t)


def discount(args: argparse.Namespace, client: Client) -> Result:
    t = client.post(f"/tickets/{quote(args.id)}/discounts", {"amount": args.amount, "reason": args.reason})
    return t, show_ticket(t)


def refund(args: argparse.Namespace, client: Client) -> Result:
    t = client.post(f"/tickets/{quote(args.id)}/refunds",
                    {"amount": args.amount, "method": args.method, "reason": args.reason})
    return t, show_ticket(t)


def pay(args: argparse.Namespace, client: Client) -> Result:
    t = client.post(f"/tickets/{quote(args.id)}/payments", {"amount": args.amount, "method": args.method})
    return t, show_ticket(t)


def events_list(args: argparse.Namespace, client: Client) -> Result:
    es = client.listing("/events", everything=args.all, unattributed=args.unattributed, kind=args.kind,
                        device=args.device, ticket=args.ticket)
    return listed(args, es, show_events(es.rows))


def events_add(args: argparse.Namespace, client: Client) -> Result:
    e = client.post("/events", {"kind": args.kind, "device": args.device, "natural_key": args.key,
                                "occurred_at": args.at, "payload": json.loads(args.payload), "ticket": args.ticket})
    return e, show_events([e])


def events_attach(args: argparse.Namespace, client: Client) -> Result:
    e = client.post(f"/events/{args.event}/attach", {"ticket": args.ticket})
    return e, show_events([e])


def tenant_list(args: argparse.Namespace, client: Client) -> Result:
    ts = client.listing("/tenants", everything=args.all)
    return listed(args, ts, render(["company", "rooms", "contact", "phone"],
                                   [(t["company"], ",".join(t["rooms"]), t["contact"], t["phone"]) for t in ts.rows]))


def tenant_add(args: argparse.Namespace, client: Client) -> Result:
    t = client.post("/tenants", {"company": args.company, "rooms": args.rooms, "contact": args.contact,
                                 "phone": args.phone, "email": args.email})
    return t, f"saved {t['company']}"


def tenant_import(args: argparse.Namespace, client: Client) -> Result:
    with open(args.csv, encoding="utf-8-sig") as f:
        report = client.post("/tenants/import", {"csv": f.read()})
    text = f"imported {report['imported']}, rejected {len(report['rejected'])}"
    for r in report["rejected"]:
        text += f"\n  line {r['line']}: {r['reason']}"
    return report, text


def audit(args: argparse.Namespace, client: Client) -> Result:
    entries = client.listing("/audit", everything=args.all, entity="ticket" if args.ticket else None, id=args.ticket)
    return listed(args, entries, render(["at", "who", "action", "what", "change"],
                                        [(local(e["at"]), e["actor"], e["action"], e["entity_id"],
                                          change(e) + (" [manual]" if e["manual"] else "")) for e in entries.rows]))


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("status", help="daemon and device status").set_defaults(handler=status)

    ticket = sub.add_parser("ticket", help="service tickets").add_subparsers(dest="action", required=True)
    op = ticket.add_parser("open", help="open a ticket")
    op.add_argument("kind", choices=[k.value for k in TicketKind])
    op.add_argument("--company", help="tenant company (from the roster)")
    op.add_argument("--room")
    op.add_argument("--guest", help="walk-in guest's name")
    op.add_argument("--phone", help="walk-in guest's phone")
    op.add_argument("--device", help="copier/printer/modem the job uses")
    op.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="kind-specific detail")
    op.add_argument("--quote", help="quoted price, e.g. 30.00")
    op.add_argument("--note")
    op.set_defaults(handler=ticket_open)
    ls = ticket.add_parser("list", help="list tickets")
    for option in ("--state", "--kind", "--tenant"):
        ls.add_argument(option)
    ls.add_argument("--since", help="ISO time with offset")
    ls.add_argument("--until", help="ISO time with offset")
    ls.add_argument("--all", action="store_true", help=ALL)
    ls.set_defaults(handler=ticket_list)
    show = ticket.add_parser("show", help="one ticket, every charge explained")
    show.add_argument("id")
    show.set_defaults(handler=ticket_show)
    for action in [name for name, rule in TRANSITIONS.items() if rule.public]:
        a = ticket.add_parser(action, help=f"{action} a ticket")
        a.add_argument("id")
        a.add_argument("--version", type=int, help="refuse if the ticket changed since this version")
        if action in ("cancel", "fail"):
            a.add_argument("--reason", required=True)
        if action == "complete":
            a.add_argument("--signed-by", help="customer who signed the form")
        if action == "settle":
            a.add_argument("--method", choices=["cash", "account"], default="cash")
        a.set_defaults(handler=ticket_transition)

    c = sub.add_parser("charge", help="add a manual charge line")
    c.add_argument("id")
    c.add_argument("description")
    c.add_argument("quantity")
    c.add_argument("unit_price")
    c.add_argument("--unit", default="item")
    c.set_defaults(handler=charge)
    d = sub.add_parser("discount", help="give a discount, a line of its own with its reason (staff only)")
    d.add_argument("id")
    d.add_argument("amount")
    d.add_argument("--reason", required=True)
    d.set_defaults(handler=discount)
    r = sub.add_parser("refund", help="give money back, with a refund receipt and its reason (staff only)")
    r.add_argument("id")
    r.add_argument("amount")
    r.add_argument("--method", choices=["cash", "account"], default="cash")
    r.add_argument("--reason", required=True)
    r.set_defaults(handler=refund)
    p = sub.add_parser("pay", help="take a payment before settlement (temporary receipt)")
    p.add_argument("id")
    p.add_argument("amount")
    p.add_argument("--method", choices=["cash", "account"], default="cash")
    p.set_defaults(handler=pay)

    ev = sub.add_parser("events", help="device events").add_subparsers(dest="action", required=True)
    el = ev.add_parser("list", help="stored device events (--unattributed: on no ticket yet)")
    el.add_argument("--unattributed", action="store_true")
    for option in ("--kind", "--device", "--ticket"):
        el.add_argument(option)
    el.add_argument("--all", action="store_true", help=ALL)
    el.set_defaults(handler=events_list)
    ea = ev.add_parser("add", help="record an event by hand (audited as manual)")
    ea.add_argument("--kind", required=True, choices=["fax_call", "print_job", "meter_reading"])
    ea.add_argument("--device", required=True)
    ea.add_argument("--key", required=True, help="natural key, unique per kind")
    ea.add_argument("--at", required=True, help="ISO time with offset")
    ea.add_argument("--payload", default="{}", help="JSON object")
    ea.add_argument("--ticket")
    ea.set_defaults(handler=events_add)
    et = ev.add_parser("attach", help="put an unattributed event on a ticket")
    et.add_argument("event")
    et.add_argument("ticket")
    et.set_defaults(handler=events_attach)

    tenant = sub.add_parser("tenant", help="tenant roster").add_subparsers(dest="action", required=True)
    tl = tenant.add_parser("list", help="the roster")
    tl.add_argument("--all", action="store_true", help=ALL)
    tl.set_defaults(handler=tenant_list)
    ta = tenant.add_parser("add", help="add a tenant company to the roster")
    ta.add_argument("company")
    for option in ("--rooms", "--contact", "--phone", "--email"):
        ta.add_argument(option, default="")
    ta.set_defaults(handler=tenant_add)
    ti = tenant.add_parser("import", help="import a roster CSV")
    ti.add_argument("csv")
    ti.set_defaults(handler=tenant_import)

    au = sub.add_parser("audit", help="audit trail")
    au.add_argument("--ticket")
    au.add_argument("--all", action="store_true", help=ALL)
    au.set_defaults(handler=audit)
