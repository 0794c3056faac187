"""``gatewayctl fax``: send for a ticket, watch and cancel jobs, the received faxes, whom to call,
notify-me requests, and the two registers (发报记录本 ``--out``, 进报记录本 ``--in``)."""

from __future__ import annotations

import argparse
import base64
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gatewayd.ctl.client import Client
from gatewayd.ctl.render import ALL, listed, local
from gatewayd.tables import render

Result = tuple[Any, str | None]

_POLL_S = 0.5
_FINAL = ("done", "failed", "cancelled")


def show_jobs(items: list[dict[str, Any]]) -> str:
    rows = [(j["id"], j["ticket"], j["state"], j["number"], f"{j['pages_delivered']}/{j['pages']}", j["tries"],
             local(j["next_try_at"]), j["modem"], j["reason"]) for j in items]
    return render(["job", "ticket", "state", "number", "pages", "tries", "next try", "modem", "reason"], rows)


def send(args: argparse.Namespace, client: Client) -> Result:
    docs = [{"filename": Path(f).name, "content_base64": base64.b64encode(Path(f).read_bytes()).decode("ascii")}
            for f in args.files]
    job = client.post(f"/tickets/{quote(args.ticket)}/fax",
                      {"number": args.number, "documents": docs, "modem": args.modem})
    text = f"fax job {job['id']} queued on {job['modem']}: {job['pages']} pages to {job['number']} ({job['e164']})"
    if not args.wait:
        return job, text
    deadline = time.monotonic() + args.wait
    while job["state"] not in _FINAL and time.monotonic() < deadline:
        time.sleep(_POLL_S)
        job = client.get(f"/fax/jobs/{job['id']}")
    return job, f"{text}\n{show_jobs([job])}"


def jobs(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/fax/jobs", everything=args.all, ticket=args.ticket, state=args.state)
    return listed(args, items, show_jobs(items.rows))


def cancel(args: argparse.Namespace, client: Client) -> Result:
    job = client.post(f"/fax/jobs/{args.job}/cancel", {"reason": args.reason})
    note = "the call is being cut short" if job.get("cancelling") else "cancelled"
    return job, f"fax job {job['id']}: {note}"


def _who(e: dict[str, Any]) -> str:
    return e["tenant"] or e["guest_name"] or "待查"


def show_incoming(items: list[dict[str, Any]]) -> str:
    rows = [(e["id"], local(e["received_at"]), e["state"], e["remote_station_id"] or e["caller_id"], e["pages"],
             _who(e), e["room"], e["ticket"] or "") for e in items]
    return render(["fax", "received", "state", "from", "pages", "for", "room", "ticket"], rows, numeric=(4,))


def fetch(args: argparse.Namespace, client: Client) -> Result:
    target = f"/fax/incoming/{args.entry}/document" + ("?preview=true" if args.preview else "")
    data = client.request_bytes("GET", target)
    Path(args.out).write_bytes(data)
    return {"entry": args.entry, "file": args.out, "bytes": len(data)}, f"wrote {args.out} ({len(data)} bytes)"


def incoming(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/fax/incoming", everything=args.all, state=args.state, date=args.date)
    return listed(args, items, show_incoming(items.rows))


def assign(args: argparse.Namespace, client: Client) -> Result:
    entry = client.post(f"/fax/incoming/{args.entry}/assign", {
        "company": args.company, "room": args.room, "guest_name": args.guest, "guest_phone": args.phone})
    return entry, f"fax {entry['id']} is {_who(entry)}'s: pickup ticket {entry['ticket']}"


def called(args: argparse.Namespace, client: Client) -> Result:
    entry = client.post(f"/fax/incoming/{args.entry}/called", {})
    return entry, f"fax {entry['id']}: called"


def to_call(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/fax/to-call", everything=args.all)
    rows = [(e["id"], local(e["received_at"]), e["for"], e["call"], e["phone"], e["pages"], e["ticket"] or "")
            for e in items.rows]
    return listed(args, items, render(["fax", "received", "for", "call", "phone", "pages", "ticket"], rows))


def notify_me(args: argparse.Namespace, client: Client) -> Result:
    request = client.post("/fax/notify-requests", {
        "guest_name": args.guest, "phone": args.phone, "company": args.company, "sender": args.sender,
        "note": args.note})
    target = request["company"] or f"faxes from {request['sender']}"
    return request, f"request {request['id']}: {request['guest_name']} ({request['phone']}) is called about {target}"


def notify_requests(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/fax/notify-requests", everything=args.all, state=args.state)
    rows = [(r["id"], local(r["created_at"]), r["guest_name"], r["phone"], r["company"] or "", r["sender"],
             r["state"], r["created_by"]) for r in items.rows]
    return listed(args, items, render(["request", "asked", "guest", "phone", "company", "from", "state", "staff"],
                                      rows))


def notify_cancel(args: argparse.Namespace, client: Client) -> Result:
    request = client.post(f"/fax/notify-requests/{args.request}/cancel", {"reason": args.reason or ""})
    return request, f"request {request['id']}: {request['guest_name']} will not be called (cancelled)"


def register_view(args: argparse.Namespace, client: Client) -> Result:
    # A register is the day's whole book: every page of it.
    if args.out:
        items = client.listing("/fax/register/out", everything=True, date=args.date).rows
        rows = [(local(j["created_at"]), j["ticket"], j["customer"], j["room"], j["number"], j["region"],
                 f"{j['pages_delivered']}/{j['pages']}", ",".join(map(str, j["error_pages"])), j["duration_s"],
                 j["state"], j["charged"]) for j in items]
        return items, "发报记录本 outgoing faxes\n" + render(
            ["time", "ticket", "customer", "room", "number", "region", "pages", "错页", "seconds", "state",
             "charged"], rows, numeric=(8, 10))
    items = client.listing("/fax/register/in", everything=True, date=args.date).rows
    rows = [(local(e["received_at"]), e["tenant"] or ("待查" if e["state"] == "pending" else ""),
             e["guest_name"], e["room"], e["pages"], e["remote_station_id"], e["state"], e["ticket"] or "")
            for e in items]
    return items, "进报记录本 incoming faxes\n" + render(
        ["time", "company", "name", "room", "pages", "from", "state", "ticket"], rows, numeric=(4,))


def register(sub: argparse._SubParsersAction) -> None:
    fax = sub.add_parser("fax", help="send and receive faxes, the fax registers").add_subparsers(
        dest="action", required=True)
    p = fax.add_parser("send", help="fax documents for a fax_out ticket")
    p.add_argument("ticket", help="ticket id, e.g. T-2026-000123")
    p.add_argument("number", help="as dialled from the desk, e.g. 9,0085221234567")
    p.add_argument("files", nargs="+", metavar="FILE", help="PDF, PostScript, TIFF, PNG, JPEG or text")
    p.add_argument("--modem", help="default: the least busy modem")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="wait up to SECONDS for the job to end")
    p.set_defaults(handler=send)
    p = fax.add_parser("jobs", help="outgoing jobs and their state")
    p.add_argument("--ticket")
    p.add_argument("--state", choices=["queued", "sending", "retry_wait", "done", "failed", "cancelled"])
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=jobs)
    p = fax.add_parser("cancel", help="cancel a queued, waiting or sending job")
    p.add_argument("job", type=int)
    p.add_argument("--reason")
    p.set_defaults(handler=cancel)
    p = fax.add_parser("incoming", help="received faxes (--json: pages, state, times, remote id)")
    p.add_argument("--state", choices=["pending", "assigned", "archived"], help="pending = 待查")
    p.add_argument("--date", help="local date, e.g. 2026-11-26")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=incoming)
    p = fax.add_parser("fetch", help="save a received fax's pages (TIFF) or its page-1 preview (PNG)")
    p.add_argument("entry", type=int)
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--preview", action="store_true", help="the PNG preview of page 1 instead of the TIFF")
    p.set_defaults(handler=fetch)
    p = fax.add_parser("assign", help="say whose a received fax is (opens its pickup ticket)")
    p.add_argument("entry", type=int)
    p.add_argument("--company")
    p.add_argument("--room")
    p.add_argument("--guest", help="a walk-in guest's name")
    p.add_argument("--phone")
    p.set_defaults(handler=assign)
    p = fax.add_parser("called", help="the recipient was phoned: off the to-call list")
    p.add_argument("entry", type=int)
    p.set_defaults(handler=called)
    p = fax.add_parser("to-call", help="whom to phone about received faxes")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=to_call)
    p = fax.add_parser("notify-me", help="a guest asks to be told when a fax arrives for them")
    p.add_argument("--guest", required=True)
    p.add_argument("--phone", required=True)
    p.add_argument("--company", help="a fax for this tenant")
    p.add_argument("--sender", help="or a fax from this number / station id")
    p.add_argument("--note")
    p.set_defaults(handler=notify_me)
    p = fax.add_parser("notify-requests", help="the notify-me requests (open ones by default)")
    p.add_argument("--state", choices=["open", "matched", "cancelled"], default="open")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=notify_requests)
    p = fax.add_parser("notify-cancel", help="the guest no longer wants to be told: cancel a notify-me request")
    p.add_argument("request", type=int)
    p.add_argument("--reason")
    p.set_defaults(handler=notify_cancel)
    p = fax.add_parser("register", help="the fax registers: --out 发报记录本, --in 进报记录本")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--out", action="store_true")
    which.add_argument("--in", dest="in_", action="store_true")
    p.add_argument("--date", help="local date, e.g. 2026-11-26 (default: all)")
    p.set_defaults(handler=register_view)
