"""Pure translation of a finished job's IPP attributes into a :class:`PrintJobFinished`.

A job's effective settings come from the job's own attributes, then the PPD options a client
may have sent instead (``Duplex``, ``PageSize``, ``ColorModel``: what ``lp -o`` from older
applications sends), then the queue's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drivers.cups.config import QueueConfig
from drivers.cups.events import (
    ColourMode,
    CupsFigures,
    JobOutcome,
    PageCountSource,
    PrintJobFinished,
    Purpose,
    Sides,
)
from drivers.cups.pages import page_truth, truth_from_cups

#: Job options :func:`drivers.cups.submit.submit` adds; cupsd keeps unknown job attributes and
#: returns them from Get-Job-Attributes (measured on CUPS 2.4.2).
PAGES_OPTION = "gatewayd-pages"
PURPOSE_OPTION = "gatewayd-purpose"
#: PWG 5100.7's attribute for accounting; kept by CUPS and meant for exactly this.
TICKET_OPTION = "job-account-id"

_OUTCOMES = {7: JobOutcome.CANCELLED, 8: JobOutcome.ABORTED, 9: JobOutcome.COMPLETED}
_PPD_DUPLEX = {"None": Sides.ONE_SIDED, "DuplexNoTumble": Sides.TWO_SIDED_LONG_EDGE,
               "DuplexTumble": Sides.TWO_SIDED_SHORT_EDGE}
_PPD_MEDIA = {"A3": "iso_a3_297x420mm", "A4": "iso_a4_210x297mm", "A5": "iso_a5_148x210mm",
              "B5": "jis_b5_182x257mm", "Letter": "na_letter_8.5x11in",
              "Legal": "na_legal_8.5x14in"}
_MONO_MODES = {"monochrome", "process-monochrome", "bi-level", "auto-monochrome"}
_PPD_MONO_MODELS = {"gray", "grayscale", "kgray", "black", "mono"}
_QUEUE_FROM_URI = re.compile(r"/(?:printers|classes)/([^/?#]+)$")


@dataclass(frozen=True)
class QueueDefaults:
    """What a queue prints with when the job does not say (Get-Printer-Attributes)."""

    media: str = ""
    sides: Sides = Sides.ONE_SIDED
    colour: ColourMode = ColourMode.MONOCHROME
    colour_capable: bool = False

    @classmethod
    def from_attributes(cls, attrs: Mapping[str, Any]) -> QueueDefaults:
        colour_capable = bool(attrs.get("color-supported", False))
        sides = _sides(attrs.get("sides-default"))
        mode = attrs.get("print-color-mode-default")
        return cls(media=str(attrs.get("media-default") or ""),
                   sides=sides or Sides.ONE_SIDED,
                   colour=_colour_mode(mode, colour_capable) or ColourMode.MONOCHROME,
                   colour_capable=colour_capable)


@dataclass(frozen=True)
class Counted:
    """The document's page count and where it came from."""

    pages: int | None
    source: PageCountSource


def queue_of(attrs: Mapping[str, Any]) -> str:
    uri = str(attrs.get("job-printer-uri", ""))
    m = _QUEUE_FROM_URI.search(uri)
    return m.group(1) if m else uri


def submit_time_pages(attrs: Mapping[str, Any]) -> int | None:
    value = attrs.get(PAGES_OPTION)
    return int(value) if isinstance(value, str | int) and str(value).isdigit() else None


def job_event(attrs: Mapping[str, Any], *, server: str, queue: QueueConfig | None,
              defaults: QueueDefaults, counted: Counted,
              notified_impressions: int | None = None) -> PrintJobFinished:
    queue_name = queue_of(attrs)
    state = int(attrs["job-state"])
    sides = (_sides(attrs.get("sides")) or _PPD_DUPLEX.get(str(attrs.get("Duplex")))
             or defaults.sides)
    copies = _int(attrs.get("copies"), 1)
    number_up = _int(attrs.get("number-up"), 1)
    ranges = _ranges(attrs.get("page-ranges"))
    figures = CupsFigures(impressions=_int(attrs.get("job-impressions-completed"), 0),
                          sheets=_int(attrs.get("job-media-sheets-completed"), 0),
                          notified_impressions=notified_impressions)
    if counted.pages is None:
        truth = truth_from_cups(figures.impressions, duplex=sides.duplex)
    else:
        truth = page_truth(counted.pages, copies=copies, duplex=sides.duplex,
                           number_up=number_up, page_ranges=ranges)
    created = _time(attrs.get("time-at-creation"))
    completed = _time(attrs.get("time-at-completed")) or created
    if completed is None:
        raise ValueError(f"job {attrs.get('job-id')} has neither time-at-completed nor -creation")
    purpose = attrs.get(PURPOSE_OPTION)
    return PrintJobFinished(
        device=queue.device if queue else queue_name,
        occurred_at=completed,
        server=server,
        queue=queue_name,
        job_id=int(attrs["job-id"]),
        job_name=str(attrs.get("job-name", "")),
        user=str(attrs.get("job-originating-user-name", "")),
        host=str(attrs.get("job-originating-host-name", "")),
        outcome=_OUTCOMES[state],
        state_message=str(attrs.get("job-printer-state-message", "")),
        document_format=str(attrs.get("document-format-detected")
                            or attrs.get("document-format", "")),
        copies=copies,
        sides=sides,
        media=_media(attrs) or defaults.media,
        colour=_job_colour(attrs, defaults),
        number_up=number_up,
        page_ranges=ranges,
        ticket_option=str(attrs[TICKET_OPTION]) if attrs.get(TICKET_OPTION) else None,
        purpose=Purpose(purpose) if purpose in {p.value for p in Purpose} else None,
        price_class=queue.price_class if queue else None,
        created_at=created,
        processing_at=_time(attrs.get("time-at-processing")),
        document_pages=counted.pages,
        page_count_source=counted.source,
        billed_sides=truth.billed_sides,
        billed_sheets=truth.billed_sheets,
        cups=figures,
    )


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _time(value: Any) -> datetime | None:
    # pycups gives time-at-* as epoch ints; an unset one comes back as None or 0.
    if isinstance(value, int) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _sides(value: Any) -> Sides | None:
    try:
        return Sides(value)
    except ValueError:
        return None


def _media(attrs: Mapping[str, Any]) -> str:
    media = attrs.get("media")
    if isinstance(media, list | tuple):  # a media collection's list form: the size comes first
        media = media[0] if media else None
    if media:
        return str(media)
    size = str(attrs.get("PageSize", ""))
    return _PPD_MEDIA.get(size, size)


def _colour_mode(mode: Any, colour_capable: bool) -> ColourMode | None:
    if mode == "color":
        return ColourMode.COLOUR
    if mode in _MONO_MODES:
        return ColourMode.MONOCHROME
    if mode == "auto":
        # "auto" prints colour pages in colour on a colour device; billing per job cannot see
        # per-page colour, so a colour-capable queue bills auto as colour (policy, documented).
        return ColourMode.COLOUR if colour_capable else ColourMode.MONOCHROME
    return None


def _job_colour(attrs: Mapping[str, Any], defaults: QueueDefaults) -> ColourMode:
    mode = _colour_mode(attrs.get("print-color-mode"), defaults.colour_capable)
    if mode is not None:
        return mode
    model = attrs.get("ColorModel")
    if isinstance(model, str) and model:
        return ColourMode.MONOCHROME if model.lower() in _PPD_MONO_MODELS else ColourMode.COLOUR
    return defaults.colour


def _ranges(value: Any) -> tuple[tuple[int, int], ...]:
    """pycups gives one range as ``(lo, hi)`` and several as a list of them."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value,)
    if isinstance(value, list):
        return tuple(tuple(r) for r in value if isinstance(r, tuple) and len(r) == 2)
    return ()
