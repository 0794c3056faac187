"""The console in a real browser (Debian's chromium under Playwright) against a real daemon."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gatewayd.console.i18n import translations
from tests.console.conftest import Console, start_console

pytestmark = pytest.mark.slow

SHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_an_errand_quoted_opened_paid_completed_settled_and_its_receipt_printed(
        console: Console, page, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    _ = translations(language).gettext  # the page's own words, in the language under test
    console.daemon.client().post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203", "phone": "021-5555 1234"})
    received = (datetime.now(timezone.utc) - timedelta(days=2, hours=12)).isoformat()
    console.daemon.client().post("/complaints", {"complainant": "王女士", "subject": "空调太冷", "department": "工程部",
                                                 "received_at": received})
    page.goto(console.login_url())
    assert page.url.endswith("/")
    if language == "zh_CN":
        page.get_by_role("button", name="中文").click()
    # What the desk must do, said in the page's language (a complaint's reply falls due in half a day).
    due = page.locator('#due [data-due="complaint_reply"]')
    due.wait_for()
    row = page.locator("#due .row", has=page.locator('[data-due="complaint_reply"]'))
    if language == "zh_CN":
        assert due.inner_text() == "答复 王女士：空调太冷" and "投诉 " in row.inner_text()
        assert not re.search(r"reply|complaint", row.inner_text())
    else:
        assert due.inner_text() == "reply to 王女士: 空调太冷" and "complaint " in row.inner_text()  # as before
    page.get_by_role("link", name=_("Service form"), exact=True).click()
    page.get_by_label(_("errand"), exact=True).check()
    page.get_by_label(_("Company"), exact=True).fill("Acme Trading Ltd")
    page.get_by_label(_("Room"), exact=True).fill("1203")
    page.get_by_label(_("What")).first.fill("Courier to Pudong")
    page.get_by_label(_("Quoted fee")).fill("30.00")
    quote = page.locator("[data-quote-total]")
    quote.wait_for(state="visible")
    assert re.search(r"\d+\.\d\d", quote.inner_text())
    shot(page, f"service-form-errand-{language}")
    page.get_by_role("button", name=_("Open ticket")).click()
    page.wait_for_url(re.compile(r"/tickets/T-\d{4}-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]
    ticket = console.daemon.client().get(f"/tickets/{number}")
    assert ticket["tenant"] == "Acme Trading Ltd" and ticket["charges"], ticket
    assert page.locator("#total").inner_text() == page.locator("#balance").inner_text()
    # Why each line costs what it does: composed in the page's language from the line's rule and inputs.
    explained = page.locator("#charges [data-explain]").all_inner_texts()
    assert len(explained) == len(ticket["charges"]) >= 2
    if language == "zh_CN":
        assert explained[0] == "代办：Courier to Pudong，代收费用 ¥30.00"
        assert explained[1].startswith("服务费，") and explained[1].endswith("¥" + ticket["charges"][1]["amount"])
        assert not re.search(r"errand|quoted|fee|service|charge", " ".join(explained))
    else:
        assert explained == [c["description"] for c in ticket["charges"]]  # the stored sentence, unchanged

    page.locator("#action-pay").get_by_label(_("Amount")).fill("10.00")
    page.locator("#action-pay").get_by_role("button").click()
    page.locator(".receipts a").first.wait_for()
    page.get_by_role("button", name=_("Start the job")).click()
    page.get_by_role("button", name=_("Job done: customer checks it")).click()
    page.get_by_label(_("Customer's signature name")).fill("李四 Li Si")
    page.get_by_role("button", name=_("Customer signed: complete")).click()
    page.locator("#action-settle").get_by_role("button", name=_("Settle")).click()
    page.locator("#state", has_text=_("settled")).wait_for()
    shot(page, f"ticket-settled-{language}")
    ticket = console.daemon.client().get(f"/tickets/{number}")
    assert ticket["state"] == "settled" and ticket["signed_by"] == "李四 Li Si"
    formal = [r for r in ticket["receipts"] if r["kind"] == "formal"][0]
    link = page.locator(f'a[data-receipt="{formal["number"]}"]')
    answer = page.request.get(console.url + link.get_attribute("href"))
    assert answer.ok and answer.headers["content-type"] == "application/pdf"
    text = _pdf_text(answer.body(), tmp_path)
    assert formal["number"] in text and number in text
    trail = console.daemon.client().get("/audit", entity="ticket", id=number)
    assert {e["via"] for e in trail} == {"console"} and {e["actor"] for e in trail} == {"root"}


def test_the_service_form_in_chinese_prices_a_hong_kong_fax(console: Console, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(console.login_url())
    page.get_by_role("button", name="中文").click()
    page.get_by_role("link", name="服务单", exact=True).click()
    page.get_by_label("发传真").check()
    page.get_by_label("散客").check()
    page.get_by_label("客人姓名").fill("陈先生")
    page.get_by_label("客人电话").fill("13900001111")
    page.get_by_label("传真号码（按拨号输入）").fill("0085221234567")
    explained = page.locator("[data-quote-explain]", has_text="中国香港")
    explained.wait_for()  # the quote's lines said in Chinese, money as ¥
    assert explained.inner_text().startswith("+852 中国香港特别行政区，通话 3分钟") and "¥" in explained.inner_text()
    assert "Hong Kong" not in explained.inner_text() and " at " not in explained.inner_text()
    assert "通话 3 分钟约" in page.locator("[data-quote-total]").inner_text()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    shot(page, "service-form-fax-zh")
    page.get_by_label("传真号码（按拨号输入）").fill("110")
    page.locator('[data-error-for="number"]').filter(has_text=re.compile(".+")).wait_for()
    page.get_by_label("传真号码（按拨号输入）").fill("0085221234567")
    page.get_by_role("button", name="开单").click()
    page.wait_for_url(re.compile(r"/tickets/T-"))
    assert page.locator("#state").inner_text() == "已开单"
    shot(page, "ticket-fax-zh")


def test_the_service_form_by_keyboard_alone(console: Console, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(console.login_url())
    page.goto(console.url + "/tickets/new?kind=copy")
    page.locator('input[name="kind"][value="copy"]').focus()
    keyboard = page.keyboard
    keyboard.press("Tab")  # to the customer radio group (tenant)
    keyboard.press("ArrowDown")  # walk-in guest
    keyboard.press("Tab")
    keyboard.type("王女士")
    keyboard.press("Tab")
    keyboard.type("13800138000")
    keyboard.press("Tab")  # paper
    keyboard.press("Tab")  # sides
    keyboard.type("20")
    page.locator("[data-quote-total]").filter(has_text=re.compile(r"\d")).wait_for()
    keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"/tickets/T-"))
    ticket = console.daemon.client().get(f"/tickets/{page.url.rsplit('/', 1)[1]}")
    assert (ticket["kind"], ticket["guest_name"], ticket["guest_phone"]) == ("copy", "王女士", "13800138000")
    assert ticket["quoted_total"] is not None


def test_in_the_browser_a_used_link_a_forged_change_and_a_non_staff_user_are_refused(
        tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.skip("needs root to mint a link as another user")
    console = start_console(tmp_path, f"sqlite:///{tmp_path / 'g.sqlite3'}", staff_group="staff", public_socket=True)
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        link = console.login_url(user="nobody")
        page.goto(link)
        assert page.get_by_text("nobody").first.is_visible()
        again = context.new_page()
        refused = again.goto(link)
        assert refused.status == 403 and again.get_by_text("already used or has expired").is_visible()

        # A change without the page's token, with the session cookie the browser holds: refused.
        forged = page.request.post(console.url + "/tickets/new", form={"kind": "errand", "customer": "guest",
                                                                      "guest_name": "forged"})
        assert forged.status == 403
        assert console.daemon.client().get("/tickets") == []

        # Not staff: the import is offered disabled, and forcing it is refused by the API's rule.
        page.goto(console.url + "/tenants")
        assert page.get_by_role("button", name="Import", exact=True).is_disabled()
        token = page.locator('meta[name="csrf-token"]').get_attribute("content")
        forced = page.request.post(console.url + "/tenants/import", form={"csrftoken": token, "csv": "company\nEvil Ltd\n"})
        assert forced.status == 403 and "is for staff" in forced.text()
        assert console.daemon.client().get("/tenants") == []
    finally:
        context.close()
        console.daemon.stop()


def test_a_notify_me_request_taken_in_chinese(console: Console, page) -> None:  # type: ignore[no-untyped-def]
    _ = translations("zh_CN").gettext
    console.daemon.client().post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203"})
    page.goto(console.login_url())
    page.get_by_role("button", name="中文").click()
    page.get_by_role("link", name=_("Received faxes")).click()
    page.get_by_role("link", name=_("Notify-me requests")).click()
    page.get_by_label(_("Guest's name"), exact=True).fill("赵先生")
    page.get_by_label(_("Phone"), exact=True).fill("13900001111")
    page.get_by_label(_("Company"), exact=True).fill("Acme Trading Ltd")
    page.get_by_role("button", name=_("Add the request")).click()
    page.locator("#notify-requests", has_text="赵先生").wait_for()
    assert _("open") in page.locator("#notify-requests tbody tr").first.inner_text()
    [request] = console.daemon.client().get("/fax/notify-requests")
    assert (request["guest_name"], request["phone"], request["company"]) == ("赵先生", "13900001111", "Acme Trading Ltd")
    # He no longer wants to be told: the row's button cancels it, and it leaves the open list.
    page.locator(f'[data-cancel-request="{request["id"]}"]').click()
    page.locator("#notify-requests", has_text=_("No requests.")).wait_for()
    assert console.daemon.client().get("/fax/notify-requests")[0]["state"] == "cancelled"
