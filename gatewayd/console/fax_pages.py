"""The console's fax pages: send with previews and live progress, received faxes, the registers."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gatewayd.console.app import Desk, Refusal, page
from gatewayd.faxing.documents import page_pngs

ASSIGN_FIELDS = ["company", "room", "guest_name", "guest_phone"]


async def _documents(request: Request) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The send form: its fields, and its files as the API's documents (base64, as gatewayctl sends them)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrftoken"}
    documents = []
    for upload in form.getlist("documents"):
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read()
            documents.append({"filename": upload.filename, "content_base64": base64.b64encode(content).decode()})
    return fields, documents


async def _send_context(desk: Desk, who: Any, number: str) -> dict[str, Any]:
    ticket, status = await asyncio.gather(desk.call(who, "GET", f"/tickets/{number}"), desk.call(who, "GET", "/status"))
    modems = [m["name"] for d in status.get("devices", []) if d.get("kind") == "fax" for m in d.get("modems", [])]
    return {"ticket": ticket, "modems": modems, "modem_options": [(m, m) for m in modems]}


async def send_page(desk: Desk, request: Request) -> Response:
    who, number = request.scope["login"], request.path_params["id"]
    context = await _send_context(desk, who, number)
    values = {"number": (context["ticket"].get("params") or {}).get("number", "")}
    return desk.render(request, "fax_send.html", values=values, errors={}, **context)


async def preview(desk: Desk, request: Request) -> Response:
    """The pages the daemon would fax, shown before anything is sent (a fragment for the send page)."""
    _fields, documents = await _documents(request)
    if not documents:
        return desk.render(request, "_fax_preview.html", pages=[], error="")
    try:
        answer = await desk.call(request.scope["login"], "POST", "/fax/preview", {"documents": documents})
    except Refusal as err:
        return desk.render(request, "_fax_preview.html", status=err.status, pages=[], error=err.detail)
    return desk.render(request, "_fax_preview.html", pages=answer["png_base64"], error="")


async def send(desk: Desk, request: Request) -> Response:
    who, number = request.scope["login"], request.path_params["id"]
    fields, documents = await _documents(request)
    body = {"number": fields.get("number", ""), "documents": documents}
    if fields.get("modem"):
        body["modem"] = fields["modem"]
    try:
        if not documents:
            raise Refusal(422, "documents: choose at least one file to fax")
        await desk.call(who, "POST", f"/tickets/{number}/fax", body)
    except Refusal as err:
        field = "number" if "number" in err.detail or "cannot fax" in err.detail else "documents"
        context = await _send_context(desk, who, number)
        return desk.render(request, "fax_send.html", status=err.status, values=fields, errors={field: err.detail},
                           **context)
    return RedirectResponse(f"/tickets/{number}", status_code=303)


# -- received faxes ---------------------------------------------------------------------------

async def incoming_list(desk: Desk, request: Request) -> Response:
    who = request.scope["login"]
    state, day = request.query_params.get("state", ""), request.query_params.get("date", "")
    try:
        entries = await desk.call(who, "GET", "/fax/incoming", query={"state": state, "date": day})
    except Refusal as err:
        entries, error = [], err.detail
    else:
        error = ""
    tenants = await desk.call(who, "GET", "/tenants")
    return desk.render(request, "fax_incoming.html", entries=entries, tenants=tenants, state=state, day=day,
                       error=error)


async def incoming_one(desk: Desk, request: Request, status: int = 200, **context: Any) -> Response:
    who, entry_id = request.scope["login"], request.path_params["id"]
    entry, tenants = await asyncio.gather(desk.call(who, "GET", f"/fax/incoming/{entry_id}"),
                                          desk.call(who, "GET", "/tenants"))
    context.setdefault("values", {"customer": "tenant"})
    context.setdefault("errors", {})
    return desk.render(request, "fax_received.html", status=status, entry=entry, tenants=tenants, **context)


async def assign(desk: Desk, request: Request) -> Response:
    who, entry_id = request.scope["login"], request.path_params["id"]
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrftoken"}
    if form.get("customer") == "guest":
        body = {"guest_name": form.get("guest_name"), "guest_phone": form.get("guest_phone")}
    else:
        body = {"company": form.get("company"), "room": form.get("room")}
    try:
        await desk.call(who, "POST", f"/fax/incoming/{entry_id}/assign", {k: v for k, v in body.items() if v})
    except Refusal as err:
        field = next((f for f in ASSIGN_FIELDS if f in err.detail), "")
        return await incoming_one(desk, request, err.status, values=form, errors={field: err.detail})
    return RedirectResponse(f"/fax/incoming/{entry_id}", status_code=303)


async def called(desk: Desk, request: Request) -> Response:
    who, entry_id = request.scope["login"], request.path_params["id"]
    try:
        await desk.call(who, "POST", f"/fax/incoming/{entry_id}/called", {})
    except Refusal as err:
        return await incoming_one(desk, request, err.status, errors={"called": err.detail})
    back = str((await request.form()).get("next", ""))
    return RedirectResponse(back if back in ("/", "/fax/incoming") else f"/fax/incoming/{entry_id}", status_code=303)


async def page_image(desk: Desk, request: Request) -> Response:
    """One received page as PNG, converted from the stored TIFF the API hands out."""
    who, entry_id = request.scope["login"], request.path_params["id"]
    index = int(request.path_params["page"]) - 1
    width = 300 if request.query_params.get("size") == "thumb" else 1200
    document = await desk.call(who, "GET", f"/fax/incoming/{entry_id}/document")
    pngs = await asyncio.to_thread(page_pngs, document.body, width, index) if index >= 0 else []
    if not pngs:
        return desk.render(request, "error.html", status=404, detail=f"received fax {entry_id} has no page {index + 1}")
    return Response(pngs[0], media_type="image/png", headers={"cache-control": "private, max-age=3600"})


# -- notify-me requests ------------------------------------------------------------------------

NOTIFY_FIELDS = ["guest_name", "phone", "company", "sender", "note"]


async def notify_requests(desk: Desk, request: Request, status: int = 200, **context: Any) -> Response:
    """A guest's "tell me when a fax for me arrives" (POST/GET /fax/notify-requests): the open ones and a form."""
    who = request.scope["login"]
    state = request.query_params.get("state", "open")
    rows, tenants = await asyncio.gather(desk.call(who, "GET", "/fax/notify-requests", query={"state": state}),
                                         desk.call(who, "GET", "/tenants"))
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return desk.render(request, "fax_notify.html", status=status, rows=rows, tenants=tenants, state=state, **context)


async def add_notify_request(desk: Desk, request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if k in NOTIFY_FIELDS}
    try:
        await desk.call(request.scope["login"], "POST", "/fax/notify-requests", {k: v for k, v in form.items() if v})
    except Refusal as err:
        field = next((f for f in NOTIFY_FIELDS if f in err.detail), "guest_name")
        return await notify_requests(desk, request, err.status, values=form, errors={field: err.detail})
    return RedirectResponse("/fax/notify-requests", status_code=303)


async def cancel_notify_request(desk: Desk, request: Request) -> Response:
    """The guest no longer wants to be told (POST /fax/notify-requests/{id}/cancel); a refusal shows on the list."""
    request_id = request.path_params["id"]
    try:
        await desk.call(request.scope["login"], "POST", f"/fax/notify-requests/{request_id}/cancel", {})
    except Refusal as err:
        return await notify_requests(desk, request, err.status, errors={"cancel": err.detail})
    return RedirectResponse("/fax/notify-requests", status_code=303)


# -- registers --------------------------------------------------------------------------------

async def register(desk: Desk, request: Request) -> Response:
    which = request.path_params["which"]
    if which not in ("out", "in"):
        return desk.render(request, "error.html", status=404, detail=f"no fax register {which!r} (out or in)")
    day = request.query_params.get("date") or datetime.now(desk.formats.zone).date().isoformat()
    rows = await desk.call(request.scope["login"], "GET", f"/fax/register/{which}", query={"date": day})
    return desk.render(request, "fax_register.html", which=which, day=day, rows=rows)


ROUTES = [
    Route("/tickets/{id}/fax", page(send_page)),
    Route("/tickets/{id}/fax/preview", page(preview), methods=["POST"]),
    Route("/tickets/{id}/fax/send", page(send), methods=["POST"]),
    Route("/fax/incoming", page(incoming_list)),
    Route("/fax/incoming/{id:int}", page(incoming_one)),
    Route("/fax/incoming/{id:int}/assign", page(assign), methods=["POST"]),
    Route("/fax/incoming/{id:int}/called", page(called), methods=["POST"]),
    Route("/fax/incoming/{id:int}/pages/{page:int}.png", page(page_image)),
    Route("/fax/notify-requests", page(notify_requests)),
    Route("/fax/notify-requests", page(add_notify_request), methods=["POST"]),
    Route("/fax/notify-requests/{id:int}/cancel", page(cancel_notify_request), methods=["POST"]),
    Route("/fax/register/{which}", page(register)),
]
