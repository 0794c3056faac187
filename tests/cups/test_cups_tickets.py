"""Ticket marks in jobs (by name, by option), proofs, page ranges, the page-count fallbacks,
cancelled jobs, and submit's refusals -- against the lab's cupsd."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from drivers.cups.config import CupsConfig
from drivers.cups.errors import SubmitError
from drivers.cups.events import (
    JobOutcome,
    PageCountSource,
    PrintJobFinished,
    Purpose,
    Sides,
)
from drivers.cups.marks import job_title, ticket_ref
from drivers.cups.pagecount import DocumentPages
from drivers.cups.submit import PrintRequest, submit
from drivers.cups.watcher import Watcher
from lab.cups.cupsd import CupsLab
from lab.cups.harness import lab_config, watch_until


def _lp(lab: CupsLab, queue: str, document: Path, *args: str) -> int:
    out = subprocess.run(["lp", "-h", str(lab.socket), "-d", queue, *args, str(document)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[3].rsplit("-", 1)[1])  # "request id is raw-12 (1 file(s))"


def _finish(config: CupsConfig, job_ids: set[int], **watcher_args: object
            ) -> dict[int, PrintJobFinished]:
    watcher = Watcher(config, **watcher_args)  # type: ignore[arg-type]
    ledger: dict[str, PrintJobFinished] = {}
    watch_until(watcher, ledger, job_ids)
    watcher.close()
    return {e.job_id: e for e in ledger.values() if e.job_id in job_ids}


@pytest.fixture(scope="module")
def config(cups_lab: CupsLab) -> CupsConfig:
    return lab_config(cups_lab)


def test_ticket_by_option_by_name_and_none(cups_lab: CupsLab, config: CupsConfig,
                                           documents: dict[str, Path]) -> None:
    doc = documents["1p-A4-mono"]
    by_submit = submit(config, PrintRequest("ps", doc, "T-2026-000123", "Lease contract",
                                            purpose=Purpose.PROOF)).job_id
    by_name = _lp(cups_lab, "raw", doc, "-t", "T-2026-000777 letter to landlord")
    by_option = _lp(cups_lab, "raw", doc, "-t", "letter", "-o", "job-account-id=T-2026-000888")
    # A user who retitled the job: the option, not the stale name, is trusted.
    both = _lp(cups_lab, "raw", doc, "-t", "T-2026-000001 old", "-o",
               "job-account-id=T-2026-000002")
    unmarked = _lp(cups_lab, "raw", doc, "-t", "holiday photos")
    events = _finish(config, {by_submit, by_name, by_option, both, unmarked})

    assert events[by_submit].job_name == "T-2026-000123 Lease contract [proof]"
    assert events[by_submit].ticket_option == "T-2026-000123"
    assert events[by_submit].purpose is Purpose.PROOF
    assert ticket_ref(events[by_submit]) == "T-2026-000123"
    assert events[by_name].ticket_option is None
    assert ticket_ref(events[by_name]) == "T-2026-000777"
    assert ticket_ref(events[by_option]) == "T-2026-000888"
    assert ticket_ref(events[both]) == "T-2026-000002"
    assert ticket_ref(events[unmarked]) is None
    assert events[unmarked].purpose is None


def test_ticket_ref_is_pure(cups_lab: CupsLab, config: CupsConfig,
                            documents: dict[str, Path]) -> None:
    job = submit(config, PrintRequest("raw", documents["1p-A4-mono"], "T-2026-000124")).job_id
    event = _finish(config, {job})[job]
    cases = {("", None): None, ("T-2026-000124", None): "T-2026-000124",
             ("x T-2026-000125 y", None): "T-2026-000125", ("T-26-1", None): None,
             ("T-2026-000126", "T-2026-000127"): "T-2026-000127",
             ("no ticket", "junk"): None}
    for (name, option), expected in cases.items():
        assert ticket_ref(dataclasses.replace(event, job_name=name, ticket_option=option)) \
            == expected, (name, option)
    assert job_title("T-2026-000001", "", Purpose.FINAL) == "T-2026-000001"


def test_page_ranges_are_billed_as_selected(config: CupsConfig,
                                            documents: dict[str, Path]) -> None:
    job = submit(config, PrintRequest("ps", documents["3p-A4-mono"], "T-2026-000130",
                                      copies=2, sides=Sides.TWO_SIDED_LONG_EDGE,
                                      page_ranges=((2, 3),))).job_id
    event = _finish(config, {job})[job]
    assert event.page_ranges == ((2, 3),)
    assert (event.document_pages, event.billed_sides, event.billed_sheets) == (3, 4, 2)
    assert event.cups.impressions == 4  # the PostScript queue agrees here


def test_fallbacks_when_the_spooled_document_cannot_be_counted(
        cups_lab: CupsLab, config: CupsConfig, documents: dict[str, Path]) -> None:
    submitted = submit(config, PrintRequest("ps", documents["3p-A4-mono"], "T-2026-000131",
                                            copies=2)).job_id
    by_lp = _lp(cups_lab, "ps", documents["3p-A4-mono"], "-n", "2")
    events = _finish(config, {submitted, by_lp}, page_counter=lambda paths: [DocumentPages(p, None) for p in paths])
    assert events[submitted].page_count_source is PageCountSource.AT_SUBMIT
    assert (events[submitted].document_pages, events[submitted].billed_sides) == (3, 6)
    # Only CUPS' word is left; on the PostScript queue it happens to be right.
    assert events[by_lp].page_count_source is PageCountSource.CUPS_IMPRESSIONS
    assert (events[by_lp].document_pages, events[by_lp].billed_sides) == (None, 6)


def test_cancelled_job_is_recorded(cups_lab: CupsLab, config: CupsConfig,
                                   documents: dict[str, Path]) -> None:
    job = _lp(cups_lab, "ps", documents["3p-A4-mono"], "-H", "indefinite", "-t",
              "T-2026-000140 draft")
    subprocess.run(["cancel", "-h", str(cups_lab.socket), str(job)], check=True)
    event = _finish(config, {job})[job]
    assert event.outcome is JobOutcome.CANCELLED
    assert event.cups.impressions == 0 and event.document_pages == 3
    assert ticket_ref(event) == "T-2026-000140"


@pytest.mark.parametrize(("request_args", "reason"), [
    ({"queue": "nope"}, "queue 'nope' is not configured (configured: ps, pdf, raw)"),
    ({"ticket_id": "123"}, "ticket id must look like T-2026-000123, got '123'"),
    ({"copies": 0}, "copies must be 1-999, got 0"),
    ({"page_ranges": ((3, 2),)}, "page range 3-2 must satisfy 1 <= first <= last"),
    ({"document": Path("/nonexistent.pdf")}, "document /nonexistent.pdf is not a readable file"),
])
def test_submit_refuses(config: CupsConfig, documents: dict[str, Path],
                        request_args: dict[str, object], reason: str) -> None:
    args: dict[str, object] = {"queue": "ps", "document": documents["1p-A4-mono"],
                               "ticket_id": "T-2026-000150", **request_args}
    with pytest.raises(SubmitError) as info:
        submit(config, PrintRequest(**args))  # type: ignore[arg-type]
    assert str(info.value) == reason


def test_submit_to_a_configured_queue_missing_on_cupsd(cups_lab: CupsLab,
                                                       documents: dict[str, Path]) -> None:
    config = lab_config(cups_lab, queues=[{"name": "gone", "device": "d", "price_class": "p"}])
    with pytest.raises(SubmitError, match=r"queue 'gone' does not exist on /tmp/.*cups\.sock"):
        submit(config, PrintRequest("gone", documents["1p-A4-mono"], "T-2026-000151"))
