"""The unit file verifies, and the daemon speaks sd_notify as Type=notify with a watchdog expects."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, write_config


def test_unit_file_verifies_without_warnings(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze missing: scripts/setup.sh installs the systemd package")
    unit = (REPO / "systemd" / "gatewayd.service").read_text()
    # verify checks that ExecStart exists: point it at this checkout's installed script.
    (tmp_path / "gatewayd.service").write_text(unit.replace("/usr/bin/gatewayd", str(BIN / "gatewayd")))
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "gatewayd.service")],
                            capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    for needed in ("Type=notify", "WatchdogSec=", "SupplementaryGroups=dialout lp", "NoNewPrivileges=yes",
                   "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "DeviceAllow=char-ttyS rw",
                   "StateDirectory=gatewayd", "RuntimeDirectory=gatewayd", "ConfigurationDirectory=gatewayd"):
        assert needed in unit


def test_ready_status_and_watchdog_reach_the_notify_socket(tmp_path: Path) -> None:
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(20)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    proc = subprocess.Popen([str(BIN / "gatewayd"), "run", "--config", str(config)],
                            env={**os.environ, "NOTIFY_SOCKET": str(notify_path), "WATCHDOG_USEC": "400000"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        messages: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 3:
            messages.append(listener.recv(4096).decode())
        assert any(m.startswith("READY=1") and "STATUS=serving on" in m for m in messages)
        assert sum("WATCHDOG=1" in m for m in messages) >= 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        after_term = []
        while not any("STOPPING=1" in m for m in after_term):
            after_term.append(listener.recv(4096).decode())  # a watchdog ping may come first
    finally:
        proc.kill()
        listener.close()
