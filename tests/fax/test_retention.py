"""The fax spool's retention on the real store (SQLite and PostgreSQL) and real files: sent pages go
when their job has ended, received pages stay until ``keep_days`` (default forever), an archived
fax's pages are moved, not lost — each step in the audit trail."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gatewayd import audit, db
from gatewayd.audit import Caller
from gatewayd.faxing import incoming, jobs, retention
from gatewayd.ledger import Ledger
from gatewayd.models import FaxIncoming, FaxInState, FaxJob

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
DESK = Caller("desk")


@pytest.fixture
def ledger(db_url: str) -> Ledger:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    return Ledger(db.session_factory(engine), ZoneInfo("Asia/Shanghai"), clock=lambda: NOW)


def _job(ledger: Ledger, spool: Path, name: str, state: jobs.S, ended_days_ago: float | None) -> int:
    pages = spool / "fax" / "out" / f"{name}.tif"
    pages.parent.mkdir(parents=True, exist_ok=True)
    pages.write_bytes(b"II*\x00 pages of " + name.encode())
    ticket = ledger.open_ticket(DESK, kind="fax_out", guest_name="陈先生", guest_phone="13900001111")
    with ledger.transaction() as s:
        job = jobs.create(s, DESK, NOW, ticket["id"], modem="fax1", number="0085221234567",
                          dial="90085221234567", e164="+85221234567", spool=str(pages), pages=1)
        job.state = state.value
        job.finished_at = NOW - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
        return job.id


def _received(ledger: Ledger, spool: Path, call: str, days_ago: float, state: FaxInState) -> int:
    at = NOW - timedelta(days=days_ago)
    tiff = spool / "fax" / "in" / at.date().isoformat() / f"{call}.tif"
    tiff.parent.mkdir(parents=True, exist_ok=True)
    tiff.write_bytes(b"II*\x00 received " + call.encode())
    tiff.with_suffix(".png").write_bytes(b"\x89PNG preview")
    with ledger.transaction() as s:
        entry = FaxIncoming(call_id=call, device="fax1", received_at=at, pages=1, call_status="ok",
                            state=state.value, document_path=str(tiff))
        s.add(entry)
        s.flush()
        return entry.id


def actions(ledger: Ledger, entity: str, entity_id: int) -> list[str]:
    with ledger.transaction() as s:
        return [e.action for e in sorted(s.scalars(audit.listing(entity, str(entity_id))), key=lambda e: e.id)]


def _sweep(ledger: Ledger, spool: Path, **keep: float) -> retention.Swept:
    with ledger.transaction() as s:
        return retention.sweep(s, NOW, spool, **{"keep_days": math.inf, "keep_sent_days": 0.0, **keep})


def test_sent_pages_go_when_the_job_has_ended_not_before(ledger: Ledger, tmp_path: Path) -> None:
    done = _job(ledger, tmp_path, "done", jobs.S.DONE, ended_days_ago=0)
    cancelled = _job(ledger, tmp_path, "cancelled", jobs.S.CANCELLED, ended_days_ago=0.1)
    waiting = _job(ledger, tmp_path, "retry", jobs.S.RETRY_WAIT, ended_days_ago=None)
    assert sorted(_sweep(ledger, tmp_path).sent_deleted) == sorted([done, cancelled])
    assert not (tmp_path / "fax/out/done.tif").exists() and not (tmp_path / "fax/out/cancelled.tif").exists()
    assert (tmp_path / "fax/out/retry.tif").exists()  # still to be sent
    with ledger.transaction() as s:
        assert s.get(FaxJob, done).spool == "" and s.get(FaxJob, waiting).spool.endswith("retry.tif")
    assert "fax_job.pages_deleted" in actions(ledger, "fax_job", done)
    assert _sweep(ledger, tmp_path).sent_deleted == []  # once


def test_sent_pages_kept_n_days_when_configured(ledger: Ledger, tmp_path: Path) -> None:
    recent = _job(ledger, tmp_path, "recent", jobs.S.FAILED, ended_days_ago=2)
    old = _job(ledger, tmp_path, "old", jobs.S.DONE, ended_days_ago=4)
    assert _sweep(ledger, tmp_path, keep_sent_days=3).sent_deleted == [old]
    assert (tmp_path / "fax/out/recent.tif").exists() and recent


def test_received_faxes_are_kept_forever_by_default_and_for_keep_days_when_set(ledger: Ledger, tmp_path: Path) -> None:
    old = _received(ledger, tmp_path, "call-old", days_ago=400, state=FaxInState.ASSIGNED)
    new = _received(ledger, tmp_path, "call-new", days_ago=10, state=FaxInState.ASSIGNED)
    assert _sweep(ledger, tmp_path).received_deleted == []
    assert len(list((tmp_path / "fax/in").rglob("*.tif"))) == 2

    assert _sweep(ledger, tmp_path, keep_days=365).received_deleted == [old]
    assert [p.name for p in (tmp_path / "fax/in").rglob("*.*")] and not list((tmp_path / "fax/in").rglob("call-old.*"))
    with ledger.transaction() as s:
        assert s.get(FaxIncoming, old).document_path == "" and s.get(FaxIncoming, old).pages == 1  # the entry stays
        assert s.get(FaxIncoming, new).document_path.endswith("call-new.tif")
    assert "fax_in.pages_deleted" in actions(ledger, "fax_in", old)


def test_an_archived_fax_is_moved_with_its_preview_not_lost(ledger: Ledger, tmp_path: Path) -> None:
    entry = _received(ledger, tmp_path, "call-nobody", days_ago=5, state=FaxInState.PENDING)
    with ledger.transaction() as s:
        assert incoming.archive_unclaimed(s, NOW, 3) == [entry]
    assert _sweep(ledger, tmp_path).archived_moved == [entry]
    day = tmp_path / "fax" / "archive" / (NOW - timedelta(days=5)).date().isoformat()
    assert (day / "call-nobody.tif").read_bytes() == b"II*\x00 received call-nobody"
    assert (day / "call-nobody.png").exists() and not list((tmp_path / "fax/in").rglob("call-nobody.*"))
    with ledger.transaction() as s:
        assert s.get(FaxIncoming, entry).document_path == str(day / "call-nobody.tif")
    assert _sweep(ledger, tmp_path).archived_moved == []  # once
    assert "fax_in.pages_moved" in actions(ledger, "fax_in", entry)
