"""Page truth: how many sides and sheets a print job is billed for.

Billing charges per printed side, by media, colour and simplex/duplex (DESIGN.md, Billing), so
the driver must know the sides a job really put on paper. CUPS' own counters are not that
number; measured on CUPS 2.4.2 / cups-filters 1.28 (the lab, ``tests/cups``):

* raw queues report ``job-impressions-completed = 0`` whatever was printed;
* a queue with cups-filters' PDF PPD pads a blank side per duplex copy when there are several
  copies (1 page, 2 copies, duplex: 4 impressions; 3 pages, 2 copies: 8), because pdftopdf
  makes every copy start on a new sheet;
* ``job-media-sheets-completed`` is computed as impressions/2, rounded down: a 3-page duplex job
  reports 1 sheet where 2 went through the printer, a 1-page duplex job reports 0;
* the ``job-completed`` notification's ``job-impressions-completed`` is really the sheet count.

So we count ourselves, from the document:

1. ``document_pages`` -- the pages of the document as submitted, counted from the spooled copy
   CUPS keeps (``PreserveJobFiles``; fetched with CUPS-Get-Document) by
   :mod:`drivers.cups.pagecount` (Ghostscript for PDF and PostScript). When the spool file is
   gone, the count :func:`drivers.cups.submit.submit` took before sending (job option
   ``gatewayd-pages``) is used; when neither exists, CUPS' impressions are all we have, and the
   event says so in ``page_count_source``.
2. ``selected`` -- the pages ``page-ranges`` keeps (ranges past the end are clipped).
3. ``sides_per_copy = ceil(selected / number_up)`` -- N-up puts several pages on one side.
4. ``billed_sides = sides_per_copy * copies`` -- printed sides; the blank padding of duplex
   is not a printed side and is not billed.
5. ``billed_sheets = ceil(sides_per_copy / 2) * copies`` for duplex (each copy starts on a fresh
   sheet, as pdftopdf does), ``sides_per_copy * copies`` for simplex.

CUPS' figures travel beside ours in :class:`drivers.cups.events.CupsFigures` so the monthly
reconciliation can show where they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil


@dataclass(frozen=True)
class PageTruth:
    billed_sides: int
    billed_sheets: int


def selected_pages(document_pages: int, page_ranges: tuple[tuple[int, int], ...]) -> int:
    """Pages of a ``document_pages``-page document that ``page-ranges`` selects."""
    if not page_ranges:
        return document_pages
    chosen: set[int] = set()
    for lo, hi in page_ranges:
        chosen.update(range(max(lo, 1), min(hi, document_pages) + 1))
    return len(chosen)


def page_truth(document_pages: int, *, copies: int, duplex: bool, number_up: int = 1,
               page_ranges: tuple[tuple[int, int], ...] = ()) -> PageTruth:
    sides_per_copy = ceil(selected_pages(document_pages, page_ranges) / max(number_up, 1))
    sheets_per_copy = ceil(sides_per_copy / 2) if duplex else sides_per_copy
    return PageTruth(billed_sides=sides_per_copy * copies,
                     billed_sheets=sheets_per_copy * copies)


def truth_from_cups(impressions: int, *, duplex: bool) -> PageTruth:
    """Last resort when the document could not be counted: CUPS' impressions, all copies."""
    return PageTruth(billed_sides=impressions,
                     billed_sheets=ceil(impressions / 2) if duplex else impressions)
