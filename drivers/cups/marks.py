"""How a print job carries its ticket: in the job name and in the ``job-account-id`` attribute.

The name is what staff see in any CUPS tool; the attribute survives a user renaming the title
and is what :func:`ticket_ref` trusts first.
"""

from __future__ import annotations

import re

from drivers.cups.events import PrintJobFinished, Purpose

#: Ticket ids as gatewayd numbers them: ``T-<year>-<serial>``.
TICKET_ID = re.compile(r"\bT-\d{4}-\d{6,}\b")


def job_title(ticket_id: str, title: str, purpose: Purpose) -> str:
    """``T-2026-000123 Lease contract [proof]``: ticket first so truncated names keep it."""
    suffix = " [proof]" if purpose is Purpose.PROOF else ""
    return f"{ticket_id} {title}{suffix}".strip()


def is_ticket_id(value: str) -> bool:
    return TICKET_ID.fullmatch(value) is not None


def ticket_ref(job: PrintJobFinished) -> str | None:
    """The ticket a finished job was printed for: the job option first, then the job name."""
    for text in (job.ticket_option or "", job.job_name):
        m = TICKET_ID.search(text)
        if m:
            return m.group(0)
    return None
