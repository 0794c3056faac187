"""The staff API: every route, its schema and its handler in one table (``ROUTES``).

The OpenAPI document is generated from the same table, so what is documented is what is checked.
Handlers are plain blocking functions run on the daemon's single database thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import structlog

import gatewayd
from gatewayd import events as event_ledger
from gatewayd.api.schema import check_object, check_query
from gatewayd.api.server import Request, Response, problem
from gatewayd.audit import Caller
from gatewayd.errors import Forbidden, LedgerError, NotFound
from gatewayd.ledger import Ledger
from gatewayd.models import PaymentMethod, TicketKind, TicketState
from gatewayd.tickets import TRANSITIONS

log = structlog.get_logger("gatewayd.api")

TICKET_ID = {"type": "string", "pattern": r"T-\d{4}-\d{6}", "description": "a ticket id like T-2026-000123"}
MONEY = {"type": "string", "format": "decimal", "description": "decimal amount as a string, e.g. \"12.50\""}
VERSION = {"type": "integer", "minimum": 1, "description": "the version you last read; 409 if it changed"}


def _obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: who, which path parameters, typed query and body."""

    caller: Caller
    gid: int
    params: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    handler: Callable[[Api, Call], Any]
    body: dict[str, Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    staff_only: bool = False  # manual entries that bypass the devices

    @property
    def segments(self) -> list[str]:
        return self.path.strip("/").split("/")


class Api:
    def __init__(
        self,
        ledger: Ledger,
        executor: Executor,
        *,
        staff_group_gid: int | None = None,
        device_status: Callable[[], list[dict[str, Any]]] = list,
        site: dict[str, Any] | None = None,
    ):
        self.ledger = ledger
        self.site = site or {}
        self.executor = executor
        self.staff_group_gid = staff_group_gid
        self.device_status = device_status
        self.started = time.monotonic()

    def _is_staff(self, call: Call) -> bool:
        if call.caller.uid in (0, os.getuid()) or self.staff_group_gid is None:
            return True
        groups = os.getgrouplist(call.caller.user, call.gid) if not call.caller.user.startswith("uid:") else [call.gid]
        return self.staff_group_gid in groups

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        try:
            response = await self._dispatch(request)
        except LedgerError as err:
            response = problem(err.status, err.detail, err.title)
        except Exception:  # noqa: BLE001 - the request edge: a bug answers 500 and is logged, the daemon lives on
            log.exception("api.internal_error", method=request.method, path=request.target)
            response = problem(500, "internal error in gatewayd; the details are in its log")
        log.info(
            "api.request", method=request.method, path=request.target, status=response.status,
            user=request.caller.user, ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return response

    async def _dispatch(self, request: Request) -> Response:
        url = urlsplit(request.target)
        route, params = _find(request.method, url.path)
        query = check_query(dict(parse_qsl(url.query, keep_blank_values=True)), route.query)
        body: dict[str, Any] = {}
        if route.body is not None:
            try:
                decoded = json.loads(request.body or b"{}", parse_float=Decimal)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                return problem(400, f"the body is not valid JSON: {err}", "Malformed JSON")
            body = check_object(decoded, route.body)
        elif request.body:
            return problem(400, f"{request.method} {route.path} takes no body", "Unexpected body")
        call = Call(request.caller, request.gid, params, query, body)
        if route.staff_only and not self._is_staff(call):
            raise Forbidden(f"{request.method} {route.path} is for staff (members of the api.group group)")
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.executor, route.handler, self, call)
        if isinstance(result, Response):
            return result
        return Response(route.status, json.dumps(result, ensure_ascii=False, default=str).encode())


def _find(method: str, path: str) -> tuple[Route, dict[str, str]]:
    segments = path.strip("/").split("/")
    path_known = False
    for route in ROUTES:
        pattern = route.segments
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for want, got in zip(pattern, segments):
            if want.startswith("{"):
                params[want.strip("{}")] = got
            elif want != got:
                break
        else:
            path_known = True
            if route.method == method:
                return route, params
    if path_known:
        raise MethodNotAllowed(f"{method} is not allowed on {path}")
    raise NotFound(f"no such endpoint {path} (see /openapi.json)")


class MethodNotAllowed(LedgerError):
    status = 405
    title = "Method not allowed"


# -- handlers -----------------------------------------------------------------------------------


def status(api: Api, call: Call) -> dict[str, Any]:
    url = api.ledger.sessions.kw["bind"].url
    return {
        "version": gatewayd.__version__,
        "site": api.site,
        "uptime_s": round(time.monotonic() - api.started, 1),
        "database": {"backend": url.get_backend_name(), "url": url.render_as_string(hide_password=True)},
        "devices": api.device_status(),
    }


def openapi(api: Api, call: Call) -> dict[str, Any]:
    return openapi_document()


def list_tenants(api: Api, call: Call) -> list[dict[str, Any]]:
    return api.ledger.list_tenants()


def save_tenant(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.save_tenant(call.caller, call.body)


def import_tenants(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.import_tenants(call.caller, call.body["csv"])


def open_ticket(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.open_ticket(call.caller, **call.body)


def list_tickets(api: Api, call: Call) -> list[dict[str, Any]]:
    q = call.query
    return api.ledger.list_tickets(
        state=q.get("state"), kind=q.get("kind"), company=q.get("tenant"),
        since=q.get("since"), until=q.get("until"), limit=q.get("limit", 200),
    )


def get_ticket(api: Api, call: Call) -> dict[str, Any]:
    return api.ledger.get_ticket(call.params["id"])


def _transition(action: str) -> Callable[[Api, Call], dict[str, Any]]:
    def handler(api: Api, call: Call) -> dict[str, Any]:
        return api.ledger.transition(call.caller, call.params["id"], action, **call.body)

    handler.__name__ = action
    return handler


CENT = Decimal("0.01")


def add_charge(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    amount = (b["quantity"] * b["unit_price"]).quantize(CENT, ROUND_HALF_UP)
    return api.ledger.add_charge(
        call.caller, call.params["id"], description=b["description"], quantity=b["quantity"],
        unit=b.get("unit", "item"), unit_price=b["unit_price"], amount=amount, manual=True,
    )


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


def list_events(api: Api, call: Call) -> list[dict[str, Any]]:
    return api.ledger.list_events(**call.query)


def attach_event(api: Api, call: Call) -> dict[str, Any]:
    try:
        event_id = int(call.params["id"])
    except ValueError as err:
        raise NotFound(f"no device event {call.params['id']!r} (event ids are numbers)") from err
    return api.ledger.attach_event(call.caller, event_id, call.body["ticket"])


def audit_trail(api: Api, call: Call) -> list[dict[str, Any]]:
    return api.ledger.audit_trail(call.query.get("entity"), call.query.get("id"))


TRANSITION_BODY = _obj(version=VERSION, reason={"type": "string", "maxLength": 500})

ROUTES: list[Route] = [
    Route("GET", "/status", "Daemon version, uptime, database and devices", status),
    Route("GET", "/openapi.json", "This document", openapi),
    Route("GET", "/tenants", "The tenant roster", list_tenants),
    Route(
        "POST", "/tenants", "Add or update a tenant (by company name)", save_tenant,
        body=_obj(
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
        body=_obj(["csv"], csv={"type": "string", "maxLength": 1_000_000}), staff_only=True,
    ),
    Route(
        "POST", "/tickets", "Open a ticket (service form)", open_ticket, status=201,
        body=_obj(
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
            "limit": {"type": "integer", "minimum": 1, "maximum": 5000},
        },
    ),
    Route("GET", "/tickets/{id}", "One ticket with its charges, payments and receipts", get_ticket),
    Route("POST", "/tickets/{id}/start", "open → in_progress", _transition("start"), body=_obj(version=VERSION)),
    Route("POST", "/tickets/{id}/finish", "in_progress → awaiting_customer", _transition("finish"),
          body=_obj(version=VERSION)),
    Route(
        "POST", "/tickets/{id}/complete", "awaiting_customer → completed (customer signed)", _transition("complete"),
        body=_obj(version=VERSION, signed_by={"type": "string", "maxLength": 200}),
    ),
    Route(
        "POST", "/tickets/{id}/settle", "completed/failed → settled: balance collected, formal receipt",
        _transition("settle"),
        body=_obj(["method"], version=VERSION, method={"type": "string", "enum": [m.value for m in PaymentMethod]}),
    ),
    Route("POST", "/tickets/{id}/cancel", "→ cancelled, with a reason", _transition("cancel"), body=TRANSITION_BODY),
    Route("POST", "/tickets/{id}/fail", "fax_out → failed, with a reason", _transition("fail"), body=TRANSITION_BODY),
    Route(
        "POST", "/tickets/{id}/charges", "Add a manual charge line", add_charge, status=201,
        body=_obj(
            ["description", "quantity", "unit_price"],
            description={"type": "string", "minLength": 1, "maxLength": 500},
            quantity={"type": "string", "format": "decimal", "minimum": 0},
            unit={"type": "string", "maxLength": 32},
            unit_price=MONEY,
        ),
    ),
    Route(
        "POST", "/tickets/{id}/payments", "Take a payment before settlement (temporary receipt)", add_payment,
        status=201,
        body=_obj(["amount", "method"], amount={**MONEY, "minimum": "0.01"},
                  method={"type": "string", "enum": [m.value for m in PaymentMethod]}),
    ),
    Route(
        "POST", "/events", "Record a device event by hand (marked manual in the audit trail)", post_event,
        staff_only=True,
        body=_obj(
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
            "limit": {"type": "integer", "minimum": 1, "maximum": 5000},
        },
    ),
    Route("POST", "/events/{id}/attach", "Put an unattributed event on a ticket", attach_event,
          body=_obj(["ticket"], ticket=TICKET_ID)),
    Route(
        "GET", "/audit", "The audit trail, newest first", audit_trail,
        query={"entity": {"type": "string"}, "id": {"type": "string"}},
    ),
]


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    problem_ref = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for route in ROUTES:
        operation: dict[str, Any] = {
            "operationId": f"{route.method.lower()}_{route.handler.__name__}",
            "summary": route.summary,
            "responses": {
                str(route.status): {"description": "OK", "content": {"application/json": {}}},
                "default": {"description": "An error, as RFC 9457 problem details", **problem_ref},
            },
        }
        params = [{"name": p.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in route.segments if p.startswith("{")]
        params += [{"name": name, "in": "query", "schema": spec} for name, spec in route.query.items()]
        if params:
            operation["parameters"] = params
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "gatewayd staff API", "version": gatewayd.__version__},
        "paths": paths,
        "components": {
            "schemas": {
                "Problem": _obj(
                    ["status", "detail"], type={"type": "string"}, title={"type": "string"},
                    status={"type": "integer"}, detail={"type": "string"},
                )
            }
        },
    }
