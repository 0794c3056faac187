"""The Debian package, installed for real: README's "Running it for real", line by line.

Builds the package, installs it with dpkg (as root, as the CI runs), starts the installed unit's
ExecStart as the gatewayd user (no systemd as PID 1 here), uses the installed gatewayctl as staff
and as a stranger, upgrades to a build with one more migration, downgrades (refused), purges, and
leaves the machine as it found it.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

import gatewayd
from gatewayd import db
from tests.conftest import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="installs a Debian package: runs as root (as the CI does)"),
]

UNIT = Path("/lib/systemd/system/gatewayd.service")
NIGHTLY = Path("/lib/systemd/system/gatewayd-backup.service")
CONFIG = Path("/etc/gatewayd/gatewayd.toml")
STATE = Path("/var/lib/gatewayd")
WANTS = Path("/etc/systemd/system/multi-user.target.wants/gatewayd.service")
ENABLED_STATE = Path("/var/lib/systemd/deb-systemd-helper-enabled/gatewayd.service.dsh-also")
STAFF, STRANGER = "gwtest-alice", "gwtest-bob"
#: What the package and this test create; none may exist before, none is left after.
USERS = ("gatewayd", STAFF, STRANGER)
GROUPS = ("gatewayd", "gatewayd-staff")
BACKUPS = Path("/var/backups/gatewayd")
PATHS = (Path("/etc/gatewayd"), STATE, Path("/run/gatewayd"), Path("/usr/lib/gatewayd"), BACKUPS)


def _run(*argv: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{shlex.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def dpkg(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """dpkg, waiting its turn: other set-ups on this machine may hold the dpkg lock for a while."""
    deadline = time.monotonic() + 300
    while True:
        result = _run("dpkg", *args, check=False)
        if "dpkg frontend lock" not in result.stderr and "dpkg status database is locked" not in result.stderr:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"dpkg stayed locked for 5 minutes:\n{result.stderr}")
        time.sleep(2)
    if check and result.returncode != 0:
        raise AssertionError(f"dpkg {shlex.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def _exists(kind: str, name: str) -> bool:
    try:
        (pwd.getpwnam if kind == "user" else grp.getgrnam)(name)
        return True
    except KeyError:
        return False


def _leave_as_found() -> None:
    if _run("dpkg-query", "-W", "gatewayd", check=False).returncode == 0:
        dpkg("--purge", "gatewayd")
    for user in USERS:
        if _exists("user", user):
            _run("userdel", user)
    for group in GROUPS:
        if _exists("group", group):
            _run("groupdel", group)
    for path in PATHS:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def clean_machine() -> Iterator[None]:
    present = ([f"user {u}" for u in USERS if _exists("user", u)] + [f"group {g}" for g in GROUPS if _exists("group", g)]
               + [str(p) for p in PATHS if p.exists()])
    if _run("dpkg-query", "-W", "gatewayd", check=False).returncode == 0:
        present.append("package gatewayd")
    if present:
        pytest.fail(f"this machine already has {', '.join(present)}: the test would not leave it as found")
    try:
        yield
    finally:
        _leave_as_found()
    assert not [u for u in USERS if _exists("user", u)] and not [g for g in GROUPS if _exists("group", g)]
    assert not [p for p in PATHS if p.exists()] and not WANTS.is_symlink() and not ENABLED_STATE.exists()


def build(tree: Path, out: Path) -> Path:
    """`make deb`, in ``tree``; the dependency wheels come from this checkout's wheelhouse."""
    result = subprocess.run(["bash", str(tree / "scripts" / "build-deb.sh"), str(out)], capture_output=True,
                            text=True, timeout=900, env={**os.environ, "WHEELHOUSE": str(REPO / "build" / "wheelhouse")})
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def newer_tree(tmp_path: Path) -> tuple[Path, str, str]:
    """This source tree with the next version number and one more migration."""
    tree = tmp_path / "newer"
    files = _run("git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z").stdout.split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, tree / name)
    (tree / ".venv").symlink_to(REPO / ".venv")
    version = f"{gatewayd.__version__}.1"
    init = tree / "gatewayd" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{gatewayd.__version__}"', f'"{version}"'))
    revision = "9001_upgrade_probe"
    (tree / "gatewayd" / "migrations" / "versions" / f"{revision}.py").write_text(
        f'"""The package test\'s one more migration."""\n'
        f"import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {revision!r}\ndown_revision = {db.head()!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade() -> None:\n    op.create_table('upgrade_probe', sa.Column('id', sa.Integer, primary_key=True))\n\n\n"
        f"def downgrade() -> None:\n    op.drop_table('upgrade_probe')\n"
    )
    return tree, version, revision


class Installed:
    """The installed unit's ExecStartPre and ExecStart, run as its User= (no systemd here)."""

    def __init__(self, log: Path):
        unit = UNIT.read_text()
        self.user = re.search(r"^User=(.+)$", unit, re.M).group(1)
        self.pre = shlex.split(re.search(r"^ExecStartPre=(.+)$", unit, re.M).group(1))
        self.start_line = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M).group(1))
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def run_once(self) -> subprocess.CompletedProcess[str]:
        return _run("runuser", "-u", self.user, "--", *self.start_line, check=False, timeout=120)

    def start(self) -> None:
        _run("runuser", "-u", self.user, "--", *self.pre)
        self.proc = subprocess.Popen(["runuser", "-u", self.user, "--", *self.start_line],
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if ctl("status", user=self.user).returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"the installed gatewayd did not answer:\n{self.log.read_text()}")

    def stop(self) -> None:
        """SIGTERM to the daemon, as systemd sends it (runuser itself would take it as a hang-up)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        os.kill(int(children[0]), signal.SIGTERM)
        assert self.proc.wait(timeout=60) == 0, self.log.read_text()


def ctl(*args: str, user: str) -> subprocess.CompletedProcess[str]:
    return _run("runuser", "-u", user, "--", "/usr/bin/gatewayctl", *args, check=False, timeout=60)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make deb`, once for this module."""
    return build(REPO, tmp_path_factory.mktemp("deb"))


def test_lintian_finds_no_errors(package: Path) -> None:
    result = _run("lintian", "--fail-on", "error", "--display-info", "--tag-display-limit", "0", str(package),
                  check=False)
    assert result.returncode == 0, result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("E:")]
    # gatewayd(8) and gatewayctl(1) are there, and lintian's man checks (man --warnings, whatis) pass
    assert not [line for line in result.stdout.splitlines() if "manual-page" in line or "manpage" in line]


def test_install_run_upgrade_downgrade_and_purge(package: Path, clean_machine: None, tmp_path: Path) -> None:
    deb = package
    assert deb.name == f"gatewayd_{gatewayd.__version__}_{_run('dpkg', '--print-architecture').stdout.strip()}.deb"
    contents = _run("dpkg-deb", "-c", str(deb)).stdout
    assert "/lab/" not in contents and "/tests/" not in contents and "./usr/lib/gatewayd/bin/gatewayd" in contents

    # dpkg -i gatewayd_<version>_<arch>.deb: enabled, not started on the example configuration
    installed = dpkg("-i", str(deb))
    assert f"NOT started: {CONFIG} is still the shipped example" in installed.stdout
    assert WANTS.is_symlink() and ENABLED_STATE.exists()
    for conffile in (CONFIG, CONFIG.with_name("rates.toml")):
        st = conffile.stat()
        assert (oct(st.st_mode & 0o777), grp.getgrgid(st.st_gid).gr_name) == ("0o640", "gatewayd")
    assert "gatewayd-staff" in [g.gr_name for g in grp.getgrall() if "gatewayd" in g.gr_mem]
    assert STATE.is_dir() and pwd.getpwnam("gatewayd").pw_uid != 0

    # man gatewayctl, man gatewayd: found where man looks, and shown without a warning
    for section, program in (("1", "gatewayctl"), ("8", "gatewayd")):
        assert _run("man", "-w", program).stdout.strip() == f"/usr/share/man/man{section}/{program}.{section}.gz"
        shown = subprocess.run(["man", "--warnings", section, program], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"})
        assert (shown.returncode, shown.stderr) == (0, ""), shown.stderr
        assert "\nEXIT STATUS\n" in shown.stdout

    # systemd-analyze verify, on the installed units and the installed paths
    for unit in (UNIT, NIGHTLY, NIGHTLY.with_suffix(".timer")):
        verify = _run("systemd-analyze", "verify", str(unit), check=False)
        assert verify.returncode == 0 and verify.stderr == "", (unit, verify.stderr)

    # edit the configuration; gatewayd check-config
    CONFIG.write_text(CONFIG.read_text().replace('name = "Tower A Business Centre"', 'name = "Tower B Desk"'))
    assert _run("/usr/bin/gatewayd", "check-config", str(CONFIG)).stdout.strip() == f"{CONFIG}: OK"

    # systemctl start gatewayd: its ExecStartPre and ExecStart as User=gatewayd
    daemon = Installed(tmp_path / "daemon.log")
    daemon.start()
    for user in (STAFF, STRANGER):
        _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
    # usermod -aG gatewayd-staff alice
    _run("usermod", "-aG", "gatewayd-staff", STAFF)
    opened = ctl("--json", "ticket", "open", "errand", "--guest", "张先生", "--phone", "13800138000", user=STAFF)
    assert opened.returncode == 0, opened.stderr
    ticket = json.loads(opened.stdout)["id"]
    for step in (["charge", ticket, "Courier to Pudong", "1", "30.00"], ["ticket", "start", ticket],
                 ["ticket", "finish", ticket], ["ticket", "complete", ticket], ["ticket", "settle", ticket]):
        assert ctl(*step, user=STAFF).returncode == 0, step
    before = json.loads(ctl("--json", "ticket", "show", ticket, user=STAFF).stdout)
    assert before["state"] == "settled" and before["receipts"]
    assert json.loads(ctl("--json", "status", user=STAFF).stdout)["site"]["name"] == "Tower B Desk"

    stranger = ctl("status", user=STRANGER)
    assert stranger.returncode == 3
    assert "Permission denied" in stranger.stderr and "usermod -aG gatewayd-staff gwtest-bob" in stranger.stderr

    # gatewayctl backup FILE (staff), and the nightly timer's job: its ExecStart lines as its User=
    home = Path(tempfile.mkdtemp(prefix="gwtest-alice-"))
    try:
        shutil.chown(home, STAFF)
        backup = home / "ledger.backup"
        assert ctl("backup", str(backup), user=STAFF).returncode == 0
        assert ctl("backup", str(home / "theirs.backup"), user=STRANGER).returncode == 3
        nightly = NIGHTLY.read_text()
        assert not Path("/etc/systemd/system/timers.target.wants/gatewayd-backup.timer").is_symlink()  # off
        for line in re.findall(r"^ExecStart=(.+)$", nightly, re.M):
            _run("runuser", "-u", re.search(r"^User=(.+)$", nightly, re.M).group(1), "--",
                 *shlex.split(line.replace("%%", "%")))
        day = time.strftime("%a")
        assert (BACKUPS / f"ledger-{day}.backup").read_bytes()[:16] == b"SQLite format 3\x00"
        assert "spool/" in _run("tar", "-tzf", str(BACKUPS / f"spool-{day}.tar.gz")).stdout

        # systemctl stop gatewayd; gatewayd restore FILE; systemctl start gatewayd
        later = json.loads(ctl("--json", "ticket", "open", "errand", "--guest", "later", "--phone", "2",
                               user=STAFF).stdout)["id"]
        daemon.stop()
        assert _run("/usr/bin/gatewayd", "restore", str(backup)).returncode == 0
    finally:
        shutil.rmtree(home)
    assert (STATE / "gatewayd.sqlite3").owner() == "gatewayd"
    daemon.start()
    assert json.loads(ctl("--json", "ticket", "show", ticket, user=STAFF).stdout) == before
    assert ctl("ticket", "show", later, user=STAFF).returncode == 1  # after the backup: gone with the restore
    daemon.stop()

    # dpkg -i of the next version: the edited configuration is kept, the schema migrated, nothing lost
    tree, version, revision = newer_tree(tmp_path)
    newer = build(tree, tmp_path)
    upgraded = dpkg("-i", str(newer))
    assert "NOT started" not in upgraded.stdout
    assert "Tower B Desk" in CONFIG.read_text()
    daemon.start()
    after = json.loads(ctl("--json", "ticket", "show", ticket, user=STAFF).stdout)
    assert after == before
    assert json.loads(ctl("--json", "status", user=STAFF).stdout)["version"] == version
    daemon.stop()
    with sqlite3.connect(STATE / "gatewayd.sqlite3") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (revision,)

    # dpkg -i of the older package again: its daemon refuses the newer database, naming both
    dpkg("-i", str(deb))
    refused = daemon.run_once()
    assert refused.returncode == 1
    assert f"revision {revision}, newer than this gatewayd {gatewayd.__version__} (schema {db.head()})" in refused.stderr

    # dpkg --purge gatewayd: the configuration goes, the ledger stays (and says so)
    purged = dpkg("--purge", "gatewayd")
    assert "/var/lib/gatewayd (the ledger, receipts and received faxes)\n  is kept" in purged.stdout
    assert not Path("/etc/gatewayd").exists() and not Path("/usr/bin/gatewayd").exists()
    assert (STATE / "gatewayd.sqlite3").is_file() and (BACKUPS / f"ledger-{day}.backup").is_file()
    assert not WANTS.is_symlink() and not ENABLED_STATE.exists()
