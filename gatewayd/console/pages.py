"""The console's pages: each a bookmarkable URL, each reading and writing through the staff API."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gatewayd.console import explain, i18n
from gatewayd.console.app import Desk, Refusal, page
from gatewayd.console.logins import LinkRefused
from gatewayd.models import TicketKind

ACTIVE_STATES = ["open", "in_progress", "awaiting_meter", "awaiting_customer", "completed", "failed"]
IN_FLIGHT = ["queued", "sending", "retry_wait"]
OVERDUE_AFTER = timedelta(hours=24)  # a ticket still not settled a day after it was opened
TICKET_FIELDS = ["kind", "company", "room", "guest_name", "guest_phone", "device", "note", "number", "media",
                 "sides", "sets", "duplex", "colour", "scale_percent", "pages", "fee", "description"]


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _field_of(detail: str, fields: list[str]) -> str:
    """The form field an API refusal names ("guest_phone is longer than..."), else "" (shown on top)."""
    words = detail.replace(".", " ").replace(",", " ").split()
    for word in words:
        if word in fields:
            return word
    return ""


# -- login, logout, language -------------------------------------------------------------------

async def login(desk: Desk, request: Request) -> Response:
    try:
        who = desk.console.links.redeem(request.path_params["token"])
    except LinkRefused as err:
        return desk.render(request, "login.html", status=403, error=err.detail)
    request.session.clear()
    request.session.update({"user": who.caller.user, "uid": who.caller.uid, "gid": who.gid})
    desk.remember_language(who.caller.user, desk.language(request, who))
    return _redirect("/")


async def logout(desk: Desk, request: Request) -> Response:
    request.session.clear()
    request.scope["login"] = None
    return desk.render(request, "login.html", logged_out=True)


async def language(desk: Desk, request: Request) -> Response:
    form = await request.form()
    chosen = str(form.get("language", ""))
    back = str(form.get("next", "/"))
    if chosen in i18n.LANGUAGES:
        desk.remember_language(request.scope["login"].caller.user, chosen)
    return _redirect(back if back.startswith("/") and not back.startswith("//") else "/")


# -- Today --------------------------------------------------------------------------------------

async def _today(desk: Desk, request: Request) -> dict[str, Any]:
    who = request.scope["login"]

    async def quiet(path: str, **query: Any) -> Any:
        try:
            return await desk.call(who, "GET", path, query=query)
        except Refusal:  # a part the site does not have (no copiers configured...) is simply empty
            return []

    by_state = await asyncio.gather(*(quiet("/tickets", state=s, limit=500) for s in ACTIVE_STATES))
    jobs = await asyncio.gather(*(quiet("/fax/jobs", state=s) for s in IN_FLIGHT))
    to_call, pending, status, copiers, due, mail_to_call = await asyncio.gather(
        quiet("/fax/to-call"), quiet("/fax/incoming", state="pending"), quiet("/status"), quiet("/devices"),
        quiet("/due"), quiet("/mail/to-call"))
    now = datetime.now(timezone.utc)
    tickets = {state: rows for state, rows in zip(ACTIVE_STATES, by_state)}
    overdue = [t for rows in by_state for t in rows
               if now - datetime.fromisoformat(t["created_at"]) > OVERDUE_AFTER]
    fax = desk.api.services.config.sections.get("fax") if desk.api.services else None
    keep_days = getattr(fax, "archive_after_days", 3)
    for entry in pending:
        entry["archive_at"] = (datetime.fromisoformat(entry["received_at"]) + timedelta(days=keep_days)).isoformat()
    return {
        "tickets": tickets, "states": ACTIVE_STATES, "overdue": {t["id"] for t in overdue},
        "jobs": [j for group in jobs for j in group], "to_call": to_call, "pending": pending,
        "devices": status.get("devices", []) if isinstance(status, dict) else [], "copiers": copiers,
        "due": due.get("items", []) if isinstance(due, dict) else [], "mail_to_call": mail_to_call,
    }


async def today(desk: Desk, request: Request) -> Response:
    return desk.render(request, "today.html", **await _today(desk, request))


async def today_live(desk: Desk, request: Request) -> Response:
    return desk.render(request, "_today.html", **await _today(desk, request))


# -- the service form -------------------------------------------------------------------------

def _ticket_body(form: dict[str, str]) -> dict[str, Any]:
    """The service form as the API's POST /tickets body: customer, device, the kind's parameters."""
    kind = form.get("kind", "")
    body: dict[str, Any] = {"kind": kind}
    if form.get("customer") == "guest":
        body.update(guest_name=form.get("guest_name"), guest_phone=form.get("guest_phone"))
    else:
        body.update(company=form.get("company"), room=form.get("room"))
    body.update(device=form.get("device"), note=form.get("note"))
    params: dict[str, Any] = {}
    if kind == "fax_out" and form.get("number"):
        params["number"] = form["number"]
    if kind == "copy":
        params.update(media=form.get("media") or "A4", sets=form.get("sets") or "1",
                      duplex="yes" if form.get("duplex") else "no", colour=form.get("colour") or "mono")
        if form.get("scale_percent"):
            params["scale_percent"] = form["scale_percent"]
    if kind == "print" and form.get("service") == "typing":
        params["service"] = "typing"
    if params:
        body["params"] = params
    if form.get("quoted_total"):
        body["quoted_total"] = form["quoted_total"]
    return {k: v for k, v in body.items() if v not in (None, "")}


async def new_ticket(desk: Desk, request: Request) -> Response:
    who = request.scope["login"]
    values: dict[str, str] = {"customer": "tenant", "kind": request.query_params.get("kind", "fax_out")}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: str(v) for k, v in (await request.form()).items() if k != "csrftoken"}
        try:
            ticket = await desk.call(who, "POST", "/tickets", _ticket_body(values))
            priced = _quote_body(values) if values.get("kind") == "errand" else None
            if priced:  # an errand's fee is known now: its lines come from the price list at once
                await desk.call(who, "POST", f"/tickets/{ticket['id']}/priced", priced)
            return _redirect(f"/tickets/{ticket['id']}")
        except Refusal as err:
            errors[_field_of(err.detail, TICKET_FIELDS + ["params"])] = err.detail
            status = err.status
    tenants, devices = await asyncio.gather(desk.call(who, "GET", "/tenants"), desk.call(who, "GET", "/status"))
    return desk.render(request, "ticket_new.html", status=status, values=values, errors=errors, tenants=tenants,
                       kinds=[k.value for k in TicketKind],
                       device_options=[(name, name) for name in _device_names(desk, devices)])


def _device_names(desk: Desk, status: dict[str, Any]) -> list[str]:
    """What a ticket's device may name: the copiers and modems the drivers report, the print queues' devices."""
    names = {part.get("name") for d in status.get("devices", []) for part in [*d.get("devices", []), *d.get("modems", [])]}
    cups = desk.api.services.config.sections.get("cups") if desk.api.services else None
    names.update(q.device for q in getattr(cups, "queues", ()))
    return sorted(n for n in names if n)


def _quote_body(form: dict[str, Any]) -> dict[str, Any] | None:
    """What the service form says so far, as a POST /quotes body; None when there is nothing to price."""
    kind = form.get("kind")
    if kind == "fax_out" and form.get("number"):
        return {"service": "fax_out", "number": form["number"], "minutes": "3", "pages": 1}
    if kind == "copy" and form.get("sides"):
        body = {"service": "copy", "media": form.get("media") or "A4", "sides": int(form["sides"]),
                "sets": int(form.get("sets") or 1), "duplex": bool(form.get("duplex")),
                "colour": form.get("colour") or "mono"}
        if form.get("scale_percent"):
            body["scale_percent"] = int(form["scale_percent"])
        return body
    if kind == "print" and form.get("sides"):
        return {"service": "print", "media": form.get("media") or "A4", "sides": int(form["sides"]),
                "duplex": bool(form.get("duplex")), "colour": form.get("colour") or "mono"}
    if kind == "errand" and form.get("fee"):
        return {"service": "errand", "fee": form["fee"], "description": form.get("description") or "errand"}
    return None


async def quote(desk: Desk, request: Request) -> Response:
    """The live price on the service form: the API's POST /quotes, or its reason for refusing."""
    try:
        form = await request.json()
        body = _quote_body(form if isinstance(form, dict) else {})
    except ValueError as err:
        return JSONResponse({"error": f"not a number: {err}", "field": "sides"}, 422)
    if body is None:
        return JSONResponse({})
    try:
        rating = await desk.call(request.scope["login"], "POST", "/quotes", body)
    except Refusal as err:
        field = "number" if body["service"] == "fax_out" else _field_of(err.detail, TICKET_FIELDS)
        return JSONResponse({"error": err.detail, "field": field}, err.status)
    total = desk.formats.money(rating.get("total"))
    if body["service"] == "fax_out":
        total = i18n.gettext("%(money)s for a %(minutes)s-minute call") % {"money": total, "minutes": body["minutes"]}
    return JSONResponse({"total": rating.get("total"), "total_text": total, "explain": explain.rating(rating, desk.formats)})


# -- a ticket ---------------------------------------------------------------------------------

ACTIONS = {
    # form action -> (API path under the ticket, the form fields it takes)
    "start": ("start", ["version"]),
    "finish": ("finish", ["version"]),
    "complete": ("complete", ["version", "signed_by"]),
    "settle": ("settle", ["version", "method"]),
    "cancel": ("cancel", ["version", "reason"]),
    "pay": ("payments", ["amount", "method"]),
    "charge": ("charges", ["description", "quantity", "unit_price", "unit"]),
    "customer_count": ("customer-count", ["sides"]),
}


async def _ticket_context(desk: Desk, who: Any, number: str) -> dict[str, Any]:
    ticket, audit = await asyncio.gather(desk.call(who, "GET", f"/tickets/{number}"),
                                         desk.call(who, "GET", "/audit", query={"entity": "ticket", "id": number}))
    extra: dict[str, Any] = {}
    if ticket["kind"] == "copy":
        try:
            extra["meter"] = await desk.call(who, "GET", f"/tickets/{number}/meter")
        except Refusal:
            extra["meter"] = None
    if ticket["kind"] == "fax_out":
        extra["fax_jobs"] = await desk.call(who, "GET", "/fax/jobs", query={"ticket": number})
    return {"ticket": ticket, "audit": audit, **extra}


async def ticket_page(desk: Desk, request: Request) -> Response:
    context = await _ticket_context(desk, request.scope["login"], request.path_params["id"])
    return desk.render(request, "ticket.html", errors={}, values={}, **context)


async def ticket_live(desk: Desk, request: Request) -> Response:
    context = await _ticket_context(desk, request.scope["login"], request.path_params["id"])
    return desk.render(request, "_ticket_live.html", **context)


async def ticket_action(desk: Desk, request: Request) -> Response:
    who = request.scope["login"]
    number, action = request.path_params["id"], request.path_params["action"]
    if action not in ACTIONS:
        return desk.render(request, "error.html", status=404, detail=f"no ticket action {action!r}")
    path, fields = ACTIONS[action]
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrftoken"}
    body: dict[str, Any] = {k: form[k] for k in fields if form.get(k)}
    for integer in ("version", "sides"):
        if integer in body:
            body[integer] = int(body[integer]) if body[integer].isdigit() else body[integer]
    try:
        await desk.call(who, "POST", f"/tickets/{number}/{path}", body)
    except Refusal as err:
        context = await _ticket_context(desk, who, number)
        return desk.render(request, "ticket.html", status=err.status, errors={action: err.detail},
                           values={action: form}, **context)
    return _redirect(f"/tickets/{number}")


PRINT_FIELDS = ["purpose", "copies", "sides", "media", "colour", "pages"]


async def print_document(desk: Desk, request: Request) -> Response:
    """A proof or a final for a print ticket: the file goes to the API as gatewayctl print sends it."""
    who, number = request.scope["login"], request.path_params["id"]
    form = await request.form()
    upload = form.get("document")
    values = {k: str(form.get(k, "")) for k in PRINT_FIELDS}
    body: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "copies" in body:
        body["copies"] = int(body["copies"]) if body["copies"].isdigit() else body["copies"]
    try:
        if isinstance(upload, str) or upload is None or not upload.filename:
            raise Refusal(422, "document: choose the file to print")
        body.update(filename=upload.filename, document_base64=base64.b64encode(await upload.read()).decode())
        await desk.call(who, "POST", f"/tickets/{number}/print", body)
    except Refusal as err:
        context = await _ticket_context(desk, who, number)
        return desk.render(request, "ticket.html", status=err.status, errors={"print": err.detail},
                           values={"print": values}, **context)
    return _redirect(f"/tickets/{number}")


async def receipt_pdf(desk: Desk, request: Request) -> Response:
    answer = await desk.call(request.scope["login"], "GET", f"/receipts/{request.path_params['number']}/pdf")
    return Response(answer.body, media_type="application/pdf", headers=dict(answer.headers))


# -- tenants ----------------------------------------------------------------------------------

TENANT_FIELDS = ["company", "rooms", "contact", "phone", "email", "fax_numbers"]


async def tenants_page(desk: Desk, request: Request, status: int = 200, **context: Any) -> Response:
    roster = await desk.call(request.scope["login"], "GET", "/tenants")
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return desk.render(request, "tenants.html", status=status, tenants=roster, fields=TENANT_FIELDS, **context)


async def save_tenant(desk: Desk, request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k in TENANT_FIELDS}
    try:
        await desk.call(request.scope["login"], "POST", "/tenants", {k: v for k, v in form.items() if v})
    except Refusal as err:
        return await tenants_page(desk, request, err.status, values=form,
                                  errors={_field_of(err.detail, TENANT_FIELDS): err.detail})
    return _redirect("/tenants")


async def import_tenants(desk: Desk, request: Request) -> Response:
    form = await request.form()
    upload = form.get("csv_file")
    text = str(form.get("csv", ""))
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return await tenants_page(desk, request, 422, errors={"csv": i18n.gettext(
                "The file is not UTF-8 text: save the roster as CSV (UTF-8) and try again.")})
    try:
        result = await desk.call(request.scope["login"], "POST", "/tenants/import", {"csv": text})
    except Refusal as err:
        return await tenants_page(desk, request, err.status, values={"csv": text}, errors={"csv": err.detail})
    return await tenants_page(desk, request, imported=result)


ROUTES = [
    Route("/login/{token}", page(login, public=True)),
    Route("/logout", page(logout), methods=["POST"]),
    Route("/language", page(language), methods=["POST"]),
    Route("/", page(today)),
    Route("/today/live", page(today_live)),
    Route("/tickets/new", page(new_ticket), methods=["GET", "POST"]),
    Route("/quote", page(quote), methods=["POST"]),
    Route("/tickets/{id}", page(ticket_page)),
    Route("/tickets/{id}/live", page(ticket_live)),
    Route("/tickets/{id}/do/{action}", page(ticket_action), methods=["POST"]),
    Route("/tickets/{id}/print", page(print_document), methods=["POST"]),
    Route("/receipts/{number}.pdf", page(receipt_pdf)),
    Route("/tenants", page(tenants_page)),
    Route("/tenants/save", page(save_tenant), methods=["POST"]),
    Route("/tenants/import", page(import_tenants), methods=["POST"]),
]
