"""`make demo` twice at once, then Ctrl-C: each run has its own directory, lab and ports, and
leaves no process and no directory behind.

Both demos are started as `make demo` starts them (scripts/demo.sh, no terminal), each in a
session of its own as a terminal would; once both daemons answer on their own labs and the day
has begun, each gets the SIGINT a terminal's Ctrl-C sends to its foreground process group. The
whole day, run to its end twice at once, takes minutes: it is run by hand (README, The two
commands), not here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

STARTED = re.compile(r"^== starting gatewayd on SQLite in (/tmp/gatewayd-demo\.\w+)$")
DAY_BEGUN = "== the tenant roster"


class Demo:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(["bash", "scripts/demo.sh"], cwd=REPO, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.begun = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.rstrip("\n"))
            if raw.startswith(DAY_BEGUN):
                self.begun.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def directory(self) -> Path:
        return Path(next(m.group(1) for line in self.lines if (m := STARTED.match(line))))

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=60)


def left_behind(demo: Demo) -> list[str]:
    """Processes still in the demo's session, or naming its directory."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            session = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[3])
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if session == demo.proc.pid or str(demo.directory) in command:
            found.append(f"{proc.name}: {command}")
    return found


def test_two_demos_at_once_then_ctrl_c_leave_nothing_behind() -> None:
    demos = [Demo(), Demo()]
    try:
        deadline = time.monotonic() + 240
        for demo in demos:
            while not demo.begun.is_set():
                assert demo.proc.poll() is None, f"the demo ended before its day began:\n{demo.output}"
                assert time.monotonic() < deadline, f"the demo's day did not begin:\n{demo.output}"
                time.sleep(0.2)
        first, second = (demo.directory for demo in demos)
        assert first != second
        ports = set()
        for demo in demos:
            lab = demo.directory / "lab"
            written = (demo.directory / "gatewayd.toml").read_text()
            assert f'server = "{lab}/cups/cups.sock"' in written and f'port = "{lab}/fax/ttyFAX"' in written
            port = (lab / "snmp" / "port").read_text().strip()
            assert f"port = {port}\n" in written
            ports.add(port)
        assert len(ports) == 2

        for demo in demos:
            assert demo.ctrl_c() == 130, demo.output
        for demo in demos:
            deadline = time.monotonic() + 10  # a SIGKILLed straggler is reaped by init, not at once
            while left_behind(demo) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert left_behind(demo) == []
            assert not demo.directory.exists(), demo.output
    finally:
        for demo in demos:
            if demo.proc.poll() is None:
                os.killpg(demo.proc.pid, signal.SIGKILL)
                demo.proc.wait()
