"""The mail register (信件记录本) through the API on SQLite and PostgreSQL, clock injected."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from tests.desk.conftest import Desk, Refused


def test_letters_sorted_by_the_roster_and_counted_per_pigeonhole(desk: Desk) -> None:
    desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd", "room": "1203", "count": 5})
    desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd", "room": "1205", "count": 2})
    flagged = desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd", "room": "1501", "count": 1})
    by_room = desk.post("/mail", {"kind": "letter", "company": "Acme Trade", "room": "1501", "count": 3})
    nobody = desk.post("/mail", {"kind": "letter", "company": "Gone Ltd", "room": "0909", "count": 1})

    assert flagged["state"] == "pigeonholed" and flagged["tenant"] == "Acme Trading Ltd"
    assert "room 1501 is Borealis Consulting's, not Acme Trading Ltd's" in flagged["mismatch"]
    assert by_room["tenant"] == "Borealis Consulting" and "'Acme Trade' is not on the roster" in by_room["mismatch"]
    assert nobody["state"] == "held" and nobody["tenant"] is None  # 查无此人

    holes = desk.get("/mail/pigeonholes", date="2026-11-30")
    assert holes == [
        {"tenant": "Acme Trading Ltd", "rooms": "1203,1205", "letters": 8, "flagged_batches": 1},
        {"tenant": "Borealis Consulting", "rooms": "1501", "letters": 3, "flagged_batches": 1},
    ]
    assert desk.get("/mail/pigeonholes", date="2026-12-01") == []


def test_registered_letter_notified_then_picked_up_with_id_type_and_last_digits(desk: Desk) -> None:
    item = desk.post("/mail", {"kind": "registered", "company": "Acme Trading Ltd", "room": "1203",
                               "addressee": "Ms Li", "tracking": "RR123456789CN"})
    assert item["state"] == "waiting" and item["notified_at"] == desk.now.isoformat()
    to_call = desk.get("/mail/to-call")
    assert [(c["id"], c["call"], c["phone"]) for c in to_call] == [(item["id"], "Ms Li", "021-5555-0101")]
    desk.post(f"/mail/{item['id']}/called")
    assert desk.get("/mail/to-call") == []

    desk.advance(hours=2)
    done = desk.post(f"/mail/{item['id']}/pick-up", {"collected_by": "李明", "id_type": "resident_id",
                                                      "id_last_digits": "123x"})
    assert done["state"] == "picked_up" and done["picked_up_by"] == "李明"
    assert (done["id_type"], done["id_last_digits"], done["handed_over_by"]) == ("resident_id", "123X", "alice")
    trail = desk.get("/audit", entity="mail", id=str(item["id"]))
    assert [e["action"] for e in reversed(trail)] == ["mail.log", "mail.called", "mail.pick_up"]
    with pytest.raises(Refused) as again:
        desk.post(f"/mail/{item['id']}/pick-up", {"collected_by": "x", "id_type": "passport", "id_last_digits": "1234"})
    assert again.value.status == 409 and "picked_up" in again.value.detail


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"collected_by": "李明"}, 422, "id_type is required"),
    ({"collected_by": "李明", "id_type": "resident_id", "id_last_digits": "310101199001011234"}, 422,
     "record only the last 4 characters"),
    ({"collected_by": "李明", "id_type": "resident_id", "id_last_digits": "1"}, 422, "last 2-4 letters or digits"),
    ({"collected_by": "李明", "id_type": "library_card", "id_last_digits": "1234"}, 422, "id_type must be one of"),
    ({"collected_by": " ", "id_type": "passport", "id_last_digits": "1234"}, 422, "collected_by"),
])
def test_pickup_refused_without_a_proper_identity_record(desk: Desk, body: dict, status: int, detail: str) -> None:
    item = desk.post("/mail", {"kind": "ems", "company": "Borealis Consulting", "room": "1501"})
    with pytest.raises(Refused) as refused:
        desk.post(f"/mail/{item['id']}/pick-up", body)
    assert refused.value.status == status and detail in refused.value.detail
    stored = desk.get(f"/mail/{item['id']}")
    assert stored["state"] == "waiting" and stored["id_last_digits"] == ""  # nothing of the number kept


def test_unknown_recipient_held_then_on_the_return_list_after_the_hold_period(desk: Desk) -> None:
    item = desk.post("/mail", {"kind": "parcel_notice", "company": "Nobody Here Ltd", "room": "0101"})
    assert item["state"] == "held" and desk.get("/mail/to-return") == []
    with pytest.raises(Refused) as early:
        desk.post(f"/mail/{item['id']}/return")
    assert early.value.status == 409 and "held until" in early.value.detail
    due = desk.get("/due", within_hours=24 * 4)["items"]
    assert any(d["ref"] == f"mail {item['id']}" and not d["overdue"] for d in due)

    desk.advance(days=3, minutes=1)  # the hold period (desk.mail_hold_days = 3) is over
    assert [m["id"] for m in desk.get("/mail/to-return")] == [item["id"]]
    assert any(d["ref"] == f"mail {item['id']}" and d["overdue"] for d in desk.get("/due")["items"])
    returned = desk.post(f"/mail/{item['id']}/return")
    assert returned["state"] == "returned" and returned["returned_by"] == "alice"
    assert desk.get("/mail/to-return") == []
    assert desk.get(f"/mail/{item['id']}")["state"] == "returned"  # kept in the register


def test_the_addressee_turns_up_before_the_return(desk: Desk) -> None:
    item = desk.post("/mail", {"kind": "remittance", "addressee": "陈先生", "company": "Unknown Co"})
    desk.advance(days=1)
    done = desk.post(f"/mail/{item['id']}/pick-up", {"collected_by": "陈先生", "id_type": "passport",
                                                      "id_last_digits": "E12"})
    assert done["state"] == "picked_up"
    assert desk.get("/mail/to-return") == []


@pytest.mark.parametrize(("body", "detail"), [
    ({"kind": "registered", "company": "Acme Trading Ltd", "count": 3}, "logged one by one"),
    ({"kind": "letter"}, "say whom the mail is for"),
    ({"kind": "telegram", "company": "Acme Trading Ltd"}, "kind must be one of"),
    ({"kind": "letter", "company": "Acme Trading Ltd", "count": 0}, "count must be at least 1"),
    ({"kind": "letter", "company": "A" * 201}, "longer than 200"),
])
def test_bad_mail_entries_are_refused_with_a_reason(desk: Desk, body: dict, detail: str) -> None:
    with pytest.raises(Refused) as refused:
        desk.post("/mail", body)
    assert refused.value.status == 422 and detail in refused.value.detail
    assert desk.get("/mail") == []


NOTIFY = Path(__file__).with_name("notify_record.py")


@pytest.mark.parametrize("desk_extra", [f'notify_command = ["{sys.executable}", "{NOTIFY}"]'])
def test_accountable_item_runs_the_notify_command_after_commit(desk: Desk, tmp_path: Path, monkeypatch) -> None:
    record = tmp_path / "notified.jsonl"
    monkeypatch.setenv("NOTIFY_RECORD", str(record))
    desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd", "count": 3})  # letters: no call
    desk.post("/mail", {"kind": "ems", "company": "Nobody Ltd"})  # 查无此人: nobody to tell
    item = desk.post("/mail", {"kind": "parcel_notice", "company": "Acme Trading Ltd", "room": "1205",
                               "tracking": "PN-0042"})
    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # any other (wrong) command would have run by now too
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [c["argv"] for c in calls] == [["mail", str(item["id"]), "parcel_notice", "Acme Trading Ltd"]]
    env = calls[0]["env"]
    assert (env["GATEWAYD_MAIL_CONTACT"], env["GATEWAYD_MAIL_PHONE"], env["GATEWAYD_MAIL_TRACKING"]) == (
        "Ms Li", "021-5555-0101", "PN-0042")


@pytest.mark.parametrize("path", ["/mail/{id}", "/complaints/{id}"])
def test_register_entries_cannot_be_deleted(desk: Desk, path: str) -> None:
    item = desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd"})
    complaint = desk.post("/complaints", {"complainant": "x", "subject": "y", "department": "d"})
    target = path.format(id=item["id"] if path.startswith("/mail") else complaint["id"])
    status, _ = desk.request_raw("DELETE", target)
    assert status == 405
    assert desk.get(target)["id"] in (item["id"], complaint["id"])


def test_the_register_pages_without_skipping_or_repeating(desk: Desk) -> None:
    logged = [desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd", "count": n})["id"]
              for n in range(1, 6)]
    status, body, headers = desk.exchange("GET", "/mail?limit=2")
    assert status == 200 and len(json.loads(body)) == 2 and headers["x-total-count"] == "5"
    rows, pages = desk.every_page("/mail?limit=2&kind=letter")
    assert [r["id"] for r in rows] == logged and pages == 3
