"""gatewayctl's price commands: quotes before the job, the rate table in force, receipts."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import quote as urlquote

from gatewayd.ctl.client import Client
from gatewayd.ctl.core import Result
from gatewayd.ctl.render import show_ticket
from gatewayd.tables import render


def _show_quote(q: dict) -> str:
    rows = [(line["description"], line["amount"]) for line in q["lines"]]
    return "\n".join([
        render(["charge", "amount"], rows, numeric=(1,)),
        "",
        f"total {q['total']} {q['currency']}  (rate table {q['rate_version']})",
    ])


def quote(args: argparse.Namespace, client: Client) -> Result:
    body: dict = {"service": args.service, "at": args.at}
    if args.service == "fax_out":
        body.update(number=args.number, minutes=args.minutes, pages=args.pages)
    elif args.service in ("fax_in", "typing"):
        body.update(pages=args.pages)
    elif args.service == "errand":
        body.update(description=args.description, fee=args.fee, service_charge=args.service_charge)
    else:
        body.update(media=args.media, sides=args.sides, colour=args.colour, duplex=args.duplex, sets=args.sets,
                    scale_percent=args.scale)
    if args.ticket:  # not a quote: the job is done, put its priced lines on the ticket
        t = client.post(f"/tickets/{urlquote(args.ticket)}/priced", body)
        return t, show_ticket(t)
    q = client.post("/quotes", body)
    return q, _show_quote(q)


def rates_show(args: argparse.Namespace, client: Client) -> Result:
    r = client.get("/rates", at=args.at)
    return r, r["text"].rstrip()


def receipt_show(args: argparse.Namespace, client: Client) -> Result:
    if args.pdf:
        data = client.request_bytes("GET", f"/receipts/{urlquote(args.number)}/pdf")
        Path(args.pdf).write_bytes(data)
        return {"number": args.number, "pdf": args.pdf, "bytes": len(data)}, f"wrote {args.pdf} ({len(data)} bytes)"
    r = client.get(f"/receipts/{urlquote(args.number)}")
    return r, r["text"].rstrip()


def register(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("quote", help="price a job before doing it (or, with --ticket, after it)").add_subparsers(dest="service", required=True)
    fax = q.add_parser("fax", help="an outgoing fax")
    fax.add_argument("number", help="as you would dial it, e.g. 0085221234567")
    fax.add_argument("--minutes", default="1")
    fax.add_argument("--pages", type=int, default=1)
    fax.set_defaults(service="fax_out")
    for name in ("fax_in", "typing"):
        p = q.add_parser(name.replace("_", "-"), help=f"{name.replace('_', ' ')} per page")
        p.add_argument("--pages", type=int, required=True)
        p.set_defaults(service=name)
    for name in ("print", "copy"):
        p = q.add_parser(name, help=f"{name}s per side")
        p.add_argument("--media", default="A4")
        p.add_argument("--sides", type=int, required=True, help="printed sides in one set")
        p.add_argument("--sets", type=int, default=1)
        p.add_argument("--colour", choices=["mono", "colour"], default="mono")
        p.add_argument("--duplex", action="store_true")
        p.add_argument("--scale", type=int, default=100, help="enlargement/reduction in percent")
    errand = q.add_parser("errand", help="a quoted fee plus the service charge")
    errand.add_argument("description")
    errand.add_argument("fee")
    errand.add_argument("--service-charge")
    for p in (fax, errand, *[q.choices[n] for n in ("fax-in", "typing", "print", "copy")]):
        p.add_argument("--at", help="when the job will run (ISO time with offset; default now)")
        p.add_argument("--ticket", help="add the priced lines to this ticket instead of quoting "
                                        "(typing pages, an errand's fee: jobs no device counts)")
        p.set_defaults(handler=quote)

    rates = sub.add_parser("rates", help="the price list").add_subparsers(dest="action", required=True)
    show = rates.add_parser("show", help="the rate table in force")
    show.add_argument("--at", help="ISO time with offset (default now)")
    show.set_defaults(handler=rates_show)

    receipt = sub.add_parser("receipt", help="receipts").add_subparsers(dest="action", required=True)
    rs = receipt.add_parser("show", help="print a receipt as text, or save its PDF")
    rs.add_argument("number")
    rs.add_argument("--pdf", metavar="FILE", help="write the one-page PDF here")
    rs.set_defaults(handler=receipt_show)
