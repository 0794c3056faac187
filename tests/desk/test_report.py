"""The desk's figures in the monthly report: meeting rooms, mail, complaints."""

from __future__ import annotations

import csv
import io

from gatewayd import reports
from tests.desk.conftest import Desk, local


def test_monthly_report_adds_meeting_rooms_mail_and_complaints(desk: Desk) -> None:
    desk.post("/meeting-rooms", {"name": "Board Room 董事会议室", "capacity": 12})
    desk.post("/meeting-rooms", {"name": "Room 2", "capacity": 6})
    billed = desk.post("/bookings", {"room": "Board Room 董事会议室", "starts_at": local("2026-11-30T14:00:00"),
                                     "ends_at": local("2026-11-30T17:00:00"), "company": "Acme Trading Ltd",
                                     "extras": {"tea": 5}})
    desk.post(f"/bookings/{billed['id']}/bill")  # 3 h × 200.00 + 5 × 8.00 = 640.00
    cancelled = desk.post("/bookings", {"room": "Room 2", "starts_at": local("2026-11-30T10:00:00"),
                                        "ends_at": local("2026-11-30T11:00:00"), "guest_name": "张先生"})
    desk.post(f"/bookings/{cancelled['id']}/cancel", {"reason": "no-show"})
    desk.post("/bookings", {"room": "Room 2", "starts_at": local("2026-12-01T10:00:00"),  # December's
                            "ends_at": local("2026-12-01T12:00:00"), "guest_name": "张先生"})

    desk.post("/mail", {"kind": "letter", "company": "Acme Trading Ltd", "count": 7})
    desk.post("/mail", {"kind": "registered", "company": "Acme Trading Ltd"})
    desk.post("/mail", {"kind": "ems", "company": "Nobody Ltd"})
    on_time = desk.post("/complaints", {"complainant": "Ms Li", "subject": "noise", "department": "engineering"})
    desk.post(f"/complaints/{on_time['id']}/follow-ups", {"note": "fixed", "reply": True})
    desk.post("/complaints", {"complainant": "Mr Wang", "subject": "late fax", "department": "business centre"})

    report = desk.get("/reports/monthly/2026-11")["desk"]
    assert report["meeting_rooms"] == [
        {"room": "Board Room 董事会议室", "bookings": 1, "booked_hours": "3.00", "occupancy_percent": "1.0",
         "revenue": "640.00"},  # 3 h of 30 days × 10 h
        {"room": "Room 2", "bookings": 0, "booked_hours": "0.00", "occupancy_percent": "0.0", "revenue": "0.00"}]
    assert report["meeting_room_revenue"] == "640.00"
    assert report["mail"] == {"ems": 1, "letter": 7, "registered": 1, "returned_to_post": 0, "unknown_recipient": 1}
    # Mr Wang's is due 3 December: not yet overdue at the end of November
    assert report["complaints"] == {"received": 2, "replied": 1, "replied_on_time": 1, "overdue_at_month_end": 0}
    assert desk.get("/reports/monthly/2026-12")["desk"]["complaints"]["overdue_at_month_end"] == 1

    with desk.api.ledger.transaction() as s:
        built = reports.build(s, "2026-11", desk.api.ledger.timezone)
    rows = list(csv.reader(io.StringIO(reports.to_csv(built))))
    assert ["meeting_room", "Board Room 董事会议室", "revenue", "640.00"] in rows
    assert ["complaints", "", "replied_on_time", "1"] in rows and ["mail", "letter", "items", "7"] in rows
    page = reports.to_html(built, "Test Tower")
    assert "会议室 Meeting rooms" in page and "<td>640.00</td>" in page and "1 replied (1 on time)" in page
