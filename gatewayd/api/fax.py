"""Faxes: sending for a fax_out ticket, the job queue, received faxes and their registers.

Documents travel in the request as base64, not as paths, for the reason ``printing.py`` gives
(the daemon must not read files for a caller that could not). A number the site cannot dial is
refused before anything is rendered or queued, with billing's reason.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import Select
from sqlalchemy.orm import Session

from gatewayd import billing
from gatewayd.api import pages
from gatewayd.api.app import TICKET_ID, Api, Call, Route, obj
from gatewayd.api.schema import FILENAME
from gatewayd.api.server import Response
from gatewayd.desk.common import day_range
from gatewayd.errors import InvalidValue, NotFound
from gatewayd.faxing import documents, incoming, jobs
from gatewayd.models import FaxIncoming, FaxInState, FaxJob, FaxJobState, FaxNotifyRequest

ID = {"type": "string", "pattern": r"\d{1,12}", "description": "a number like 17"}
DATE = {"type": "string", "pattern": r"\d{4}-\d{2}-\d{2}", "description": "a local date like 2026-11-26"}


def _decode(doc: dict[str, Any]) -> bytes:
    try:
        content = base64.b64decode(doc["content_base64"], validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidValue(f"documents: {doc.get('filename', '?')} is not base64: {err}") from err
    if not content:
        raise InvalidValue(f"documents: {doc.get('filename', '?')} is empty")
    return content


async def send_fax(api: Api, call: Call) -> dict[str, Any]:
    from drivers.fax.driver import FaxJob

    number, b = call.params["id"], call.body
    fax = api.services.driver("fax")
    modem = b.get("modem") or fax.least_busy()
    if modem not in fax.modems:
        raise InvalidValue(f"modem must be one of {', '.join(fax.modems)}, got {modem!r}")
    site = api.services.site
    try:
        destination = billing.resolve(site, b["number"])
    except billing.UndiallableNumber as err:
        raise InvalidValue(f"cannot fax {b['number']!r}: {err.reason}") from err
    await api.db(_check_ticket, api, number)
    files = [(doc.get("filename", f"document-{i}"), _decode(doc)) for i, doc in enumerate(b["documents"], 1)]
    tiff = api.services.config.spool_dir / "fax" / "out" / f"{uuid.uuid4().hex}.tif"
    pages = await asyncio.to_thread(documents.render_job, files, tiff, api.services.config.limits)
    fields = {"modem": modem, "number": b["number"], "dial": destination.dial_string(site),
              "e164": destination.e164, "region": destination.region or "",
              "documents": ", ".join(name for name, _ in files), "spool": str(tiff), "pages": pages}
    view = await api.db(_create, api, call, number, fields)
    fax.submit(FaxJob(job_id=str(view["id"]), modem=modem, dial=fields["dial"], document=tiff,
                      pages=tuple(range(1, pages + 1))))
    return view


PREVIEW_WIDTH = 600  # pixels: a page thumbnail readable on the counter's screen


async def preview_fax(api: Api, call: Call) -> dict[str, Any]:
    """The pages a send would fax, rendered the same way (caged, within the limits), as PNGs."""
    files = [(doc.get("filename", f"document-{i}"), _decode(doc)) for i, doc in enumerate(call.body["documents"], 1)]
    return await asyncio.to_thread(_preview, files, api.services.config.limits)


def _preview(files: list[tuple[str, bytes]], limits: Any) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gatewayd-preview-") as place:
        tiff = Path(place) / "pages.tif"
        pages = documents.render_job(files, tiff, limits)
        images = documents.page_pngs(tiff, PREVIEW_WIDTH)
    return {"pages": pages, "png_base64": [base64.b64encode(png).decode() for png in images]}


def _check_ticket(api: Api, number: str) -> None:
    with api.ledger.transaction() as s:
        jobs.fax_ticket(s, number)


def _create(api: Api, call: Call, number: str, fields: dict[str, Any]) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return jobs.view(jobs.create(s, call.caller, api.ledger.clock(), number, **fields))


def list_jobs(api: Api, call: Call) -> Response:
    return pages.page(api, call, lambda s: jobs.listing(s, ticket=call.query.get("ticket"),
                                                        state=call.query.get("state")), jobs.view, FaxJob.id)


def get_job(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return jobs.view(jobs.find(s, call.params["id"]))


async def cancel_job(api: Api, call: Call) -> dict[str, Any]:
    """The row is cancelled first (it is the truth: a call the driver starts now is ignored),
    then the driver drops the job from its queue or cuts its call short."""
    view = await api.db(_cancel, api, call)  # refused (409) with the job's state if it is over
    fax = api.services.drivers.get("fax")
    outcome = fax.cancel(call.params["id"]) if fax is not None else "unknown"
    # "aborting": the call is being cut short; its record still comes and is billed.
    return {**view, "cancelling": outcome == "aborting"}


def _cancel(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        job = jobs.find(s, call.params["id"], lock=True)
        jobs.cancel(s, call.caller, api.ledger.clock(), job, call.body.get("reason") or "cancelled by staff")
        return jobs.view(job)


def _day(api: Api, text: str | None) -> tuple[datetime | None, datetime | None]:
    return day_range(text, api.ledger.timezone)


def _incoming(api: Api, call: Call) -> Callable[[Session], Select[Any]]:
    since, until = _day(api, call.query.get("date"))
    return lambda s: incoming.listing(s, state=call.query.get("state"), since=since, until=until)


def list_incoming(api: Api, call: Call) -> Response:
    return pages.page(api, call, _incoming(api, call), incoming.view, FaxIncoming.received_at, FaxIncoming.id)


def get_incoming(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return incoming.view(incoming.find(s, call.params["id"]))


def incoming_document(api: Api, call: Call) -> Response:
    """The received pages: the TIFF Class F file, or its page-1 PNG preview (``?preview=true``)."""
    with api.ledger.transaction() as s:
        entry = incoming.find(s, call.params["id"])
    if not entry.document_path:
        raise NotFound(f"received fax {entry.id} has no stored pages (the call ended before any page, or they "
                       f"were deleted after [fax] keep_days: see its audit trail)")
    path = Path(entry.document_path)
    if call.query.get("preview"):
        path = path.with_suffix(".png")
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise NotFound(f"the pages of received fax {entry.id} are gone from the spool ({path})") from err
    kind = "image/png" if path.suffix == ".png" else "image/tiff"
    return Response(200, data, kind, [("content-disposition", f'inline; filename="fax-{entry.id}{path.suffix}"')])


def assign_incoming(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        entry = incoming.find(s, call.params["id"], lock=True)
        incoming.assign(s, api.ledger.context(call.caller, manual=True), entry, api.ledger.kinds,
                        company=b.get("company"), room=b.get("room", ""), guest_name=b.get("guest_name", ""),
                        guest_phone=b.get("guest_phone", ""))
        return incoming.view(entry)


def called_incoming(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        entry = incoming.find(s, call.params["id"], lock=True)
        incoming.mark_called(s, call.caller, api.ledger.clock(), entry)
        return incoming.view(entry)


def to_call(api: Api, call: Call) -> Response:
    return pages.page(api, call, incoming.to_call, incoming.to_call_views, FaxIncoming.received_at, FaxIncoming.id,
                      ascending=True, batch=True)


def add_request(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        return incoming.request_view(incoming.add_request(
            s, call.caller, api.ledger.clock(), guest_name=b["guest_name"], phone=b["phone"],
            company=b.get("company"), sender=b.get("sender", ""), note=b.get("note", "")))


def list_requests(api: Api, call: Call) -> Response:
    return pages.page(api, call, lambda s: incoming.requests(call.query.get("state")), incoming.request_view,
                      FaxNotifyRequest.id)


def cancel_request(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        request = incoming.find_request(s, call.params["id"], lock=True)
        return incoming.request_view(incoming.cancel_request(s, call.caller, api.ledger.clock(), request,
                                                             call.body.get("reason", "")))


def register_out(api: Api, call: Call) -> Response:
    since, until = _day(api, call.query.get("date"))
    return pages.page(api, call, lambda s: jobs.listing(s, since=since, until=until),
                      lambda s, rows: jobs.register(s, [job for job, *_ in rows]), FaxJob.id, ascending=True, batch=True)


def register_in(api: Api, call: Call) -> Response:
    return pages.page(api, call, _incoming(api, call), incoming.view, FaxIncoming.received_at, FaxIncoming.id,
                      ascending=True)


DOCUMENTS = {"type": "array", "minItems": 1, "items": obj(
    ["content_base64"], filename=FILENAME,
    content_base64={"type": "string", "minLength": 1, "maxLength": 1 << 30,
                    "description": "PDF, PostScript, TIFF, PNG, JPEG or UTF-8 text, base64"})}

ROUTES: list[Route] = [
    Route("POST", "/tickets/{id}/fax", "Send documents by fax for a fax_out ticket (queued; 202)", send_fax,
          status=202, body=obj(
              ["number", "documents"],
              number={"type": "string", "minLength": 1, "maxLength": 64,
                      "description": "as staff dial it, e.g. 9,0085221234567 or +852 2123 4567"},
              documents=DOCUMENTS,
              modem={"type": "string", "maxLength": 100, "description": "default: the least busy modem"})),
    Route("POST", "/fax/preview", "The pages documents would be faxed as (rendered like a send), PNG each",
          preview_fax, body=obj(["documents"], documents=DOCUMENTS)),
    Route("GET", "/fax/jobs", "Outgoing fax jobs, newest first", list_jobs,
          query={"ticket": TICKET_ID, "state": {"type": "string", "enum": [s.value for s in FaxJobState]},
                 **pages.PAGE}),
    Route("GET", "/fax/jobs/{id:int}", "One fax job: state, tries, next try, reason", get_job),
    Route("POST", "/fax/jobs/{id:int}/cancel", "Cancel a queued, waiting or sending job", cancel_job,
          body=obj(reason={"type": "string", "maxLength": 500})),
    Route("GET", "/fax/incoming", "Received faxes (the incoming register)", list_incoming,
          query={"state": {"type": "string", "enum": [s.value for s in FaxInState]}, "date": DATE, **pages.PAGE}),
    Route("GET", "/fax/incoming/{id:int}", "One received fax", get_incoming),
    Route("GET", "/fax/incoming/{id:int}/document", "A received fax's pages (TIFF Class F; PNG preview of "
          "page 1 with preview=true)", incoming_document, query={"preview": {"type": "boolean"}}),
    Route("POST", "/fax/incoming/{id:int}/assign", "Say whose a received fax is: opens its pickup ticket, billed per page",
          assign_incoming, body=obj(company={"type": "string", "maxLength": 200}, room={"type": "string", "maxLength": 50},
                                    guest_name={"type": "string", "maxLength": 200},
                                    guest_phone={"type": "string", "maxLength": 50})),
    Route("POST", "/fax/incoming/{id:int}/called", "Staff phoned the recipient: off the to-call list", called_incoming,
          body=obj()),
    Route("GET", "/fax/to-call", "Whom to phone about received faxes, oldest first", to_call, query=pages.PAGE),
    Route("POST", "/fax/notify-requests", "A guest asks to be told when a fax for them arrives", add_request,
          status=201, body=obj(["guest_name", "phone"], guest_name={"type": "string", "minLength": 1, "maxLength": 200},
                               phone={"type": "string", "minLength": 1, "maxLength": 50},
                               company={"type": "string", "maxLength": 200},
                               sender={"type": "string", "maxLength": 64, "description": "sender's fax number or id"},
                               note={"type": "string", "maxLength": 500})),
    Route("GET", "/fax/notify-requests", "Notify-me requests", list_requests,
          query={"state": {"type": "string", "enum": ["open", "matched", "cancelled"]}, **pages.PAGE}),
    Route("POST", "/fax/notify-requests/{id:int}/cancel", "The guest no longer wants to be told (409 once a fax "
          "answered it or it is cancelled)", cancel_request, body=obj(reason={"type": "string", "maxLength": 500})),
    Route("GET", "/fax/register/out", "The outgoing fax register (发报记录本) for a day", register_out,
          query={"date": DATE, **pages.PAGE}),
    Route("GET", "/fax/register/in", "The incoming fax register (进报记录本) for a day", register_in,
          query={"date": DATE, **pages.PAGE}),
]
