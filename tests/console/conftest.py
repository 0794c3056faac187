"""The console against a real daemon: a login link per user, and Debian's chromium under Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Daemon, write_config

CONSOLE = 'listen = "127.0.0.1:0"\n'  # any free port: the daemon's /status says which


@dataclass
class Console:
    daemon: Daemon

    @property
    def url(self) -> str:
        return self.daemon.client().get("/status")["console"]

    def login_url(self, user: str | None = None) -> str:
        """A one-time link minted over the socket by ``user`` (root when None), as `gatewayctl console` does."""
        result = self.daemon.ctl("console", "--print-url", user=user)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def start_console(directory: Path, db_url: str, extra: str = "", *, console_keys: str = "",
                  public_socket: bool = False, staff_group: str = "") -> Console:
    config = write_config(directory, db_url, extra=extra, console=CONSOLE + console_keys,
                          mode="0666" if public_socket else "0660")
    if staff_group:
        config.write_text(config.read_text().replace("[api]\n", f'[api]\ngroup = "{staff_group}"\n'))
    daemon = Daemon(directory, config)
    if public_socket:  # another user must reach the socket
        daemon.publish()
    return Console(daemon.start())


@pytest.fixture
def console(tmp_path: Path, db_url: str) -> Iterator[Console]:
    c = start_console(tmp_path, db_url)
    yield c
    c.daemon.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One browser for tests/console, closed when the package is done: Playwright's sync API keeps
    an event loop running in this thread while it is open, so any later test's ``asyncio.run()``
    (the SNMP, desk and CUPS tests) would fail with "cannot be called from a running event loop"."""
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is missing: run `bash scripts/setup.sh` (scripts/debian-packages.txt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True,
            args=["--no-sandbox"] if os.geteuid() == 0 else [],  # chromium's sandbox refuses root
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
