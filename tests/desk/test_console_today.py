"""The console's Today page shows the desk's deadlines and the mail to call about (real daemon)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.console.conftest import start_console
from tests.console.test_console_http import _csrf


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
        # A desk reading Chinese: the sentence, the register, the department and the mail kind in Chinese.
        assert client.post("/language", data={"csrftoken": _csrf(client), "language": "zh_CN", "next": "/"}
                           ).status_code == 303
        page = client.get("/today/live").text
        due = re.sub(r"<[^>]+>", "", page[page.index('id="due"'):page.index('id="mail-to-call"')])  # what is read
        assert "答复 Mr Wang：late fax" in due and "投诉 " in due and "商务中心" in due
        assert "reply to" not in due and "complaint" not in due and "business centre" not in due
        mail = re.sub(r"<[^>]+>", "", page[page.index('id="mail-to-call"'):page.index('id="pending-faxes"')])
        assert "挂号信" in mail and "registered" not in mail
    finally:
        console.daemon.stop()
