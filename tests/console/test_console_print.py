"""A print ticket's document printed from the browser, through the daemon and the lab's real cupsd."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.cups.cupsd import CupsLab
from lab.cups.documents import make_documents
from tests.console.conftest import CONSOLE, Console
from tests.console.test_console_browser import shot
from tests.conftest import Daemon
from tests.integration.test_print import _config

pytestmark = pytest.mark.slow


@pytest.fixture
def print_console(tmp_path: Path) -> Iterator[tuple[Console, CupsLab]]:
    with CupsLab() as lab:
        config = _config(tmp_path, f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}", lab)
        config.write_text(config.read_text().replace('[console]\nlisten = ""', f"[console]\n{CONSOLE}"))
        daemon = Daemon(tmp_path, config).start()
        try:
            yield Console(daemon), lab
        finally:
            daemon.stop()


def test_a_document_printed_for_a_print_ticket_is_billed_to_it(print_console, page) -> None:  # type: ignore[no-untyped-def]
    console, lab = print_console
    queue = lab.queue_names[0]
    document = make_documents(lab.dir / "docs")["1p-A4-mono"]
    number = console.daemon.client().post("/tickets", {"kind": "print", "guest_name": "Ms Chen",
                                                       "device": f"printer-{queue}"})["id"]
    page.goto(console.login_url())
    page.goto(f"{console.url}/tickets/{number}")
    form = page.locator("#action-print")
    form.get_by_role("button", name="Print", exact=True).click()  # no file yet: refused with the reason, nothing sent
    page.locator("#action-print .error", has_text="choose the file").wait_for()
    form = page.locator("#action-print")
    form.get_by_label("Document to print (PDF, PostScript, text)").set_input_files(str(document))
    form.get_by_label("Colour").select_option("mono")
    form.get_by_role("button", name="Print", exact=True).click()
    page.wait_for_url(re.compile(rf"/tickets/{number}$"))
    # The finished job comes back from cupsd and is billed; the page shows it without a reload.
    page.locator("#charges td", has_text=re.compile(r"print A4 mono")).first.wait_for(timeout=60_000)
    shot(page, "print-ticket")
    ticket = console.daemon.client().get(f"/tickets/{number}")
    assert ticket["total"] != "0.00" and any(c["rule"] and c["rule"].startswith("print.") for c in ticket["charges"])
    trail = console.daemon.client().get("/audit", entity="ticket", id=number)
    assert any(e["via"] == "console" and "print" in e["action"] for e in trail)
