"""What billing reads from a print_job payload (the driver's or one typed by staff), without a daemon."""

from __future__ import annotations

import pytest

from gatewayd.billing import Colour
from gatewayd.billing.pages import sets_of
from gatewayd.errors import InvalidValue
from gatewayd.printing import PrintedJob, price_list_media, pwg_media


@pytest.mark.parametrize(("pwg", "name"), [
    ("iso_a4_210x297mm", "A4"), ("iso_a3_297x420mm", "A3"), ("jis_b5_182x257mm", "B5"),
    ("iso_b5_176x250mm", "B5"), ("na_letter_8.5x11in", "Letter"), ("a4", "A4"),
    ("om_small-photo_100x150mm", "om_small-photo_100x150mm"),  # unknown: named as CUPS said
])
def test_pwg_media_to_price_list_names(pwg: str, name: str) -> None:
    assert price_list_media(pwg) == name


def test_staff_media_to_pwg() -> None:
    assert pwg_media("a3") == "iso_a3_297x420mm"
    assert pwg_media("iso_a5_148x210mm") == "iso_a5_148x210mm"
    with pytest.raises(InvalidValue, match="media must be one of"):
        pwg_media("A9")


def test_driver_payload_copies_are_sets_not_more_sides() -> None:
    job = PrintedJob.from_payload({
        "queue": "ps", "job_id": 7, "outcome": "completed", "purpose": "final", "copies": 2,
        "sides": "two-sided-long-edge", "media": "iso_a4_210x297mm", "colour": "monochrome",
        "billed_sides": 6, "billed_sheets": 4,
    })
    assert (job.media, job.colour, job.duplex, job.completed) == ("A4", Colour.MONO, True, True)
    assert sets_of(job.billed_sides, job.copies) == (3, 2)


def test_sides_from_cups_impressions_that_do_not_split_by_copy_are_one_set() -> None:
    job = PrintedJob.from_payload({"copies": 2, "billed_sides": 5, "media": "iso_a4_210x297mm",
                                   "colour": "color", "outcome": "completed"})
    assert sets_of(job.billed_sides, job.copies) == (5, 1) and job.colour is Colour.COLOUR


def test_staff_shorthand_pages_per_copy() -> None:
    job = PrintedJob.from_payload({"pages": 3, "copies": 2, "media": "A3"})
    assert (job.billed_sides, sets_of(job.billed_sides, job.copies), job.media, job.duplex) == (6, (3, 2), "A3", False)


@pytest.mark.parametrize(("payload", "complaint"), [
    ({"media": "A4"}, "needs billed_sides"),
    ({"pages": -1}, "payload.pages"),
    ({"pages": 1, "copies": 0}, "payload.copies"),
    ({"pages": 1, "colour": "sepia"}, "payload.colour"),
])
def test_unreadable_payloads_are_refused_with_the_field(payload: dict, complaint: str) -> None:
    with pytest.raises(InvalidValue, match=complaint):
        PrintedJob.from_payload(payload)
