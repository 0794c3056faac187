"""Complaints (客户投诉记录单) and tenant visits (客户访问记录单) through the API, clock injected."""

from __future__ import annotations

import pytest

from tests.desk.conftest import Desk, Refused


def _complaint(desk: Desk) -> dict:
    return desk.post("/complaints", {"complainant": "Ms Li", "company": "Acme Trading Ltd", "phone": "139 0000 1111",
                                     "subject": "fax to Hong Kong charged twice", "department": "business centre"})


def test_complaint_answered_in_time_then_closed_with_the_customers_view(desk: Desk) -> None:
    c = _complaint(desk)
    assert c["state"] == "open" and c["taken_by"] == "alice" and c["tenant"] == "Acme Trading Ltd"
    assert c["reply_due_at"] == "2026-12-03T01:00:00+00:00" and c["on_time"] is None  # 3 days
    desk.advance(hours=5)
    desk.post(f"/complaints/{c['id']}/follow-ups", {"note": "checked the register: one call, billed twice"})
    desk.advance(days=1)
    replied = desk.post(f"/complaints/{c['id']}/follow-ups", {"note": "refund of 24.00 agreed", "reply": True})
    assert replied["on_time"] is True and len(replied["follow_ups"]) == 2
    closed = desk.post(f"/complaints/{c['id']}/close", {"outcome": "refunded 24.00",
                                                        "customer_view": "satisfied 满意"})
    assert closed["state"] == "closed" and closed["customer_told_at"] == desk.now.isoformat()
    assert closed["customer_view"] == "satisfied 满意" and closed["on_time"] is True
    assert desk.get("/complaints", overdue="true") == []


def test_overdue_complaint_listed_once_its_reply_date_passes(desk: Desk) -> None:
    c = _complaint(desk)
    desk.advance(days=2, hours=23)
    assert desk.get("/complaints", overdue="true") == []
    assert not next(d for d in desk.get("/due")["items"] if d["ref"] == f"complaint {c['id']}")["overdue"]
    desk.advance(hours=1, minutes=1)
    overdue = desk.get("/complaints", overdue="true")
    assert [o["id"] for o in overdue] == [c["id"]] and overdue[0]["overdue"] is True
    item = next(d for d in desk.get("/due")["items"] if d["ref"] == f"complaint {c['id']}")
    assert item["overdue"] and item["who"] == "business centre" and item["kind"] == "complaint_reply"
    late = desk.post(f"/complaints/{c['id']}/follow-ups", {"note": "apologised, refund agreed", "reply": True})
    assert late["on_time"] is False and late["overdue"] is False
    assert desk.get("/complaints", overdue="true") == []


def test_a_closed_complaint_takes_no_reply_and_nothing_is_lost(desk: Desk) -> None:
    c = _complaint(desk)
    desk.post(f"/complaints/{c['id']}/close", {"outcome": "explained the tariff", "customer_view": "accepted"})
    for path, body in ((f"/complaints/{c['id']}/follow-ups", {"note": "more", "reply": True}),
                       (f"/complaints/{c['id']}/close", {"outcome": "again"})):
        with pytest.raises(Refused) as refused:
            desk.post(path, body)
        assert refused.value.status == 409 and "was closed" in refused.value.detail
    stored = desk.get(f"/complaints/{c['id']}")
    assert stored["outcome"] == "explained the tariff" and stored["follow_ups"] == []
    actions = [e["action"] for e in reversed(desk.get("/audit", entity="complaint", id=str(c["id"])))]
    assert actions == ["complaint.record", "complaint.close"]


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"complainant": "x", "subject": "y"}, 422, "department is required"),
    ({"complainant": " ", "subject": "y", "department": "d"}, 422, "complainant is required"),
    ({"complainant": "x", "subject": "y", "department": "d", "company": "No Such Co"}, 404, "no tenant company"),
    ({"complainant": "x", "subject": "y", "department": "d", "received_at": "2027-01-01T00:00:00+08:00"}, 422,
     "in the future"),
    ({"complainant": "x", "subject": "y", "department": "d", "received_at": "2026-11-30T09:00:00"}, 422,
     "UTC offset"),
])
def test_bad_complaints_refused(desk: Desk, body: dict, status: int, detail: str) -> None:
    with pytest.raises(Refused) as refused:
        desk.post("/complaints", body)
    assert refused.value.status == status and detail in refused.value.detail


def test_visit_opinion_needing_an_answer_is_due_in_writing_within_five_days(desk: Desk) -> None:
    plain = desk.post("/visits", {"company": "Borealis Consulting", "met": "Mr Wang", "opinions": "all fine"})
    assert plain["reply_due_at"] is None
    v = desk.post("/visits", {"company": "Acme Trading Ltd", "met": "Ms Li", "needs_reply": True,
                              "opinions": "wants the copier in the lobby repaired"})
    assert v["reply_due_at"] == "2026-12-05T01:00:00+00:00"
    desk.advance(days=5, minutes=1)
    due = next(d for d in desk.get("/due")["items"] if d["ref"] == f"visit {v['id']}")
    assert due["overdue"] and due["kind"] == "visit_reply"
    answered = desk.post(f"/visits/{v['id']}/reply", {"reply": "engineering replaced the fuser on 4 Dec"})
    assert answered["replied_by"] == "alice" and answered["overdue"] is False
    with pytest.raises(Refused) as twice:
        desk.post(f"/visits/{v['id']}/reply", {"reply": "again"})
    assert twice.value.status == 409
    with pytest.raises(Refused) as nothing_asked:
        desk.post(f"/visits/{plain['id']}/reply", {"reply": "?"})
    assert nothing_asked.value.status == 409 and "no opinion needing an answer" in nothing_asked.value.detail
    assert all(d["ref"] != f"visit {v['id']}" for d in desk.get("/due")["items"])
    with pytest.raises(Refused) as empty:
        desk.post("/visits", {"company": "Acme Trading Ltd", "needs_reply": True})
    assert empty.value.status == 422 and "opinions is empty" in empty.value.detail


def test_half_yearly_visit_comes_due(desk: Desk) -> None:
    desk.post("/visits", {"company": "Acme Trading Ltd", "opinions": "fine"})
    due = {d["ref"]: d for d in desk.get("/due", within_hours=24 * 200)["items"] if d["kind"] == "visit"}
    acme = next(d for d in due.values() if "Acme" in d["what"])
    assert acme["due_at"].startswith("2027-06-01") and not acme["overdue"]
    desk.advance(days=184)
    desk.api.checkup.check()  # as the daemon does every few seconds
    assert desk.get("/status")["due"]["overdue"] >= 2  # both tenants are due a visit
