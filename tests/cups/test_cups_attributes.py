"""The pure parts: IPP attributes -> event (PPD options, defaults, odd values), page truth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from drivers.cups.attributes import Counted, QueueDefaults, job_event
from drivers.cups.config import QueueConfig
from drivers.cups.events import (
    ColourMode,
    JobOutcome,
    PageCountSource,
    PrintJobFinished,
    Sides,
)
from drivers.cups.pages import page_truth, selected_pages

T0 = 1_795_700_000
BASE: dict[str, Any] = {"job-id": 7, "job-state": 9, "job-printer-uri":
                        "ipp://localhost/printers/desk", "job-name": "x",
                        "time-at-creation": T0, "time-at-completed": T0 + 5}
COLOUR_A4 = QueueDefaults("iso_a4_210x297mm", Sides.ONE_SIDED, ColourMode.COLOUR, True)


def _event(defaults: QueueDefaults = COLOUR_A4, pages: int | None = 3,
           **attrs: Any) -> PrintJobFinished:
    source = PageCountSource.SPOOLED_DOCUMENT if pages else PageCountSource.CUPS_IMPRESSIONS
    return job_event({**BASE, **attrs}, server="/s", queue=QueueConfig("desk", "mfp", "std"),
                     defaults=defaults, counted=Counted(pages, source))


def test_defaults_apply_when_the_job_says_nothing() -> None:
    e = _event()
    assert (e.media, e.sides, e.colour, e.copies, e.number_up) == (
        "iso_a4_210x297mm", Sides.ONE_SIDED, ColourMode.COLOUR, 1, 1)
    assert e.occurred_at == datetime.fromtimestamp(T0 + 5, UTC)
    assert e.natural_key == f"/s/desk/7/{T0 + 5}"
    assert (e.device, e.price_class, e.outcome) == ("mfp", "std", JobOutcome.COMPLETED)


@pytest.mark.parametrize(("attrs", "field", "expected"), [
    ({"Duplex": "DuplexTumble"}, "sides", Sides.TWO_SIDED_SHORT_EDGE),
    ({"Duplex": "None"}, "sides", Sides.ONE_SIDED),
    ({"sides": "two-sided-long-edge", "Duplex": "None"}, "sides", Sides.TWO_SIDED_LONG_EDGE),
    ({"PageSize": "A3"}, "media", "iso_a3_297x420mm"),
    ({"media": ["iso_a5_148x210mm", "tray-1"]}, "media", "iso_a5_148x210mm"),
    ({"ColorModel": "Gray"}, "colour", ColourMode.MONOCHROME),
    ({"ColorModel": "CMYK"}, "colour", ColourMode.COLOUR),
    ({"print-color-mode": "auto"}, "colour", ColourMode.COLOUR),
    ({"print-color-mode": "bi-level"}, "colour", ColourMode.MONOCHROME),
    ({"page-ranges": [(1, 1), (3, 3)]}, "page_ranges", ((1, 1), (3, 3))),
    ({"page-ranges": (2, 3)}, "page_ranges", ((2, 3),)),
    ({"job-state": 8}, "outcome", JobOutcome.ABORTED),
    ({"time-at-completed": None}, "occurred_at", datetime.fromtimestamp(T0, UTC)),
    ({"gatewayd-purpose": "nonsense"}, "purpose", None),
])
def test_attribute_forms(attrs: dict[str, Any], field: str, expected: object) -> None:
    assert getattr(_event(**attrs), field) == expected


def test_auto_colour_on_a_mono_device_is_mono() -> None:
    mono = QueueDefaults("iso_a4_210x297mm", Sides.ONE_SIDED, ColourMode.MONOCHROME, False)
    assert _event(mono, **{"print-color-mode": "auto"}).colour is ColourMode.MONOCHROME


def test_unconfigured_queue_is_its_own_device() -> None:
    e = job_event(BASE, server="/s", queue=None, defaults=QueueDefaults(),
                  counted=Counted(1, PageCountSource.SPOOLED_DOCUMENT))
    assert (e.device, e.price_class, e.media) == ("desk", None, "")


def test_without_a_page_count_cups_impressions_are_used() -> None:
    e = _event(pages=None, sides="two-sided-long-edge", **{"job-impressions-completed": 3})
    assert (e.billed_sides, e.billed_sheets, e.document_pages) == (3, 2, None)


@pytest.mark.parametrize(("pages", "kw", "sides", "sheets"), [
    (1, {"copies": 1, "duplex": False}, 1, 1),
    (1, {"copies": 2, "duplex": True}, 2, 2),
    (3, {"copies": 3, "duplex": True}, 9, 6),
    (5, {"copies": 1, "duplex": False, "number_up": 2}, 3, 3),
    (5, {"copies": 2, "duplex": True, "number_up": 4}, 4, 2),
    (10, {"copies": 1, "duplex": True, "page_ranges": ((2, 4), (4, 6), (9, 99))}, 7, 4),
])
def test_page_truth(pages: int, kw: dict[str, Any], sides: int, sheets: int) -> None:
    truth = page_truth(pages, **kw)
    assert (truth.billed_sides, truth.billed_sheets) == (sides, sheets)


def test_selected_pages_clips_ranges() -> None:
    assert selected_pages(3, ((5, 9),)) == 0
    assert selected_pages(3, ()) == 3
