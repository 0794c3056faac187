"""Submitting a document for a ticket: marks the job so the matcher finds the ticket again.

Blocking (pycups): call it from a worker thread (``asyncio.to_thread``); it opens its own
connection, as libcups connections belong to one thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from drivers.cups.attributes import PAGES_OPTION, PURPOSE_OPTION, TICKET_OPTION
from drivers.cage import Limits
from drivers.cups.client import CupsClient
from drivers.cups.config import CupsConfig
from drivers.cups.errors import (
    CupsNotFound,
    CupsRequestFailed,
    PageCountError,
    SubmitError,
)
from drivers.cups.events import ColourMode, Purpose, Sides
from drivers.cups.marks import is_ticket_id, job_title
from drivers.cups.pagecount import DocumentKind, count_pages, sniff

log = structlog.get_logger()

MAX_COPIES = 999  # CUPS' default MaxCopies is 9999; a front desk never prints more than this


@dataclass(frozen=True)
class PrintRequest:
    queue: str
    document: Path
    ticket_id: str
    title: str = ""
    copies: int = 1
    sides: Sides = Sides.ONE_SIDED
    #: PWG media name (``iso_a4_210x297mm``, ``iso_a3_297x420mm``); None: the queue's default.
    media: str | None = None
    #: None: the queue's default.
    colour: ColourMode | None = None
    #: Inclusive 1-based ranges; empty: all pages.
    page_ranges: tuple[tuple[int, int], ...] = ()
    purpose: Purpose = Purpose.FINAL
    #: Recorded as job-originating-user-name (the staff login); cupsd accepts it from root or
    #: trusted local clients only, and otherwise records the real caller.
    user: str | None = None


@dataclass(frozen=True)
class SubmittedJob:
    server: str
    queue: str
    job_id: int
    job_name: str
    #: Counted before sending; None for formats we cannot count (the job is sent anyway).
    document_pages: int | None


def _check(config: CupsConfig, request: PrintRequest) -> None:
    if config.queue(request.queue) is None:
        known = ", ".join(q.name for q in config.queues) or "none"
        raise SubmitError(f"queue {request.queue!r} is not configured (configured: {known})")
    if not is_ticket_id(request.ticket_id):
        raise SubmitError(f"ticket id must look like T-2026-000123, got {request.ticket_id!r}")
    if not 1 <= request.copies <= MAX_COPIES:
        raise SubmitError(f"copies must be 1-{MAX_COPIES}, got {request.copies}")
    for lo, hi in request.page_ranges:
        if not 1 <= lo <= hi:
            raise SubmitError(f"page range {lo}-{hi} must satisfy 1 <= first <= last")
    if not request.document.is_file():
        raise SubmitError(f"document {request.document} is not a readable file")


def _check_size(document: Path, limits: Limits) -> None:
    """Text and images are paginated and decoded by CUPS' filters, not counted here; bound what
    they can become from what is cheap to see: an image's header (Pillow reads only the header
    on open; nothing is decoded) and, in anything else, form feeds (each starts a page)."""
    from PIL import Image

    if sniff(document) is not DocumentKind.OTHER:
        return  # PDF and PostScript are counted
    try:
        with Image.open(document) as image:
            pixels = f"{image.width}x{image.height} pixels"
            over = image.width * image.height > limits.pixels_per_page
    except Image.DecompressionBombError:  # over twice Pillow's own bound (179 M pixels)
        pixels, over = "more pixels than Pillow decodes", True
    except (OSError, ValueError, SyntaxError):  # not an image: text, PCL...
        feeds = document.read_bytes().count(b"\f")
        if feeds >= limits.pages:
            raise SubmitError(f"the document has at least {feeds + 1} pages (form feeds), more than "
                              f"{limits.pages} (limit documents.max_pages)") from None
        return
    if over:
        raise SubmitError(f"the image is {pixels}, more than {limits.pixels_per_page:,} "
                          "(limit documents.max_pixels_per_page)")


def job_options(request: PrintRequest, pages: int | None) -> dict[str, str]:
    options = {
        "copies": str(request.copies),
        "sides": request.sides.value,
        TICKET_OPTION: request.ticket_id,
        PURPOSE_OPTION: request.purpose.value,
    }
    if request.media:
        options["media"] = request.media
    if request.colour:
        options["print-color-mode"] = request.colour.value
    if request.page_ranges:
        options["page-ranges"] = ",".join(f"{lo}-{hi}" for lo, hi in request.page_ranges)
    if request.user:
        options["job-originating-user-name"] = request.user
    if pages is not None:
        options[PAGES_OPTION] = str(pages)
    return options


def submit(config: CupsConfig, request: PrintRequest, *,
           client: CupsClient | None = None, limits: Limits = Limits()) -> SubmittedJob:
    """Send ``request.document`` to its queue; raises :class:`SubmitError` or another
    :class:`drivers.cups.errors.CupsError` (e.g. ``CupsUnavailable``)."""
    _check(config, request)
    try:
        pages = count_pages(request.document, limits)
    except PageCountError as err:
        raise SubmitError(f"the document cannot be printed: {err}") from err
    _check_size(request.document, limits)
    if pages is not None and pages > limits.pages:
        raise SubmitError(f"the document has {pages} pages, more than {limits.pages} "
                          "(limit documents.max_pages)")
    client = client or CupsClient(config.server)
    title = job_title(request.ticket_id, request.title, request.purpose)
    try:
        # cupsd answers Print-Job to a missing queue with a misleading "No such file or
        # directory" (CUPS 2.4.2), so ask first and say what is wrong.
        client.queue_attributes(request.queue)
    except CupsNotFound as err:
        raise SubmitError(f"queue {request.queue!r} does not exist on {config.server}") from err
    try:
        job_id = client.print_file(request.queue, request.document, title,
                                   job_options(request, pages))
    except CupsRequestFailed as err:
        raise SubmitError(f"cupsd refused the job for {request.queue!r}: {err.message}") from err
    log.info("cups.job_submitted", queue=request.queue, job_id=job_id, ticket=request.ticket_id,
             pages=pages, copies=request.copies, purpose=request.purpose.value)
    return SubmittedJob(config.server, request.queue, job_id, title, pages)
