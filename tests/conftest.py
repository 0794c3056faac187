"""Fixtures shared by every test tier: the two databases and a real gatewayd on a temp socket.

PostgreSQL is the tests' own throw-away server: initdb in a temp dir, listening only on a Unix
socket there, stopped at the end of the session. The server refuses to run as root, so as root it
runs as the ``postgres`` user Debian's package creates.
"""

from __future__ import annotations

import atexit
import glob
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: run `bash scripts/setup.sh` (installs postgresql)")
    return found[-1]


class Postgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gatewayd-pg-"))
        self.data = self.dir / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count()

    def _run(self, *argv: str) -> None:
        subprocess.run([*self.as_user, *argv], check=True, capture_output=True, text=True)

    def start(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        # fsync off: a throw-away test server; no TCP: only the Unix socket in our temp dir.
        options = f"-k {self.dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        subprocess.run([*self.as_user, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}"

    def new_database(self) -> str:
        name = f"gatewayd_test_{os.getpid()}_{next(self._names)}"
        import psycopg

        with psycopg.connect(self.url("postgres").replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store/API test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


def write_config(directory: Path, db_url: str, *, extra: str = "", mode: str = "0660",
                 console: str = 'listen = ""') -> Path:
    """``console``: the [console] table's keys; off by default, so test daemons never fight over a port."""
    path = directory / "gatewayd.toml"
    path.write_text(
        f"""
include = ["{REPO / 'config' / 'rates.toml'}"]

[site]
name = "Test Tower Business Centre"
timezone = "Asia/Shanghai"

[paths]
state_dir = "{directory / 'state'}"

[database]
url = "{db_url}"

[api]
socket = "{directory / 'api.sock'}"
mode = "{mode}"

[logging]
level = "info"

[console]
{console}
{extra}
""",
        encoding="utf-8",
    )
    return path


class Daemon:
    """A real ``gatewayd run`` in a subprocess, talking on a Unix socket in a temp dir."""

    def __init__(self, directory: Path, config: Path):
        self.directory = directory
        self.config = config
        self.socket = directory / "api.sock"
        self.log = directory / "daemon.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "Daemon":
        from gatewayd.ctl import Client, Unreachable

        self.proc = subprocess.Popen(
            [str(BIN / "gatewayd"), "run", "--config", str(self.config)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, cwd=self.directory,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gatewayd exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                Client(str(self.socket), timeout=1).get("/status")
                return self
            except Unreachable:
                time.sleep(0.05)
        raise RuntimeError(f"gatewayd did not answer within {timeout} s:\n{self.log.read_text()}")

    def publish(self) -> "Daemon":
        """Serve the socket from a directory anyone may enter (another user must reach it; the
        test's own directory is private to root); the directory goes when the tests end."""
        public = Path(tempfile.mkdtemp(prefix="gatewayd-sock-"))
        atexit.register(shutil.rmtree, public, True)
        public.chmod(0o755)
        self.config.write_text(self.config.read_text().replace(str(self.socket), str(public / "api.sock")))
        self.socket = public / "api.sock"
        return self

    def client(self):  # type: ignore[no-untyped-def]
        from gatewayd.ctl import Client

        return Client(str(self.socket))

    def ctl(self, *args: str, user: str | None = None) -> subprocess.CompletedProcess:
        argv = [str(BIN / "gatewayctl"), "--socket", str(self.socket), *args]
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def ctl_json(self, *args: str) -> Any:
        """``gatewayctl --json ARGS``'s answer; a refusal fails the test with what gatewayctl said."""
        result = self.ctl("--json", *args)
        assert result.returncode == 0, f"gatewayctl {' '.join(args)}: exit {result.returncode}: {result.stderr}"
        return json.loads(result.stdout)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)


@pytest.fixture
def daemon(tmp_path: Path, db_url: str) -> Iterator[Daemon]:
    d = Daemon(tmp_path, write_config(tmp_path, db_url))
    d.start()
    yield d
    d.stop()
