"""Printing a document for a ticket: ``POST /tickets/{id}/print``.

The document travels in the request as base64, not as a path: the daemon runs as its own user
and can read files (its database, say) that the staff member asking must not print, while the
bytes a client sends are only what that client could read. Documents are limited by
``api.max_body_bytes`` (1 MiB by default, ~750 KB of PDF; raise it for scans).

The job is marked with the ticket (``drivers.cups.submit``); it comes back through the CUPS
watcher when it finishes and is matched and billed like any other job (``gatewayd.printing``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import tempfile
from pathlib import Path
from typing import Any

import structlog

from gatewayd import printing
from gatewayd.api.app import Api, Call, Route, obj
from gatewayd.api.schema import FILENAME
from gatewayd.errors import InvalidValue, LedgerError

log = structlog.get_logger("gatewayd.api.printing")

_RANGES = re.compile(r"\d+(-\d+)?(,\d+(-\d+)?)*")


class PrinterUnavailable(LedgerError):
    status = 503
    title = "Printer unavailable"


class PrinterRefused(LedgerError):
    status = 502
    title = "Printer refused the job"


def page_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``"1-3,5"`` -> ``((1, 3), (5, 5))``; submit checks each is 1 <= first <= last."""
    if not _RANGES.fullmatch(text):
        raise InvalidValue(f"pages must look like 1-3,5, got {text!r}")
    ranges = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return tuple(ranges)


def _decode(text: str) -> bytes:
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidValue(f"document_base64 is not base64: {err}") from err
    if not content:
        raise InvalidValue("document_base64 is empty")
    return content


def _submit(cups: Any, spool: Path, content: bytes, suffix: str, limits: Any, **request: Any) -> Any:
    """Blocking: spool the bytes to a private file, send it, remove it (cupsd keeps its copy)."""
    from drivers.cups.submit import PrintRequest, submit

    spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool, prefix="print-", suffix=suffix) as f:
        f.write(content)
        f.flush()
        return submit(cups, PrintRequest(document=Path(f.name), **request), limits=limits)


async def print_document(api: Api, call: Call) -> dict[str, Any]:
    from drivers.cups.errors import CupsRequestFailed, CupsUnavailable, SubmitError
    from drivers.cups.events import ColourMode, Purpose, Sides

    number, b = call.params["id"], call.body
    cups = api.services.driver("cups").config
    content = _decode(b["document_base64"])
    queue = await api.db(lambda: _target(api, number, b.get("queue"), cups))
    filename = b.get("filename", "")
    colour = b.get("colour")
    request = {
        "queue": queue, "ticket_id": number, "title": b.get("title") or Path(filename).stem,
        "copies": b.get("copies", 1), "sides": Sides(b.get("sides", Sides.ONE_SIDED.value)),
        "media": printing.pwg_media(b["media"]) if b.get("media") else None,
        "colour": None if colour is None else (ColourMode.COLOUR if colour == "colour" else ColourMode.MONOCHROME),
        "page_ranges": page_ranges(b["pages"]) if b.get("pages") else (),
        "purpose": Purpose(b.get("purpose", Purpose.FINAL.value)), "user": call.caller.user,
    }
    spool = api.services.config.spool_dir / "print"
    bound = log.bind(ticket=number, queue=queue)
    try:
        job = await asyncio.to_thread(_submit, cups, spool, content, Path(filename).suffix,
                                      api.services.config.limits, **request)
    except SubmitError as err:
        raise InvalidValue(str(err)) from err
    except CupsUnavailable as err:
        raise PrinterUnavailable(f"cupsd at {cups.server} cannot be reached ({err}); is CUPS running?") from err
    except CupsRequestFailed as err:
        raise PrinterRefused(f"cupsd refused the job: {err.message}") from err
    submitted = {"queue": job.queue, "job_id": job.job_id, "job_name": job.job_name,
                 "document_pages": job.document_pages, "copies": request["copies"],
                 "sides": request["sides"].value, "purpose": request["purpose"].value}
    await api.db(lambda: _audit(api, call, number, submitted))
    bound.info("print.submitted", job_id=job.job_id, pages=job.document_pages)
    return {"ticket": number, "server": job.server, **submitted}


def _target(api: Api, number: str, queue: str | None, cups: Any) -> str:
    with api.ledger.transaction() as s:
        return printing.print_target(s, number, queue, cups)


def _audit(api: Api, call: Call, number: str, submitted: dict[str, Any]) -> None:
    with api.ledger.transaction() as s:
        printing.record_submission(s, call.caller, api.ledger.clock(), number, submitted)


ROUTES: list[Route] = [
    Route(
        "POST", "/tickets/{id}/print", "Print a document for a ticket; the finished job is billed to it",
        print_document, status=202,
        body=obj(
            ["document_base64"],
            document_base64={"type": "string", "minLength": 1, "maxLength": 1 << 30,
                             "description": "the document (PDF, PostScript, text), base64"},
            filename={**FILENAME, "description": "its name, for the job title (no control characters)"},
            title={"type": "string", "maxLength": 200},
            queue={"type": "string", "maxLength": 127,
                   "description": "default: the queue of the ticket's device, or the only queue"},
            copies={"type": "integer", "minimum": 1, "maximum": 999},
            sides={"type": "string", "enum": ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]},
            media={"type": "string", "maxLength": 64, "description": "A4, A3, A5, B5, Letter, Legal or a PWG name"},
            colour={"type": "string", "enum": ["mono", "colour"], "description": "default: the queue's"},
            pages={"type": "string", "maxLength": 200, "description": "page ranges, e.g. 1-3,5"},
            purpose={"type": "string", "enum": ["proof", "final"], "description": "default final"},
        ),
    ),
]
