"""The typing and copy registers per day, and typed files deleted when their keeping ends."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from gatewayd.desk import registers
from tests.conftest import Daemon, write_config
from tests.desk.conftest import Desk, Refused

DOC = base64.b64encode("合同草稿 draft contract\n".encode()).decode()


def _typing_ticket(desk: Desk) -> str:
    t = desk.post("/tickets", {"kind": "print", "company": "Acme Trading Ltd", "room": "1203",
                               "params": {"service": "typing"}})
    desk.post(f"/tickets/{t['id']}/priced", {"service": "typing", "pages": 4})
    return t["id"]


def _sweep(desk: Desk) -> list[int]:
    with desk.api.ledger.transaction() as s:
        return registers.sweep(s, desk.now)


def test_kept_file_deleted_when_its_date_passes_never_before(desk: Desk) -> None:
    number = _typing_ticket(desk)
    kept = desk.post(f"/tickets/{number}/typing-files", {"filename": "../../etc/合同.txt", "content_base64": DOC,
                                                          "keep_until": "2026-12-02"})
    assert kept["filename"] == "合同.txt" and kept["keep_until"] == "2026-12-02T16:00:00+00:00"  # end of 2 Dec local
    with desk.api.ledger.transaction() as s:
        path = Path(registers.find_file(s, kept["id"]).path)
    assert path.read_bytes() == base64.b64decode(DOC) and path.parent.name == number
    for action in ("start", "finish", "complete"):
        desk.post(f"/tickets/{number}/{action}")
    desk.post(f"/tickets/{number}/settle", {"method": "cash"})

    desk.advance(days=2, hours=14, minutes=59)  # 2 Dec 23:59 local: still kept, though the ticket is settled
    assert _sweep(desk) == [] and path.exists()
    assert desk.request_raw("GET", f"/typing-files/{kept['id']}") == (200, base64.b64decode(DOC))
    desk.advance(minutes=2)
    assert _sweep(desk) == [kept["id"]] and not path.exists()
    status, body = desk.request_raw("GET", f"/typing-files/{kept['id']}")
    assert status == 404 and b"was deleted on" in body
    listed = desk.get(f"/tickets/{number}/typing-files")
    assert listed[0]["deleted_at"] == desk.now.isoformat() and listed[0]["filename"] == "合同.txt"
    deletion = desk.get("/audit", entity="ticket", id=number)[0]
    assert deletion["action"] == "typing_file.delete" and deletion["actor"] == "gatewayd"
    assert "kept until 2026-12-02T16:00:00+00:00" in deletion["after"]["reason"]
    assert _sweep(desk) == []  # once


def test_unkept_file_goes_when_the_ticket_closes(desk: Desk) -> None:
    number = _typing_ticket(desk)
    f = desk.post(f"/tickets/{number}/typing-files", {"filename": "letter.docx", "content_base64": DOC})
    assert _sweep(desk) == []  # the ticket is still open: the customer may want another print
    desk.post(f"/tickets/{number}/cancel", {"reason": "customer left"})
    assert _sweep(desk) == [f["id"]]


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"keep_until": "2026-11-29"}, 422, "has already passed"),
    ({"keep_until": "next week"}, 422, "keep_until"),
    ({"content_base64": "not base64!"}, 422, "not base64"),
])
def test_bad_typing_files_refused(desk: Desk, body: dict, status: int, detail: str) -> None:
    number = _typing_ticket(desk)
    with pytest.raises(Refused) as refused:
        desk.post(f"/tickets/{number}/typing-files", {"filename": "a.txt", "content_base64": DOC, **body})
    assert refused.value.status == status and detail in refused.value.detail
    assert desk.get(f"/tickets/{number}/typing-files") == []


def test_only_typing_tickets_keep_files(desk: Desk) -> None:
    copy = desk.post("/tickets", {"kind": "copy", "guest_name": "王女士", "params": {"media": "A4"}})
    with pytest.raises(Refused) as refused:
        desk.post(f"/tickets/{copy['id']}/typing-files", {"filename": "a.txt", "content_base64": DOC})
    assert refused.value.status == 409 and "not a typing ticket" in refused.value.detail


def test_typing_and_copy_registers_per_day(desk: Desk) -> None:
    number = _typing_ticket(desk)
    desk.post(f"/tickets/{number}/typing-files", {"filename": "memo.txt", "content_base64": DOC,
                                                   "keep_until": "2027-01-31"})
    copy = desk.post("/tickets", {"kind": "copy", "guest_name": "王女士", "params": {"media": "A4", "sets": "2"}})
    desk.post(f"/tickets/{copy['id']}/priced", {"service": "copy", "media": "A4", "sides": 10, "sets": 2})
    desk.post("/tickets", {"kind": "print", "guest_name": "x"})  # a print job, not typing: not in the register

    typing = desk.get("/registers/typing", date="2026-11-30")
    assert [(t["ticket"], t["customer"], t["pages"], t["charged"], t["keep_until"]) for t in typing] == [
        (number, "Acme Trading Ltd", 4, "40.00", "2027-01-31T16:00:00+00:00")]
    copies = desk.get("/registers/copy", date="2026-11-30")
    assert [(c["ticket"], c["customer"], c["media"], c["sets"], c["sides"], c["charged"]) for c in copies] == [
        (copy["id"], "王女士", "A4", "2", 20, "10.00")]
    assert desk.get("/registers/copy", date="2026-12-01") == []


def test_the_typing_register_takes_the_same_queries_for_a_busy_day_as_for_a_quiet_one(desk: Desk) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    counts = []
    event.listen(Engine, "before_cursor_execute", count)
    try:
        for day, tickets in (("2026-11-30", 2), ("2026-12-01", 6)):
            for _ in range(tickets):
                number = _typing_ticket(desk)
                desk.post(f"/tickets/{number}/typing-files", {"filename": "memo.txt", "content_base64": DOC})
            statements.clear()
            assert len(desk.get("/registers/typing", date=day)) == tickets
            counts.append(len(statements))
            desk.advance(days=1)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert counts[0] == counts[1], f"{counts[0]} queries for 2 tickets, {counts[1]} for 6"


def test_the_daemon_deletes_a_file_nobody_kept_once_its_ticket_closes(tmp_path: Path, db_url: str) -> None:
    d = Daemon(tmp_path, write_config(tmp_path, db_url, extra="[desk]\nsweep_s = 0.2\n")).start()
    try:
        c = d.client()
        c.post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203"})
        t = c.post("/tickets", {"kind": "print", "company": "Acme Trading Ltd", "params": {"service": "typing"}})
        f = c.post(f"/tickets/{t['id']}/typing-files", {"filename": "memo.txt", "content_base64": DOC})
        stored = list((tmp_path / "state" / "spool" / "typing" / t["id"]).iterdir())
        assert len(stored) == 1
        time.sleep(0.6)
        assert c.get(f"/tickets/{t['id']}/typing-files")[0]["deleted_at"] is None and stored[0].exists()
        c.post(f"/tickets/{t['id']}/cancel", {"reason": "customer left"})
        deadline = time.monotonic() + 10
        while c.get(f"/tickets/{t['id']}/typing-files")[0]["deleted_at"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert c.get(f"/tickets/{t['id']}/typing-files")[0]["id"] == f["id"]
        assert c.get(f"/tickets/{t['id']}/typing-files")[0]["deleted_at"] is not None and not stored[0].exists()
        assert any(x["driver"] == "desk-files" for x in c.get("/status")["devices"])
    finally:
        d.stop()
