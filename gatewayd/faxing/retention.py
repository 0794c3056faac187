"""What the fax spool keeps, swept with the register (``RegisterKeeper``):

- a sent job's rendered pages: until the job has ended (plus ``[fax] keep_sent_days``);
- a received fax's pages: ``[fax] keep_days`` after it arrived (default: forever);
- an archived (unclaimed) fax's pages: moved to ``<spool>/fax/archive/<date>/``, never deleted
  for being archived.

Each deletion or move is in the audit trail; the register entries themselves are never deleted.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatewayd import audit
from gatewayd.audit import DAEMON
from gatewayd.faxing.jobs import FINAL
from gatewayd.models import FaxIncoming, FaxInState, FaxJob


@dataclass(frozen=True)
class Swept:
    sent_deleted: list[int]
    received_deleted: list[int]
    archived_moved: list[int]


def _pages(document: str) -> list[Path]:
    """A received fax's files: the TIFF and its page-1 PNG preview."""
    tiff = Path(document)
    return [tiff, tiff.with_suffix(".png")]


def sweep(session: Session, now: datetime, spool_dir: Path, *, keep_days: float, keep_sent_days: float) -> Swept:
    sent = []
    ended_before = now - timedelta(days=keep_sent_days)
    for job in session.scalars(select(FaxJob).where(
            FaxJob.state.in_([s.value for s in FINAL]), FaxJob.spool != "", FaxJob.finished_at <= ended_before)):
        Path(job.spool).unlink(missing_ok=True)
        audit.write(session, DAEMON, now, "fax_job.pages_deleted", "fax_job", str(job.id), {"spool": job.spool},
                    {"spool": "", "reason": f"job {job.state}; sent pages kept {keep_sent_days:g} days"})
        job.spool = ""
        sent.append(job.id)

    archive = spool_dir / "fax" / "archive"
    moved = []
    for entry in session.scalars(select(FaxIncoming).where(
            FaxIncoming.state == FaxInState.ARCHIVED.value, FaxIncoming.document_path != "")):
        if Path(entry.document_path).parent.parent == archive:
            continue
        day = archive / entry.received_at.date().isoformat()
        day.mkdir(parents=True, exist_ok=True)
        for page in _pages(entry.document_path):
            if page.exists():
                shutil.move(page, day / page.name)
        before = entry.document_path
        entry.document_path = str(day / Path(before).name)
        audit.write(session, DAEMON, now, "fax_in.pages_moved", "fax_in", str(entry.id), {"document_path": before},
                    {"document_path": entry.document_path, "reason": "archived unclaimed"})
        moved.append(entry.id)

    received = []
    if math.isfinite(keep_days):
        for entry in session.scalars(select(FaxIncoming).where(
                FaxIncoming.document_path != "", FaxIncoming.received_at < now - timedelta(days=keep_days))):
            for page in _pages(entry.document_path):
                page.unlink(missing_ok=True)
            audit.write(session, DAEMON, now, "fax_in.pages_deleted", "fax_in", str(entry.id),
                        {"document_path": entry.document_path},
                        {"document_path": "", "reason": f"received over keep_days ({keep_days:g}) ago"})
            entry.document_path = ""
            received.append(entry.id)
    session.flush()
    return Swept(sent, received, moved)
