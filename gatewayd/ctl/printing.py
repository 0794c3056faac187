"""``gatewayctl print``: send a document to a printer for a ticket (and optionally wait for it)."""

from __future__ import annotations

import argparse
import base64
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gatewayd.ctl.client import Client
from gatewayd.ctl.render import show_ticket

Result = tuple[Any, str | None]

_POLL_S = 0.25


def _finished(client: Client, ticket: str, queue: str, job_id: int) -> dict[str, Any] | None:
    """The job's event once the watcher has recorded it on the ticket."""
    for event in client.listing("/events", everything=True, ticket=ticket, kind="print_job").rows:
        if event["payload"].get("queue") == queue and event["payload"].get("job_id") == job_id:
            return event
    return None


def print_document(args: argparse.Namespace, client: Client) -> Result:
    document = Path(args.file)
    body = {
        "document_base64": base64.b64encode(document.read_bytes()).decode("ascii"),
        "filename": document.name, "title": args.title, "queue": args.queue, "copies": args.copies,
        "sides": "two-sided-long-edge" if args.duplex else None, "media": args.media,
        # Mono unless asked: a colour-capable queue's default would bill colour for a black letter.
        "colour": "colour" if args.colour else "mono", "pages": args.pages,
        "purpose": "proof" if args.proof else None,
    }
    job = client.post(f"/tickets/{quote(args.ticket)}/print", body)  # None: the daemon's default
    pages = f"{job['document_pages']} pages" if job["document_pages"] is not None else "pages not counted"
    text = f"sent {document.name} ({pages}) to {job['queue']} as job {job['job_id']} for {args.ticket}"
    if not args.wait:
        return job, text
    deadline = time.monotonic() + args.wait
    while (event := _finished(client, args.ticket, job["queue"], job["job_id"])) is None:
        if time.monotonic() > deadline:
            return {**job, "finished": False}, f"{text}\nnot finished after {args.wait:g} s; it is billed when it is"
        time.sleep(_POLL_S)
    ticket = client.get(f"/tickets/{quote(args.ticket)}")
    outcome = event["payload"].get("outcome", "")
    return ({**job, "finished": True, "event": event, "ticket_view": ticket},
            f"{text}\njob {job['job_id']} {outcome}\n\n{show_ticket(ticket)}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("print", help="print a document for a ticket; the finished job is billed to it")
    p.add_argument("file", help="PDF, PostScript or text file")
    p.add_argument("--ticket", required=True, help="ticket id, e.g. T-2026-000123")
    p.add_argument("--queue", help="CUPS queue (default: the ticket's printer, or the only queue)")
    p.add_argument("--copies", type=int)
    p.add_argument("--duplex", action="store_true", help="two-sided (long edge)")
    p.add_argument("--media", help="A4, A3, A5, B5, Letter, Legal")
    p.add_argument("--colour", "--color", action="store_true", help="print in colour (default: mono)")
    p.add_argument("--pages", help="page ranges, e.g. 1-3,5")
    p.add_argument("--proof", action="store_true", help="a proof for the customer to check (default: final)")
    p.add_argument("--title", help="job title (default: the file name)")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                   help="wait up to SECONDS for the job to finish and show the ticket")
    p.set_defaults(handler=print_document)
