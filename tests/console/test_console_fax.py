"""Faxes through the console in a real browser, against the daemon and the spandsp fax lab:
a guest's fax to Hong Kong quoted, previewed, sent, watched, completed, settled and its receipt
read back; a received fax assigned and its recipient called, in English and in Chinese. SQLite
only, like the lab's other call tests (each call is seconds of paced line time)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd.console.i18n import translations
from tests.console.conftest import CONSOLE, Console
from tests.console.test_console_browser import _pdf_text, shot
from tests.conftest import Daemon
from tests.fax.conftest import fax_lab, faxmodem_binary  # noqa: F401 - fixtures
from tests.fax.helpers import two_page_tiff
from tests.integration.test_fax import ACME, SPEED, fax_config, two_page_pdf, wait_for

pytestmark = pytest.mark.slow


def until_true(page, expression: str, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    """Poll an expression (page.wait_for_function evaluates strings, which the console's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout} s: {expression}"
        time.sleep(0.1)


@pytest.fixture
def fax_console(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    started: list[Daemon] = []

    def start(port: Path) -> Console:
        config = fax_config(tmp_path, f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}", port)
        config.write_text(config.read_text().replace('[console]\nlisten = ""', f"[console]\n{CONSOLE}"))
        daemon = Daemon(tmp_path, config).start()
        started.append(daemon)
        daemon.client().post("/tenants", {"company": ACME, "rooms": "1203", "contact": "Ms Li",
                                          "phone": "021-5555 1234"})
        return Console(daemon)

    yield start
    for daemon in started:
        daemon.stop()


def test_a_guests_fax_to_hong_kong_quoted_previewed_sent_watched_and_settled(
        fax_lab, fax_console, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    peer = fax_lab(speed=SPEED)
    console = fax_console(peer.pty)
    page.goto(console.login_url())
    page.get_by_role("link", name="Service form", exact=True).click()
    page.get_by_label("send a fax", exact=True).check()
    page.get_by_label("Walk-in guest").check()
    page.get_by_label("Guest's name").fill("陈先生 Mr Chan")
    page.get_by_label("Guest's phone").fill("13900001111")
    page.get_by_label("Fax number as dialled").fill("9,0085221234567")
    page.locator("[data-quote-explain]", has_text="Hong Kong").wait_for()
    assert "3-minute call" in page.locator("[data-quote-total]").inner_text()
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/T-\d{4}-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]

    page.get_by_role("link", name="Send the fax").click()
    assert page.get_by_label("Fax number as dialled").input_value() == "9,0085221234567"  # from the form
    page.get_by_label("Documents (PDF, images, text)").set_input_files(str(two_page_pdf(tmp_path / "letter.pdf")))
    page.locator("#preview img").nth(1).wait_for()
    assert page.locator("#preview img").count() == 2
    assert page.evaluate("[...document.querySelectorAll('#preview img')].every(i => i.naturalWidth === 600)")
    shot(page, "fax-send-preview")
    page.get_by_role("button", name="Send the fax").click()
    page.wait_for_url(re.compile(rf"/tickets/{number}$"))
    page.locator(".job .progress-text").first.wait_for()
    # The page follows the call by itself: no reload by the test.
    page.locator("#state", has_text="awaiting customer").wait_for(timeout=120_000)
    assert page.locator(".job .progress-text").inner_text() == "page 2 of 2"
    far = peer.wait_call(30)
    assert far["status"] == "OK" and far["pages_rx"] == 2
    shot(page, "fax-sent")

    page.get_by_label("Customer's signature name").fill("陈先生")
    page.get_by_role("button", name="Customer signed: complete").click()
    page.locator("#action-settle").get_by_role("button", name="Settle").click()
    page.locator("#state", has_text="settled").wait_for()
    ticket = console.daemon.client().get(f"/tickets/{number}")
    assert ticket["state"] == "settled" and any(c["rule"] == "fax_out.destinations[+852]" for c in ticket["charges"])
    formal = next(r for r in ticket["receipts"] if r["kind"] == "formal")
    href = page.locator(f'a[data-receipt="{formal["number"]}"]').get_attribute("href")
    text = _pdf_text(page.request.get(console.url + href).body(), tmp_path)
    assert formal["number"] in text and ticket["total"] in text


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_a_received_fax_assigned_and_its_recipient_called(  # type: ignore[no-untyped-def]
        fax_lab, fax_console, page, tmp_path: Path, language: str) -> None:  # noqa: F811
    _ = translations(language).gettext  # the page's own words, in the language under test
    peer = fax_lab(speed=SPEED, receive=False, send=two_page_tiff(tmp_path / "in.tif"), ident="+44 20 7946 0000")
    console = fax_console(peer.pty)
    entry = wait_for(lambda: console.daemon.client().get("/fax/incoming"), 90, console.daemon, "a received fax")[0]
    assert entry["state"] == "pending"
    page.goto(console.login_url())
    if language == "zh_CN":
        page.get_by_role("button", name="中文").click()
    page.locator("#pending-faxes", has_text="+44 20 7946 0000").wait_for()
    page.get_by_role("link", name=_("Received faxes")).click()
    card = page.locator(f'[data-entry="{entry["id"]}"]')
    until_true(page, "(() => { const i = document.querySelector('.fax-card img'); return i && i.complete; })()")
    assert page.evaluate("document.querySelector('.fax-card img').naturalWidth") == 300
    card.click()
    page.locator("#pages img").nth(1).wait_for()
    until_true(page, "[...document.querySelectorAll('#pages img')].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, f"fax-received-{language}")
    page.get_by_label(_("Company"), exact=True).fill("No Such Company")
    page.get_by_role("button", name=_("Assign: opens the pickup ticket")).click()
    assert page.get_by_label(_("Company"), exact=True).input_value() == "No Such Company"  # kept, with the reason
    assert page.locator('[data-error-for="company"]').inner_text()
    page.get_by_label(_("Company"), exact=True).fill(ACME)
    page.get_by_label(_("Room"), exact=True).fill("1203")
    page.get_by_role("button", name=_("Assign: opens the pickup ticket")).click()
    page.locator("#state", has_text=_("assigned")).wait_for()
    page.get_by_role("link", name=_("Today")).click()
    page.locator("#to-call", has_text="021-5555 1234").wait_for()
    page.goto(f"{console.url}/fax/incoming/{entry['id']}")
    page.get_by_role("button", name=_("Called: take it off the list")).click()
    page.locator("#state", has_text=_("assigned")).wait_for()
    assert console.daemon.client().get("/fax/to-call") == []
    called = console.daemon.client().get(f"/fax/incoming/{entry['id']}")
    assert called["called_by"] == "root" and called["ticket"]
    trail = console.daemon.client().get("/audit", entity="fax_in", id=str(entry["id"]))
    assert trail and all(e["via"] == "console" for e in trail if e["actor"] == "root")
