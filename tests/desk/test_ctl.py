"""The desk's books with gatewayctl against a real daemon (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from tests.conftest import Daemon


def _ok(daemon: Daemon, *args: str) -> str:
    done = daemon.ctl(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_mornings_mail_a_complaint_and_a_booking_with_gatewayctl(daemon: Daemon) -> None:
    _ok(daemon, "tenant", "add", "Acme Trading Ltd", "--rooms", "1203,1205", "--contact", "Ms Li",
        "--phone", "021-5555-0101")
    _ok(daemon, "mail", "log", "letter", "--company", "Acme Trading Ltd", "--room", "1203", "--count", "4")
    item = json.loads(_ok(daemon, "--json", "mail", "log", "registered", "--company", "Acme Trading Ltd",
                          "--room", "1205", "--tracking", "RR123456789CN"))
    assert "Ms Li" in _ok(daemon, "mail", "to-call")
    refused = daemon.ctl("mail", "pick-up", str(item["id"]), "--by", "李明", "--id-type", "passport",
                         "--id-last", "E12345678")
    assert refused.returncode == 1 and "last 4 characters" in refused.stderr
    assert "picked up by 李明 (passport …5678)" in _ok(daemon, "mail", "pick-up", str(item["id"]), "--by", "李明",
                                                       "--id-type", "passport", "--id-last", "5678")
    assert "Acme Trading Ltd" in _ok(daemon, "mail", "pigeonholes")

    added = _ok(daemon, "complaint", "add", "Ms Li", "copier jammed twice", "--department", "engineering",
                "--company", "Acme Trading Ltd")
    assert "reply due" in added
    assert "engineering" in _ok(daemon, "due", "--hours", "96")
    _ok(daemon, "complaint", "note", "1", "fuser replaced", "--reply")
    assert "closed" in _ok(daemon, "complaint", "close", "1", "fixed", "--view", "satisfied")

    _ok(daemon, "room", "add", "Board Room 董事会议室", "--capacity", "12", "--equipment", "projector")
    booked = _ok(daemon, "booking", "add", "Board Room 董事会议室", "2099-12-03 14:00", "2099-12-03 15:30",
                 "--company", "Acme Trading Ltd", "--attendees", "8", "--extra", "tea=8")
    assert "quoted 364.00" in booked  # 1.5 h × 200.00 + 8 × 8.00
    clash = daemon.ctl("booking", "add", "Board Room 董事会议室", "2099-12-03 15:00", "2099-12-03 16:00",
                       "--guest", "张先生")
    assert clash.returncode == 1 and "is booked" in clash.stderr
    assert "billed: 364.00" in _ok(daemon, "booking", "bill", "1")
    assert "deadlines:" in _ok(daemon, "status")

    _ok(daemon, "papers", "subscribe", "Acme Trading Ltd", "解放日报", "--copies", "2", "--from", "2020-01-01",
        "--until", "2099-12-31")
    assert "received 1 of 2 (short 1)" in _ok(daemon, "papers", "delivery", "解放日报", "1")
    held = json.loads(_ok(daemon, "--json", "papers", "hold", "Acme Trading Ltd", "解放日报"))
    assert "handed to Ms Li" in _ok(daemon, "papers", "hand-over", str(held["id"]), "--to", "Ms Li")
    errand = _ok(daemon, "papers", "subscribe", "Acme Trading Ltd", "财经", "--from", "2099-01-01",
                 "--until", "2099-12-31", "--fee", "480.00")
    assert "errand ticket T-" in errand

    typing = json.loads(_ok(daemon, "--json", "ticket", "open", "print", "--company", "Acme Trading Ltd",
                            "--param", "service=typing"))["id"]
    memo = daemon.directory / "memo.txt"
    memo.write_text("备忘录 memo\n", encoding="utf-8")
    assert "kept until 2099-01-31" in _ok(daemon, "typing", "keep", typing, str(memo), "--until", "2099-01-30")
    assert typing in _ok(daemon, "register", "typing") and "memo.txt" in _ok(daemon, "typing", "files", typing)
    file_id = json.loads(_ok(daemon, "--json", "typing", "files", typing))[0]["id"]
    _ok(daemon, "typing", "fetch", str(file_id), "--out", str(daemon.directory / "reprint.txt"))
    assert (daemon.directory / "reprint.txt").read_text(encoding="utf-8") == "备忘录 memo\n"
