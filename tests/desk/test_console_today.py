"""The console's Today page shows the desk's deadlines and the mail to call about (real daemon)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.console.conftest import start_console


def test_today_shows_what_is_due_and_whom_to_call_about_mail(tmp_path: Path, db_url: str) -> None:
    console = start_console(tmp_path, db_url)
    try:
        c = console.daemon.client()
        c.post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203", "contact": "Ms Li", "phone": "021-5555-0101"})
        c.post("/mail", {"kind": "registered", "company": "Acme Trading Ltd", "tracking": "RR123456789CN"})
        c.post("/complaints", {"complainant": "Mr Wang", "subject": "late fax", "department": "business centre",
                               "received_at": "2020-01-01T09:00:00+08:00"})  # long overdue
        link = console.login_url()
        client = httpx.Client(base_url=link.split("/login/")[0], timeout=30, headers={"accept-language": "en"})
        assert client.get(link).status_code == 303
        page = client.get("/today/live").text
        due = page[page.index('id="due"'):page.index('id="mail-to-call"')]
        assert "reply to Mr Wang: late fax" in due and "overdue" in due and "business centre" in due
        mail = page[page.index('id="mail-to-call"'):page.index('id="pending-faxes"')]
        assert "Ms Li" in mail and "021-5555-0101" in mail and "RR123456789CN" in mail
    finally:
        console.daemon.stop()
