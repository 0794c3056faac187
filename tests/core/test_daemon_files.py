"""The daemon's own files: ``--socket`` never removes what is not a socket, state files stay
private whatever the umask, and ``check-config`` names the key for every bad value instead of a
traceback (issue 10, items 4-6)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, Daemon, write_config
from tests.core.test_config import check


def test_socket_naming_the_database_is_refused_and_the_database_kept(tmp_path: Path) -> None:
    d = Daemon(tmp_path, write_config(tmp_path, f"sqlite:///{tmp_path / 'state' / 'gatewayd.sqlite3'}"))
    d.start()
    ticket = d.client().post("/tickets", {"kind": "errand", "guest_name": "Mr Li"})["id"]
    d.stop()
    database = tmp_path / "state" / "gatewayd.sqlite3"
    run = subprocess.run([str(BIN / "gatewayd"), "run", "--config", str(d.config), "--socket", str(database)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2  # the configuration check already refuses it
    assert f"api.socket: {database} exists and is not a socket" in run.stderr
    assert database.stat().st_size > 0
    d.start()
    assert d.client().get(f"/tickets/{ticket}")["id"] == ticket
    d.stop()


@pytest.mark.parametrize("kind", ["file", "directory", "symlink"])
def test_claiming_the_socket_path_removes_only_a_socket(tmp_path: Path, kind: str) -> None:
    """What is there may appear after the configuration was checked: the server looks again."""
    from gatewayd.api.server import SocketInUse, claim_socket_path

    path, target = tmp_path / "api.sock", tmp_path / "precious"
    target.write_text("keep me")
    {"file": lambda: path.write_text("keep me"), "directory": path.mkdir,
     "symlink": lambda: path.symlink_to(target)}[kind]()
    with pytest.raises(SocketInUse, match="exists and is not a socket; refusing to remove it"):
        claim_socket_path(path)
    assert path.exists() and target.read_text() == "keep me"


def test_state_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    d = Daemon(tmp_path, write_config(tmp_path, f"sqlite:///{tmp_path / 'state' / 'gatewayd.sqlite3'}"))
    old = os.umask(0)
    try:
        d.start()
    finally:
        os.umask(old)
    try:
        d.client().post("/tickets", {"kind": "errand", "guest_name": "Mr Li", "guest_phone": "13800138000"})
        state = tmp_path / "state"
        for path in [state, state / "spool", *state.glob("gatewayd.sqlite3*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode & 0o027 == 0, f"{path} is {oct(mode)}"
    finally:
        d.stop()


def test_loose_state_left_by_an_earlier_run_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o777)
    state.chmod(0o777)
    d = Daemon(tmp_path, write_config(tmp_path, f"sqlite:///{state / 'gatewayd.sqlite3'}"))
    d.start()
    d.stop()
    (state / "gatewayd.sqlite3").chmod(0o666)
    d.start()
    d.stop()
    assert stat.S_IMODE(state.stat().st_mode) == 0o750
    assert stat.S_IMODE((state / "gatewayd.sqlite3").stat().st_mode) == 0o640


SITE = '[site]\nname = "A"\n'


@pytest.fixture
def regular_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a directory\n")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("cups = \"x\"\n" + SITE, "cups: must be a table ([cups]), got str 'x'"),
    ("snmp = 1.5\n" + SITE, "snmp: must be a table ([snmp]), got float 1.5"),
    ("fax = [1]\n" + SITE, "fax: must be a table ([fax]), got list [1]"),
    ("rates = true\n" + SITE, "rates: must be a table ([rates]), got bool True"),
    (SITE + '[paths]\nstate_dir = "/etc/passwd"\n', "paths.state_dir: /etc/passwd exists and is not a directory"),
    (SITE + '[paths]\nstate_dir = "{file}/state"\n', "paths.state_dir: {file}/state is under {file}, which is not a directory"),
    (SITE + '[paths]\nstate_dir = "{tmp}"\nspool_dir = "{file}/x/spool"\n',
     "paths.spool_dir: {file}/x/spool is under {file}, which is not a directory"),
    (SITE + '[paths]\nstate_dir = "{tmp}"\n[api]\nsocket = "{file}/api.sock"\n',
     "api.socket: {file}/api.sock is under {file}, which is not a directory"),
    (SITE + '[paths]\nstate_dir = "{tmp}"\n[api]\nsocket = "{file}"\n', "api.socket: {file} exists and is not a socket"),
    (SITE + '[paths]\nstate_dir = "{tmp}"\n[database]\nurl = "sqlite:///{file}/db.sqlite3"\n',
     "database.url: {file}/db.sqlite3 is under {file}, which is not a directory"),
    (SITE + '[paths]\nstate_dir = "{tmp}"\n[database]\nurl = "sqlite:///{tmp}"\n', "database.url: {tmp} exists and is not a file"),
])
def test_check_config_names_the_key_instead_of_a_traceback(tmp_path: Path, regular_file: Path,
                                                           text: str, message: str) -> None:
    result = check(tmp_path, text.format(file=regular_file, tmp=tmp_path))
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    assert f"{tmp_path / 'gatewayd.toml'}: {message.format(file=regular_file, tmp=tmp_path)}" in \
        result.stderr.splitlines(), result.stderr


def test_invalid_utf8_in_the_main_or_an_included_file(tmp_path: Path) -> None:
    main = tmp_path / "gatewayd.toml"
    main.write_bytes(b'[site]\nname = "Caf\xe9"\n')
    result = subprocess.run([str(BIN / "gatewayd"), "check-config", str(main)], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"{main}: not UTF-8 text: byte 0xe9 at offset 18"
    (tmp_path / "rates.toml").write_bytes(b"# \xff\n")
    main.write_text('include = ["rates.toml"]\n' + SITE, encoding="utf-8")
    result = subprocess.run([str(BIN / "gatewayd"), "check-config", str(main)], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"{tmp_path / 'rates.toml'}: not UTF-8 text: byte 0xff at offset 2"
