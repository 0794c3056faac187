"""``gatewayd modem probe PORT`` against the lab modem in each of its personalities, and against a
port another program holds."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from drivers.fax.config import parse_modem
from drivers.fax.lock import PortLock

pytestmark = pytest.mark.slow

GATEWAYD = Path(sys.executable).with_name("gatewayd")


def run_probe(port: Path, lock_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GATEWAYD), "modem", "probe", str(port), "--flow", "none",
                           "--lock-dir", str(lock_dir), "--name", "desk", *extra],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("fclass, expected, finding", [
    ("1", "1", "no Class 2.0: using Class 1"),
    ("2", "2", "Class 2 only: received pages come bit-reversed"),
    ("2.0", "2.0", "using Class 2.0 (the modem runs T.30"),
])
def test_probe_each_personality(fax_lab, tmp_path, fclass, expected, finding):
    peer = fax_lab(fclass=fclass)
    done = run_probe(peer.pty, tmp_path)

    assert done.returncode == 0, done.stderr
    findings = [line for line in done.stdout.splitlines() if line.startswith("# ")]
    assert any(finding in line for line in findings), done.stdout
    # The block is TOML gatewayd.toml takes as it is, and the modem table validates.
    config = parse_modem(tomllib.loads(done.stdout)["fax"]["modems"][0])
    assert config.fax_class == expected and config.name == "desk"
    assert config.port == str(peer.pty) and config.lock_dir == str(tmp_path)
    if fclass == "2":
        assert config.reversed_receive_data is True
    if fclass != "1":  # the +FM* identity of the Class 2 personalities is in the comment
        assert f"faxmodem lab Class {fclass}" in done.stdout
    assert not list(tmp_path.glob("LCK..*"))  # the probe let go of the port


def test_probe_respects_a_uucp_lock(fax_lab, tmp_path):
    peer = fax_lab(fclass="2.0")
    holder = subprocess.Popen(["sleep", "60"])
    try:
        PortLock(str(peer.pty), tmp_path, pid=holder.pid).acquire()
        done = run_probe(peer.pty, tmp_path)
    finally:
        holder.kill()
        holder.wait()

    assert done.returncode == 1
    assert f"port locked by sleep pid {holder.pid}" in done.stderr
    assert done.stdout == ""


def test_probe_of_something_that_is_not_a_modem(tmp_path):
    master, slave = os.openpty()  # nobody answers on the other side
    try:
        done = run_probe(Path(os.ttyname(slave)), tmp_path)
    finally:
        os.close(master)
        os.close(slave)

    assert done.returncode == 1
    assert "the modem does not answer" in done.stderr
