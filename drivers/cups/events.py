"""The event the CUPS driver emits: one per job that reached a final state."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


class JobOutcome(enum.Enum):
    """The final IPP job state; cancelled and aborted jobs are recorded too (billing decides)."""

    #: job-state 9: every copy went to the device.
    COMPLETED = "completed"
    #: job-state 7: cancelled by a user or the operator (possibly after some pages printed).
    CANCELLED = "cancelled"
    #: job-state 8: aborted by the system, e.g. "Filter failed" or a backend error.
    ABORTED = "aborted"


class Sides(enum.Enum):
    ONE_SIDED = "one-sided"
    TWO_SIDED_LONG_EDGE = "two-sided-long-edge"
    TWO_SIDED_SHORT_EDGE = "two-sided-short-edge"

    @property
    def duplex(self) -> bool:
        return self is not Sides.ONE_SIDED


class ColourMode(enum.Enum):
    COLOUR = "color"
    MONOCHROME = "monochrome"


class Purpose(enum.Enum):
    """Why the job was printed, as marked by :func:`drivers.cups.submit.submit`."""

    #: A draft the customer checks and corrects (the typing procedure's proof print).
    PROOF = "proof"
    #: The print the customer takes away.
    FINAL = "final"


class PageCountSource(enum.Enum):
    """Where ``document_pages`` came from; see :mod:`drivers.cups.pages` for why."""

    #: Counted from the spooled document fetched with CUPS-Get-Document.
    SPOOLED_DOCUMENT = "spooled-document"
    #: Counted by :func:`submit` before sending, carried in the ``gatewayd-pages`` job option.
    AT_SUBMIT = "at-submit"
    #: Neither was available: CUPS' own impressions, trusted only for lack of anything better.
    CUPS_IMPRESSIONS = "cups-impressions"


@dataclass(frozen=True)
class CupsFigures:
    """What CUPS itself said, kept beside our count for the reconciliation report."""

    #: job-impressions-completed from Get-Job-Attributes (0 on raw queues; counts the blank
    #: side a PDF-PPD queue pads per duplex copy).
    impressions: int
    #: job-media-sheets-completed (computed by CUPS as impressions/2: wrong for odd counts).
    sheets: int
    #: job-impressions-completed of the job-completed notification, which is really sheets.
    notified_impressions: int | None = None


@dataclass(frozen=True)
class PrintJobFinished:
    kind: ClassVar[str] = "print_job"

    #: The physical device the queue prints on (its configured name); the queue's own name when
    #: the queue is not in the config, so unconfigured queues still show up as unattributed use.
    device: str
    #: When CUPS finished the job (time-at-completed), UTC.
    occurred_at: datetime
    #: The cupsd as configured (socket path or host:port): job ids are unique per cupsd.
    server: str
    queue: str
    job_id: int
    job_name: str
    user: str
    host: str
    outcome: JobOutcome
    #: job-printer-state-message at the end, e.g. "Filter failed".
    state_message: str
    document_format: str
    copies: int
    sides: Sides
    #: PWG media name, e.g. ``iso_a4_210x297mm``.
    media: str
    colour: ColourMode
    number_up: int
    #: Inclusive 1-based page ranges asked for; empty means the whole document.
    page_ranges: tuple[tuple[int, int], ...]
    #: The ticket id carried in the ``job-account-id`` attribute, if any.
    ticket_option: str | None
    purpose: Purpose | None
    price_class: str | None
    created_at: datetime | None
    processing_at: datetime | None
    #: Pages of the document(s) as submitted; None when it could not be counted.
    document_pages: int | None
    page_count_source: PageCountSource
    #: Printed sides to bill: see :mod:`drivers.cups.pages`.
    billed_sides: int
    #: Sheets of paper used (what the price list calls a duplex "sheet").
    billed_sheets: int
    cups: CupsFigures

    @property
    def natural_key(self) -> str:
        completed = int(self.occurred_at.timestamp())
        return f"{self.server}/{self.queue}/{self.job_id}/{completed}"
