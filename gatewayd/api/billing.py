"""Prices before and after the job: quotes, the rate table in force, and printable receipts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from gatewayd import billing, tickets
from gatewayd.api.app import MONEY, Api, Call, Route, obj
from gatewayd.api.server import Response
from gatewayd.errors import InvalidValue

SERVICES = ["fax_out", "fax_in", "print", "copy", "typing", "errand"]


def _price(api: Api, b: dict[str, Any], at: datetime) -> billing.Rating:
    """The price list applied to a job described like the service form: a quote, or the lines of
    a job with no device to count it (typing pages, an errand's fee)."""
    service = b["service"]
    required = {"fax_out": ("number",), "fax_in": ("pages",), "typing": ("pages",), "errand": ("fee", "description"),
                "print": ("media", "sides"), "copy": ("media", "sides")}[service]
    for name in required:
        if name not in b:
            raise InvalidValue(f"a {service} price needs {name}")
    book, site = api.services.rates, api.services.site
    try:
        if service == "fax_out":
            return billing.quote_fax(book, site, b["number"], b.get("minutes", Decimal(1)), b.get("pages", 1), at)
        if service == "fax_in":
            return billing.rate(book, site, billing.FaxInUsage(pages=b["pages"], at=at))
        if service == "typing":
            return billing.rate(book, site, billing.TypingUsage(pages=b["pages"], at=at))
        if service == "errand":
            return billing.rate(book, site, billing.ErrandUsage(
                description=b["description"], quoted_fee=b["fee"], at=at, service_charge=b.get("service_charge")))
        return billing.rate(book, site, billing.PrintUsage(
            service=billing.Service(service), media=b["media"], colour=billing.Colour(b.get("colour", "mono")),
            duplex=b.get("duplex", False), sides=b["sides"], at=at, sets=b.get("sets", 1),
            scale_percent=b.get("scale_percent", 100),
        ))
    except billing.BillingError as err:
        raise InvalidValue(str(err)) from err


def _rating_view(rating: billing.Rating, at: datetime) -> dict[str, Any]:
    return {**rating.to_json(), "explain": rating.explain(), "at": at.isoformat()}


def quote(api: Api, call: Call) -> dict[str, Any]:
    """What a planned job will cost, shown to the customer before it is accepted."""
    at: datetime = call.body.get("at") or api.ledger.clock()
    return _rating_view(_price(api, call.body, at), at)


def add_priced(api: Api, call: Call) -> dict[str, Any]:
    """Price a job the way a quote does and put its lines on the ticket (not marked manual: they
    come from the price list, with its rules and version)."""
    at: datetime = call.body.get("at") or api.ledger.clock()
    rating = _price(api, call.body, at)
    now = api.ledger.clock()
    with api.ledger.transaction() as session:
        ticket = tickets.find(session, call.params["id"], lock=True)
        tickets.add_rating(session, call.caller, now, ticket, rating)
        return tickets.view(ticket)


def rates_in_force(api: Api, call: Call) -> dict[str, Any]:
    at: datetime = call.query.get("at") or api.ledger.clock()
    site = api.services.site
    try:
        table = api.services.rates.in_force(at, site.zone)
    except billing.BillingError as err:
        raise InvalidValue(str(err)) from err
    return {"version": table.version, "effective": table.effective.isoformat(), "timezone": site.timezone,
            "text": billing.format_table(table, site)}


def _receipt(api: Api, number: str) -> billing.Receipt:
    with api.ledger.transaction() as session:
        return tickets.receipt_document(session, number, api.services.site.currency)


def receipt(api: Api, call: Call) -> dict[str, Any]:
    r = _receipt(api, call.params["number"])
    return {"number": r.number, "kind": r.kind.value, "ticket": r.ticket, "customer": r.customer,
            "issued_at": r.issued_at.isoformat(), "total": str(r.total), "currency": r.currency,
            "text": billing.render_text(r, api.services.site.zone)}


def receipt_pdf(api: Api, call: Call) -> Response:
    from gatewayd.billing.receipt_pdf import render_pdf  # fpdf2 is slow to import: only when asked

    r = _receipt(api, call.params["number"])
    return Response(200, render_pdf(r, api.services.site.zone), "application/pdf",
                    [("content-disposition", f'inline; filename="{r.number}.pdf"')])


JOB_BODY = obj(
    ["service"],
    service={"type": "string", "enum": SERVICES},
    number={"type": "string", "maxLength": 40, "description": "fax_out: digits as dialled"},
    minutes={**MONEY, "description": "fax_out: expected line time in minutes"},
    pages={"type": "integer", "minimum": 0, "maximum": 10_000},
    media={"type": "string", "maxLength": 20, "description": "print/copy: A4, A3, B5, Letter..."},
    colour={"type": "string", "enum": ["mono", "colour"]},
    duplex={"type": "boolean"},
    sides={"type": "integer", "minimum": 0, "maximum": 1_000_000},
    sets={"type": "integer", "minimum": 1, "maximum": 10_000},
    scale_percent={"type": "integer", "minimum": 25, "maximum": 400},
    description={"type": "string", "maxLength": 500},
    fee={**MONEY, "description": "errand: the quoted fee"},
    service_charge=MONEY,
    at={"type": "string", "format": "date-time", "description": "when the job will run (default now)"},
)

ROUTES = [
    Route("POST", "/quotes", "Price a planned job by the table in force (shown to the customer first)", quote,
          body=JOB_BODY),
    Route("POST", "/tickets/{id}/priced", "Price a job like a quote and add its lines to the ticket", add_priced,
          status=201, body=JOB_BODY),
    Route("GET", "/rates", "The rate table in force (now, or at a given time)", rates_in_force,
          query={"at": {"type": "string", "format": "date-time"}}),
    Route("GET", "/receipts/{number}", "A receipt, with its printable text", receipt),
    Route("GET", "/receipts/{number}/pdf", "A receipt as a one-page PDF", receipt_pdf),
]

