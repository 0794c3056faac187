"""The fax job's state table (gatewayd/faxing/jobs.py): whole, and driven through the store as
the driver's reports and the stored call records drive it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drivers.fax.config import RetryPolicy
from drivers.fax.record import HangupCode
from gatewayd import db
from gatewayd.audit import Caller
from gatewayd.errors import Conflict
from gatewayd.faxing import jobs
from gatewayd.faxing.calls import SentFax, decode_call
from gatewayd.ledger import Ledger
from gatewayd.models import FaxJob, FaxJobState

S = FaxJobState
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
POLICY = RetryPolicy(busy_s=180, other_s=300, max_tries=3)
DESK = Caller("desk")


def test_every_state_is_in_the_table_and_every_active_job_can_end():
    named = {s for sources, targets in jobs.TRANSITIONS.values() for s in sources | targets}
    assert named == set(S)
    ends = set(jobs.FINAL)
    grew = True
    while grew:  # states from which some path reaches an end
        before = len(ends)
        ends |= {s for sources, targets in jobs.TRANSITIONS.values() if targets & ends for s in sources}
        grew = len(ends) > before
    assert ends == set(S)
    # An ended job stays ended; the one exception: a cancelled call that got every page through.
    leaving_final = {a for a, (sources, _) in jobs.TRANSITIONS.items() if sources & jobs.FINAL}
    assert leaving_final == {"delivered_anyway"}


@pytest.mark.parametrize("code, tries, delivered, state, delay, reason", [
    (HangupCode.NORMAL, 1, 2, S.DONE, None, ""),
    (HangupCode.BUSY, 1, 0, S.RETRY_WAIT, 180, "why"),
    (HangupCode.CARRIER_LOST, 1, 1, S.RETRY_WAIT, 300, "why (1 of 2 pages delivered)"),
    (HangupCode.RTN_REFUSED, 1, 1, S.RETRY_WAIT, 0, "why (1 of 2 pages delivered): sending it again"),
    (HangupCode.RTN_REFUSED, 3, 1, S.FAILED, None, "why (1 of 2 pages delivered); gave up after 3 tries"),
    (HangupCode.INCOMPATIBLE, 1, 0, S.FAILED, None, "why"),
])
def test_next_step(code, tries, delivered, state, delay, reason):
    job = FaxJob(pages=2, pages_delivered=delivered, tries=tries)
    got = jobs.next_step(POLICY, job, code, "why", NOW)
    assert got == (state, None if delay is None else NOW + timedelta(seconds=delay), reason)


@pytest.fixture
def ledger(db_url: str) -> Ledger:
    engine = db.make_engine(db_url)
    db.migrate(engine)
    return Ledger(db.session_factory(engine), UTC, clock=lambda: NOW)


def call(job_id: int, call_id: str, code: str, *delivered: int, pages: tuple[int, ...] = (1, 2)) -> tuple[str, SentFax]:
    """A job's call as the ledger hands it to the job: its call id and the record decoded."""
    record = decode_call({"job_id": str(job_id), "call_id": call_id, "direction": "outgoing", "number": "5550199",
                          "status": "completed", "dialled_at": NOW.isoformat(),
                          "hangup": {"code": code, "reason": f"{code} reason"},
                          "pages": [{"page": n, "delivered": n in delivered} for n in pages]})
    assert isinstance(record, SentFax)
    return call_id, record


def test_a_job_retried_after_rtn_refused_then_done(ledger: Ledger):
    ticket = ledger.open_ticket(DESK, kind="fax_out", guest_name="Mr Chan")["id"]
    with ledger.transaction() as s:
        job = jobs.create(s, DESK, NOW, ticket, modem="fax1", number="0085221234567", dial="9,0085221234567",
                          e164="+85221234567", spool="/spool/x.tif", pages=2)
        job_id = job.id
    with ledger.transaction() as s:
        jobs.call_started(s, DESK, NOW, str(job_id))
        jobs.call_ended(s, DESK, NOW, POLICY, *call(job_id, "c1", "RTN resend refused", 1))
        job = jobs.find(s, job_id)
        assert (job.state, job.tries, job.next_try_at, jobs.pages_to_send(job)) == ("retry_wait", 1, NOW, (2,))
        jobs.call_ended(s, DESK, NOW, POLICY, *call(job_id, "c1", "RTN resend refused", 1))  # again: no-op
        assert jobs.find(s, job_id).tries == 1
    with ledger.transaction() as s:
        assert [j.id for j in jobs.due(s, DESK, NOW)] == [job_id]
        assert jobs.find(s, job_id).state == "queued" and jobs.due(s, DESK, NOW) == []
        jobs.call_started(s, DESK, NOW, str(job_id))
        jobs.call_ended(s, DESK, NOW, POLICY, *call(job_id, "c2", "normal", 2, pages=(2,)))
        job = jobs.find(s, job_id)
        assert (job.state, job.tries, job.delivered, job.finished_at) == ("done", 2, {"pages": [1, 2]}, NOW)
        assert job.ticket.state == "awaiting_customer"
        with pytest.raises(Conflict, match="is done"):
            jobs.cancel(s, DESK, NOW, job, "too late")


def test_a_cancelled_job_ignores_the_call_that_was_starting_and_counts_its_pages(ledger: Ledger):
    ticket = ledger.open_ticket(DESK, kind="fax_out", guest_name="Mr Chan")["id"]
    with ledger.transaction() as s:
        job = jobs.create(s, DESK, NOW, ticket, modem="fax1", number="5550199", dial="5550199",
                          e164="+862155550199", spool="/spool/y.tif", pages=2)
        jobs.cancel(s, DESK, NOW, job, "cancelled by staff")
        jobs.call_started(s, DESK, NOW, str(job.id))  # the driver had just begun the call
        jobs.call_ended(s, DESK, NOW, POLICY, *call(job.id, "c1", "modem error", 1))
        assert (job.state, job.tries, job.pages_delivered) == ("cancelled", 0, 1)
        jobs.call_ended(s, DESK, NOW, POLICY, *call(job.id, "c2", "normal", 2))  # got through after all
        assert job.state == "done" and job.reason == "every page delivered before the call was cut short"
