"""The core routes: status, tenants, tickets and their transitions, charges, payments, events, audit."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import gatewayd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gatewayd import audit, billing, tenants, tickets
from gatewayd import events as event_ledger
from gatewayd.api import pages
from gatewayd.api.app import MONEY, TICKET_ID, Api, Call, Route, obj, openapi_document
from gatewayd.api.server import Response
from gatewayd.errors import InvalidValue
from gatewayd.models import AuditEntry, DeviceEvent, PaymentMethod, Tenant, Ticket, TicketKind, TicketState

VERSION = {"type": "integer", "minimum": 1, "description": "the version you last read; 409 if it changed"}


async def status(api: Api, call: Call) -> dict[str, Any]:
    """No query and no system call (not even the hop to the database thread): the storage, the
    spool and the deadlines as the daemon last checked them, each with its ``checked_at``."""
    url = api.ledger.sessions.kw["bind"].url
    checked = api.checkup.view()
    return {
        "version": gatewayd.__version__,
        "site": api.site,
        "uptime_s": round(time.monotonic() - api.started, 1),
        "database": {"backend": url.get_backend_name(), "url": url.render_as_string(hide_password=True),
                     **checked["database"]},
        "devices": api.device_status(),
        "due": checked["due"],
        "spool": checked["spool"],
        "console": api.console.url if api.console else None,
    }


async def site(api: Api, call: Call) -> dict[str, Any]:
    return api.site


def openapi(api: Api, call: Call) -> dict[str, Any]:
    return openapi_document(api.routes)


def list_tenants(api: Api, call: Call) -> Response:
    return pages.page(api, call, lambda s: select(Tenant), tenants.view, Tenant.company, Tenant.id, ascending=True)


def save_tenant(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.save_tenant(call.caller, call.body)


def import_tenants(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.import_tenants(call.caller, call.body["csv"])


def open_ticket(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.open_ticket(call.caller, **call.body)


def list_tickets(api: Api, call: Call) -> Response:
    q = call.query

    def query(session: Session) -> Select[Any]:
        return tickets.listing(session, state=q.get("state"), kind=q.get("kind"), company=q.get("tenant"),
                               since=q.get("since"), until=q.get("until"))

    return pages.page(api, call, query, tickets.list_view, Ticket.id, batch=True)


def get_ticket(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.get_ticket(call.params["id"])


def _transition(action: str) -> Callable[[Api, Call], dict[str, Any]]:
    def handler(api: Api, call: Call) -> dict[str, Any]:
        return api.ledger.transition(call.caller, call.params["id"], action, **call.body)

    handler.__name__ = action
    return handler


def add_charge(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    now = api.ledger.clock()
    try:  # a negative price is refused there: a discount is its own line (POST .../discounts)
        line = billing.ManualLine(billing.Service.MANUAL, b["description"], b["quantity"], b.get("unit", "item"),
                                  b["unit_price"], now)
    except billing.BillingError as err:
        raise InvalidValue(f"{err}; a discount is a line of its own: POST /tickets/{call.params['id']}/discounts "
                           "(staff, with a reason)") from err
    amount = billing.rate_manual(api.services.money(now), line).amount
    return api.ledger.add_charge(
        call.caller, call.params["id"], description=line.description, quantity=line.quantity,
        unit=line.unit, unit_price=line.unit_price, amount=amount, manual=True,
    )


def add_discount(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.add_discount(call.caller, call.params["id"], **call.body)


def refund(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.refund(call.caller, call.params["id"], method=call.body.get("method", "cash"),
                             amount=call.body["amount"], reason=call.body["reason"])


def add_payment(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.add_payment(call.caller, call.params["id"], **call.body)


def post_event(api: Api, call: Call) -> Response:
    b = call.body
    event = event_ledger.EventIn(
        kind=b["kind"], device=b["device"], natural_key=b["natural_key"], occurred_at=b["occurred_at"],
        payload=b.get("payload", {}), ticket=b.get("ticket"),
    )
    view, created = api.ledger.record_event(call.caller, event, manual=True)
    return Response(201 if created else 200, json.dumps(view, ensure_ascii=False).encode())


def list_events(api: Api, call: Call) -> Response:
    filters = {k: v for k, v in call.query.items() if k not in pages.PAGE}
    return pages.page(api, call, lambda s: event_ledger.listing(s, **filters), event_ledger.view,
                      DeviceEvent.occurred_at, DeviceEvent.id)


def attach_event(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.attach_event(call.caller, int(call.params["id"]), call.body["ticket"])


def audit_trail(api: Api, call: Call) -> Response:
    listing = audit.listing(call.query.get("entity"), call.query.get("id"))
    return pages.page(api, call, lambda s: listing, audit.view, AuditEntry.id)


TRANSITION_BODY = obj(version=VERSION, reason={"type": "string", "maxLength": 500})

ROUTES: list[Route] = [
    Route("GET", "/status", "Daemon version, uptime, database and devices", status),
    Route("GET", "/site", "The site's name, country, time zone and currency", site),
    Route("GET", "/openapi.json", "This document", openapi),
    Route("GET", "/tenants", "The tenant roster, by company", list_tenants, query=pages.PAGE),
    Route(
        "POST", "/tenants", "Add or update a tenant (by company name)", save_tenant,
        body=obj(
            ["company"],
            company={"type": "string", "minLength": 1, "maxLength": 200},
            rooms={"type": "string", "maxLength": 200, "description": "comma-separated room numbers"},
            contact={"type": "string", "maxLength": 200},
            phone={"type": "string", "maxLength": 50},
            email={"type": "string", "maxLength": 200},
            fax_numbers={"type": "string", "maxLength": 200},
        ),
    ),
    Route(
        "POST", "/tenants/import", "Import the roster from CSV; rejected rows are reported", import_tenants,
        body=obj(["csv"], csv={"type": "string", "maxLength": 1_000_000}), staff_only=True,
    ),
    Route(
        "POST", "/tickets", "Open a ticket (service form)", open_ticket, status=201,
        body=obj(
            ["kind"],
            kind={"type": "string", "enum": [k.value for k in TicketKind]},
            company={"type": "string", "maxLength": 200, "description": "tenant company from the roster"},
            room={"type": "string", "maxLength": 50},
            guest_name={"type": "string", "maxLength": 200, "description": "walk-in guest"},
            guest_phone={"type": "string", "maxLength": 50},
            device={"type": "string", "maxLength": 100},
            params={"type": "object", "additionalProperties": True},
            quoted_total=MONEY,
            note={"type": "string", "maxLength": 2000},
        ),
    ),
    Route(
        "GET", "/tickets", "List tickets", list_tickets,
        query={
            "state": {"type": "string", "enum": [s.value for s in TicketState]},
            "kind": {"type": "string", "enum": [k.value for k in TicketKind]},
            "tenant": {"type": "string"},
            "since": {"type": "string", "format": "date-time"},
            "until": {"type": "string", "format": "date-time"},
            **pages.PAGE,
        },
    ),
    Route("GET", "/tickets/{id}", "One ticket with its charges, payments and receipts", get_ticket),
    Route("POST", "/tickets/{id}/start", "open → in_progress", _transition("start"), body=obj(version=VERSION)),
    Route("POST", "/tickets/{id}/finish", "in_progress → awaiting_customer", _transition("finish"),
          body=obj(version=VERSION)),
    Route(
        "POST", "/tickets/{id}/complete", "awaiting_customer → completed (customer signed)", _transition("complete"),
        body=obj(version=VERSION, signed_by={"type": "string", "maxLength": 200}),
    ),
    Route(
        "POST", "/tickets/{id}/settle", "completed/failed → settled: balance collected, formal receipt",
        _transition("settle"),
        body=obj(["method"], version=VERSION, method={"type": "string", "enum": [m.value for m in PaymentMethod]}),
    ),
    Route("POST", "/tickets/{id}/cancel", "→ cancelled, with a reason", _transition("cancel"), body=TRANSITION_BODY),
    Route("POST", "/tickets/{id}/fail", "fax_out → failed, with a reason", _transition("fail"), body=TRANSITION_BODY),
    Route(
        "POST", "/tickets/{id}/charges", "Add a manual charge line", add_charge, status=201,
        body=obj(
            ["description", "quantity", "unit_price"],
            description={"type": "string", "minLength": 1, "maxLength": 500},
            quantity={"type": "string", "format": "decimal", "minimum": 0},
            unit={"type": "string", "maxLength": 32},
            unit_price=MONEY,
        ),
    ),
    Route(
        "POST", "/tickets/{id}/discounts", "Give a discount: a line below zero with its reason (staff only)",
        add_discount, status=201, staff_only=True,
        body=obj(["amount", "reason"], amount={**MONEY, "minimum": "0.01"},
                 reason={"type": "string", "minLength": 1, "maxLength": 200}),
    ),
    Route(
        "POST", "/tickets/{id}/refunds", "Give money back: a negative payment with a refund receipt (staff only)",
        refund, status=201, staff_only=True,
        body=obj(["amount", "reason"], amount={**MONEY, "minimum": "0.01"},
                 method={"type": "string", "enum": [m.value for m in PaymentMethod], "description": "default cash"},
                 reason={"type": "string", "minLength": 1, "maxLength": 200}),
    ),
    Route(
        "POST", "/tickets/{id}/payments", "Take a payment before settlement (temporary receipt)", add_payment,
        status=201,
        body=obj(["amount", "method"], amount={**MONEY, "minimum": "0.01"},
                  method={"type": "string", "enum": [m.value for m in PaymentMethod]}),
    ),
    Route(
        "POST", "/events", "Record a device event by hand (marked manual in the audit trail)", post_event,
        staff_only=True,
        body=obj(
            ["kind", "device", "natural_key", "occurred_at"],
            kind={"type": "string", "enum": ["fax_call", "print_job", "meter_reading"]},
            device={"type": "string", "minLength": 1, "maxLength": 100},
            natural_key={"type": "string", "minLength": 1, "maxLength": 300},
            occurred_at={"type": "string", "format": "date-time"},
            payload={"type": "object", "additionalProperties": True},
            ticket=TICKET_ID,
        ),
    ),
    Route(
        "GET", "/events", "Device events, newest first", list_events,
        query={
            "unattributed": {"type": "boolean"},
            "kind": {"type": "string"},
            "device": {"type": "string"},
            "ticket": TICKET_ID,
            **pages.PAGE,
        },
    ),
    Route("POST", "/events/{id:int}/attach", "Put an unattributed event on a ticket", attach_event,
          body=obj(["ticket"], ticket=TICKET_ID)),
    Route(
        "GET", "/audit", "The audit trail, newest first", audit_trail,
        query={"entity": {"type": "string", "maxLength": 32}, "id": {"type": "string", "maxLength": 64}, **pages.PAGE},
    ),
]


