"""Newspapers and periodicals (报刊) through the API on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.desk.conftest import Desk, Refused


@pytest.fixture
def papers(desk: Desk) -> Desk:
    desk.post("/papers/subscriptions", {"company": "Acme Trading Ltd", "title": "解放日报", "copies": 2,
                                        "starts_on": "2026-01-01", "ends_on": "2026-12-31"})
    desk.post("/papers/subscriptions", {"company": "Borealis Consulting", "title": "解放日报", "copies": 1,
                                        "starts_on": "2026-07-01", "ends_on": "2026-12-31"})
    desk.post("/papers/subscriptions", {"company": "Borealis Consulting", "title": "China Daily", "copies": 1,
                                        "starts_on": "2026-01-01", "ends_on": "2026-11-29"})  # ended yesterday
    return desk


def test_delivery_checked_against_subscriptions_with_shortfall_and_surplus_recorded(papers: Desk) -> None:
    sheet = papers.get("/papers/day", date="2026-11-30")
    assert sheet["expected"] == {"解放日报": 3}
    short = papers.post("/papers/deliveries", {"title": "解放日报", "received": 2, "date": "2026-11-30"})
    assert (short["expected"], short["shortfall"], short["surplus"]) == (3, 1, 0)
    extra = papers.post("/papers/deliveries", {"title": "China Daily", "received": 1})  # today; nobody's now
    assert (extra["expected"], extra["surplus"]) == (0, 1)
    assert [(d["title"], d["shortfall"], d["surplus"]) for d in papers.get("/papers/discrepancies")] == [
        ("China Daily", 0, 1), ("解放日报", 1, 0)]
    with pytest.raises(Refused) as twice:
        papers.post("/papers/deliveries", {"title": "解放日报", "received": 3, "date": "2026-11-30"})
    assert twice.value.status == 409 and "already checked" in twice.value.detail
    assert papers.get("/papers/day", date="2026-11-30")["deliveries"][1]["received"] == 2  # the first count kept


def test_copies_held_for_an_absent_tenant_and_handed_over_later(papers: Desk) -> None:
    held = papers.post("/papers/holds", {"company": "Acme Trading Ltd", "title": "解放日报", "copies": 2})
    assert held["day"] == "2026-11-30" and held["handed_at"] is None
    with pytest.raises(Refused) as too_many:
        papers.post("/papers/holds", {"company": "Borealis Consulting", "title": "解放日报", "copies": 2})
    assert too_many.value.status == 422 and "subscribes to 1 copies" in too_many.value.detail
    papers.advance(days=2)
    assert [h["id"] for h in papers.get("/papers/holds")] == [held["id"]]
    done = papers.post(f"/papers/holds/{held['id']}/hand-over", {"handed_to": "Ms Li"})
    assert done["handed_to"] == "Ms Li" and done["handed_by"] == "alice" and done["handed_at"] == papers.now.isoformat()
    assert papers.get("/papers/holds") == []
    with pytest.raises(Refused) as again:
        papers.post(f"/papers/holds/{held['id']}/hand-over", {"handed_to": "Ms Li"})
    assert again.value.status == 409
    actions = [e["action"] for e in reversed(papers.get("/audit", entity="paper_hold"))]
    assert actions == ["paper.hold", "paper.hand_over"]


def test_added_subscription_is_an_errand_ticket_priced_by_the_list(papers: Desk) -> None:
    sub = papers.post("/papers/subscriptions", {"company": "Acme Trading Ltd", "title": "财经 Caijing", "copies": 1,
                                                "starts_on": "2027-01-01", "ends_on": "2027-12-31", "fee": "480.00"})
    ticket = papers.get(f"/tickets/{sub['ticket']}")
    assert ticket["kind"] == "errand" and ticket["tenant"] == "Acme Trading Ltd"
    assert [c["rule"] for c in ticket["charges"]] == ["errand.fee", "errand.service_charge"]
    assert ticket["total"] == "514.00"  # 480.00 + 10.00 + 5 % of 480.00
    assert papers.get("/papers/subscriptions", date="2027-03-01")[0]["ticket"] == sub["ticket"]


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"starts_on": "2026-12-31", "ends_on": "2026-01-01"}, 422, "before starts_on"),
    ({"starts_on": "2026-02-30"}, 422, "starts_on must be a local date"),
    ({"company": "Nobody Ltd"}, 404, "no tenant company"),
    ({"copies": 0}, 422, "copies must be at least 1"),
    ({"title": "   "}, 422, "title is required"),
    ({"fee": "-5"}, 422, "fee"),
])
def test_bad_subscriptions_refused(papers: Desk, body: dict, status: int, detail: str) -> None:
    base = {"company": "Acme Trading Ltd", "title": "新民晚报", "copies": 1, "starts_on": "2026-01-01",
            "ends_on": "2026-12-31"}
    with pytest.raises(Refused) as refused:
        papers.post("/papers/subscriptions", {**base, **body})
    assert refused.value.status == status and detail in refused.value.detail
    assert len(papers.get("/papers/subscriptions")) == 3 and papers.get("/tickets") == []
