"""A copy ticket through its meter readings in the browser, against the daemon and a real snmpsim."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.snmp.agent import SnmpLab
from tests.console.conftest import CONSOLE, Console
from tests.console.test_console_browser import shot
from tests.conftest import Daemon, write_config
from tests.integration.test_copy import _snmp_section
from tests.snmp.helpers import RECORDINGS

pytestmark = pytest.mark.slow

COPIER = "console_copy"


@pytest.fixture
def copy_console(tmp_path: Path) -> Iterator[tuple[Console, SnmpLab]]:
    with SnmpLab(RECORDINGS, clones={COPIER: "sharp"}) as lab:
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}", console=CONSOLE,
                              extra=_snmp_section(lab, COPIER))
        daemon = Daemon(tmp_path, config).start()
        try:
            yield Console(daemon), lab
        finally:
            daemon.stop()


def test_a_copy_ticket_through_its_meter_readings(copy_console, page) -> None:  # type: ignore[no-untyped-def]
    console, lab = copy_console
    page.goto(console.login_url())
    page.get_by_role("link", name="Service form", exact=True).click()
    page.get_by_label("copying", exact=True).check()
    page.get_by_label("Walk-in guest").check()
    page.get_by_label("Guest's name").fill("王先生")
    page.get_by_label("Guest's phone").fill("13800138000")
    page.get_by_label("Device").select_option(COPIER)
    page.get_by_label("Sides (estimate)").fill("6")
    page.locator("[data-quote-total]").filter(has_text=re.compile(r"\d")).wait_for()
    page.get_by_role("button", name="Open ticket").click()
    page.wait_for_url(re.compile(r"/tickets/T-\d{4}-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]
    assert page.locator("#meter-opening").inner_text().strip()  # the opening reading, taken at open

    page.get_by_role("button", name="Start the job").click()
    page.locator("#state", has_text="in progress").wait_for()
    lab.copies(COPIER, 6)
    page.get_by_role("button", name="Take the closing meter reading").click()
    page.locator("#state", has_text="awaiting customer").wait_for(timeout=30_000)
    assert page.locator("#meter-count").inner_text().strip() == "6"
    page.locator("#action-customer_count").get_by_label("Sides counted by the customer").fill("7")
    page.locator("#action-customer_count").get_by_role("button").click()
    page.locator("#meter-customer", has_text="7").wait_for()
    shot(page, "copy-ticket-meter")
    ticket = console.daemon.client().get(f"/tickets/{number}")
    assert ticket["total"] == "3.00" and ticket["state"] == "awaiting_customer"  # 6 A4 mono sides at 0.50
    meter = console.daemon.client().get(f"/tickets/{number}/meter")
    assert meter["customer_count"]["sides"] == 7 and meter["difference"] == 1
