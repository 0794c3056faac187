"""Billed sides and sheets against the real cupsd: every queue type, 1 and 3 pages, copies 1-3,
simplex and duplex, A4 and A3, mono and colour -- and CUPS' own figures kept beside ours."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import pytest

from drivers.cups.events import (
    ColourMode,
    PageCountSource,
    PrintJobFinished,
    Purpose,
    Sides,
)
from drivers.cups.submit import PrintRequest, submit
from drivers.cups.watcher import Watcher
from lab.cups.cupsd import CupsLab
from lab.cups.harness import lab_config, watch_until

A4, A3 = "iso_a4_210x297mm", "iso_a3_297x420mm"


@dataclass(frozen=True)
class Case:
    queue: str
    pages: int
    copies: int
    sides: Sides
    media: str
    colour: ColourMode

    @property
    def id(self) -> str:
        return (f"{self.queue}-{self.pages}p-x{self.copies}-{self.sides.value}-"
                f"{self.media[:6]}-{self.colour.value}")


def _cases() -> list[Case]:
    # Every queue x pages x copies x sides (36 jobs); media and colour alternate across them so
    # each queue sees A4 and A3, mono and colour, without multiplying the job count by 4.
    styles = itertools.cycle([(A4, ColourMode.MONOCHROME), (A3, ColourMode.COLOUR),
                              (A4, ColourMode.COLOUR), (A3, ColourMode.MONOCHROME)])
    return [Case(q, p, c, s, *next(styles))
            for q in ("ps", "pdf", "raw") for p in (1, 3) for c in (1, 2, 3)
            for s in (Sides.ONE_SIDED, Sides.TWO_SIDED_LONG_EDGE)]


CASES = _cases()


@pytest.fixture(scope="module")
def finished(cups_lab: CupsLab, documents: dict[str, Path]) -> dict[Case, PrintJobFinished]:
    """Submit every case once, watch them finish, map each case to its event."""
    config = lab_config(cups_lab)
    watcher = Watcher(config)
    watcher.step()
    jobs: dict[int, Case] = {}
    for i, case in enumerate(CASES):
        size = "A3" if case.media == A3 else "A4"
        colour = "colour" if case.colour is ColourMode.COLOUR else "mono"
        submitted = submit(config, PrintRequest(
            queue=case.queue, document=documents[f"{case.pages}p-{size}-{colour}"],
            ticket_id=f"T-2026-{100000 + i:06d}", title=case.id, copies=case.copies,
            sides=case.sides, media=case.media, colour=case.colour))
        jobs[submitted.job_id] = case
    ledger: dict[str, PrintJobFinished] = {}
    watch_until(watcher, ledger, set(jobs), timeout=60)
    watcher.close()
    return {jobs[e.job_id]: e for e in ledger.values()}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_billed_sides_and_sheets(case: Case, finished: dict[Case, PrintJobFinished]) -> None:
    event = finished[case]
    assert event.outcome.value == "completed", event.state_message
    assert event.document_pages == case.pages
    assert event.page_count_source is PageCountSource.SPOOLED_DOCUMENT
    assert event.billed_sides == case.pages * case.copies
    per_copy = ceil(case.pages / 2) if case.sides.duplex else case.pages
    assert event.billed_sheets == per_copy * case.copies
    assert (event.copies, event.sides, event.media, event.colour) == (
        case.copies, case.sides, case.media, case.colour)
    assert event.device == f"printer-{case.queue}"
    assert event.price_class == f"class-{case.queue}"
    assert event.purpose is Purpose.FINAL
    assert event.user and event.host and event.job_name.startswith("T-2026-")


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cups_figures_kept_beside_ours(case: Case, finished: dict[Case, PrintJobFinished]
                                       ) -> None:
    """What CUPS 2.4.2 reports, pinned so an upgrade that changes it is noticed."""
    cups = finished[case].cups
    if case.queue == "raw":
        expected = 0  # raw queues count nothing
    elif case.queue == "pdf" and case.sides.duplex and case.copies > 1:
        # pdftopdf pads every copy to whole sheets when it makes the copies itself.
        expected = 2 * ceil(case.pages / 2) * case.copies
    else:
        expected = case.pages * case.copies
    assert cups.impressions == expected
    assert cups.sheets == (cups.impressions // 2 if case.sides.duplex else cups.impressions)
    # The notification's "impressions" are the sheet count.
    assert cups.notified_impressions in (None, cups.sheets)
