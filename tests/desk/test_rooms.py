"""Meeting rooms: bookings without overlap, the checklist as due items, billing by booked time."""

from __future__ import annotations

import pytest

from tests.desk.conftest import Desk, Refused, local

BOARD = "Board Room 董事会议室"


@pytest.fixture
def rooms(desk: Desk) -> Desk:
    desk.post("/meeting-rooms", {"name": BOARD, "capacity": 12, "equipment": ["projector", "video conference"]})
    desk.post("/meeting-rooms", {"name": "Room 2", "capacity": 6})
    return desk


def _book(desk: Desk, start: str, end: str, room: str = BOARD, **more: object) -> dict:
    return desk.post("/bookings", {"room": room, "starts_at": local(start), "ends_at": local(end),
                                   "company": "Acme Trading Ltd", "contact_room": "1203", **more})


def test_booking_quoted_checklisted_and_billed_by_booked_time(rooms: Desk) -> None:
    b = _book(rooms, "2026-12-03T14:00:00", "2026-12-03T15:40:00", attendees=10,
              extras={"tea": 10, "projector": 1}, purpose="board meeting")
    assert b["state"] == "booked" and b["ticket_state"] == "open" and b["customer"] == "Acme Trading Ltd"
    assert b["quoted_total"] == "530.00"  # 100 min -> 2 h × 200.00 + 10 tea × 8.00 + projector 50.00
    due = {t["item"]: t["due_at"] for t in b["checklist"]}
    assert due == {"confirm": "2026-12-01T06:00:00+00:00", "request_form": "2026-12-01T06:00:00+00:00",
                   "setup": "2026-12-02T06:00:00+00:00", "equipment": "2026-12-02T06:00:00+00:00",
                   "access": "2026-12-03T05:00:00+00:00", "parking": "2026-12-03T05:00:00+00:00"}

    billed = rooms.post(f"/bookings/{b['id']}/bill")
    assert billed["state"] == "billed" and billed["ticket_state"] == "awaiting_customer" and billed["total"] == "530.00"
    # billed in advance, the meeting still needs preparing
    assert len([d for d in rooms.get("/due", within_hours=24 * 4)["items"] if d["ref"] == f"booking {b['id']}"]) == 6
    ticket = rooms.get(f"/tickets/{b['ticket']}")
    assert [(c["rule"], c["amount"]) for c in ticket["charges"]] == [
        (f"meeting_room.room_per_hour[{BOARD}]", "400.00"), ("meeting_room.extras[projector]", "50.00"),
        ("meeting_room.extras[tea]", "80.00")]
    assert "100 min in 30-min blocks = 2 h × 200.00 = 400.00" in ticket["charges"][0]["description"]
    with pytest.raises(Refused) as twice:
        rooms.post(f"/bookings/{b['id']}/bill")
    assert twice.value.status == 409 and len(rooms.get(f"/tickets/{b['ticket']}")["charges"]) == 3


def test_short_booking_charged_the_minimum_at_the_default_rate(rooms: Desk) -> None:
    b = _book(rooms, "2026-12-01T10:00:00", "2026-12-01T10:20:00", room="Room 2")
    assert rooms.post(f"/bookings/{b['id']}/bill")["total"] == "120.00"


@pytest.mark.parametrize(("start", "end", "room", "clashes"), [
    ("2026-12-03T15:00:00", "2026-12-03T16:00:00", BOARD, True),   # overlaps the end
    ("2026-12-03T13:00:00", "2026-12-03T14:01:00", BOARD, True),   # overlaps the start
    ("2026-12-03T14:15:00", "2026-12-03T14:45:00", BOARD, True),   # inside
    ("2026-12-03T12:00:00", "2026-12-03T18:00:00", BOARD, True),   # around
    ("2026-12-03T15:30:00", "2026-12-03T16:30:00", BOARD, False),  # back to back
    ("2026-12-03T13:00:00", "2026-12-03T14:00:00", BOARD, False),
    ("2026-12-03T14:00:00", "2026-12-03T15:30:00", "Room 2", False),  # another room
])
def test_overlapping_booking_refused_naming_the_other(rooms: Desk, start: str, end: str, room: str,
                                                       clashes: bool) -> None:
    first = _book(rooms, "2026-12-03T14:00:00", "2026-12-03T15:30:00")
    if not clashes:
        assert _book(rooms, start, end, room=room)["state"] == "booked"
        return
    with pytest.raises(Refused) as refused:
        _book(rooms, start, end, room=room)
    assert refused.value.status == 409 and f"booking {first['id']}, ticket {first['ticket']}" in refused.value.detail
    assert "is booked 2026-12-03 14:00 – 15:30" in refused.value.detail
    assert len(rooms.get("/bookings")) == 1 and len(rooms.get("/tickets")) == 1  # no stray ticket


def test_a_cancelled_booking_frees_the_room_and_cancels_its_ticket(rooms: Desk) -> None:
    first = _book(rooms, "2026-12-03T14:00:00", "2026-12-03T15:30:00")
    with pytest.raises(Refused):
        rooms.post(f"/bookings/{first['id']}/cancel", {"reason": " "})
    cancelled = rooms.post(f"/bookings/{first['id']}/cancel", {"reason": "meeting postponed"})
    assert cancelled["state"] == "cancelled" and cancelled["ticket_state"] == "cancelled"
    assert _book(rooms, "2026-12-03T14:00:00", "2026-12-03T15:30:00")["state"] == "booked"
    assert all(d["ref"] != f"booking {first['id']}" for d in rooms.get("/due", within_hours=24 * 7)["items"])
    with pytest.raises(Refused) as bill:
        rooms.post(f"/bookings/{first['id']}/bill")
    assert bill.value.status == 409


@pytest.mark.parametrize(("more", "status", "detail"), [
    ({"ends_at": local("2026-12-03T13:00:00")}, 422, "must be after starts_at"),
    ({"starts_at": local("2026-11-29T14:00:00"), "ends_at": local("2026-11-29T15:00:00")}, 422, "in the past"),
    ({"ends_at": local("2026-12-05T14:00:00")}, 422, "at most 24 hours, got 48"),
    ({"attendees": 13}, 422, "do not fit"),
    ({"extras": {"champagne": 2}}, 422, "meeting-room extra 'champagne'"),
    ({"extras": {"tea": -1}}, 422, "extras.tea must be a count"),
    ({"extras": {"tea": "many"}}, 422, "extras.tea must be a count"),
    ({"room": "Ballroom"}, 404, "no meeting room 'Ballroom'"),
    ({"company": None, "guest_name": ""}, 422, "needs a customer"),
    ({"contact_room": "0909"}, 422, "not one of Acme Trading Ltd's rooms"),
])
def test_bad_bookings_refused_with_a_reason(rooms: Desk, more: dict, status: int, detail: str) -> None:
    body = {"room": BOARD, "starts_at": local("2026-12-03T14:00:00"), "ends_at": local("2026-12-03T15:00:00"),
            "company": "Acme Trading Ltd", "contact_room": "1203", **more}
    with pytest.raises(Refused) as refused:
        rooms.post("/bookings", {k: v for k, v in body.items() if v is not None})
    assert refused.value.status == status and detail in refused.value.detail
    assert rooms.get("/bookings") == [] and rooms.get("/tickets") == []


def test_checklist_items_fall_due_and_are_ticked_by_their_departments(rooms: Desk) -> None:
    b = _book(rooms, "2026-12-03T14:00:00", "2026-12-03T16:00:00", guest_name="张先生", guest_phone="13800138000",
              company=None, contact_room="")
    ref = f"booking {b['id']}"
    assert [d for d in rooms.get("/due")["items"] if d["ref"] == ref] == []  # nothing within a day yet
    rooms.advance(days=1, hours=6)  # Tuesday 15:00 local: the 2-day items are late
    items = [d for d in rooms.get("/due")["items"] if d["ref"] == ref]
    assert {(d["who"], d["overdue"]) for d in items} == {("business centre", True), ("housekeeping", False),
                                                          ("engineering", False)}
    rooms.caller = rooms.caller.__class__("reception")
    ticked = rooms.post(f"/bookings/{b['id']}/checklist/confirm")
    assert next(t for t in ticked["checklist"] if t["item"] == "confirm")["done_by"] == "reception"
    with pytest.raises(Refused) as twice:
        rooms.post(f"/bookings/{b['id']}/checklist/confirm")
    assert twice.value.status == 409
    with pytest.raises(Refused) as unknown:
        rooms.post(f"/bookings/{b['id']}/checklist/coffee")
    assert unknown.value.status == 404 and "request_form" in unknown.value.detail
    remaining = {d["what"].split(":")[0] for d in rooms.get("/due")["items"] if d["ref"] == ref}
    assert "meeting confirmed with the customer" not in remaining and "service request form filled" in remaining
    late = rooms.get("/audit", entity="booking", id=str(b["id"]))[0]
    assert late["action"] == "booking.tick" and late["after"]["late"] is True


def test_bad_room_refused(rooms: Desk) -> None:
    with pytest.raises(Refused) as dup:
        rooms.post("/meeting-rooms", {"name": "Room 2", "capacity": 4})
    assert dup.value.status == 409
    with pytest.raises(Refused) as zero:
        rooms.post("/meeting-rooms", {"name": "Room 3", "capacity": 0})
    assert zero.value.status == 422
