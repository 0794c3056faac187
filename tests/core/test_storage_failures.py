"""Storage failures (issue 10, item 13), for real: the daemon's state on a small tmpfs that is
filled up and then remounted read-only (root only). Each write is a 503 naming the cause,
``gatewayctl status`` and systemd's status line say it, what was acknowledged stays, and a
read-only database is refused at start. An unreachable PostgreSQL is refused at start, named."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd.ctl import Refused
from tests.conftest import BIN, Daemon, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "state"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def wait_for_status(d: Daemon, problem: str | None, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        database = d.client().get("/status")["database"]
        if database["problem"] == problem or time.monotonic() > deadline:
            return database
        time.sleep(0.3)


def test_disk_full_then_read_only_are_503s_naming_the_cause(tmp_path: Path, small_disk: Path) -> None:
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(20)
    config = write_config(tmp_path, f"sqlite:///{small_disk / 'gatewayd.sqlite3'}")
    config.write_text(config.read_text().replace(f'state_dir = "{tmp_path / "state"}"', f'state_dir = "{small_disk}"'))
    d = Daemon(tmp_path, config)
    os.environ["NOTIFY_SOCKET"] = str(notify_path)
    try:
        d.start()
    finally:
        del os.environ["NOTIFY_SOCKET"]
    try:
        c = d.client()
        kept = [c.post("/tickets", {"kind": "errand", "guest_name": f"guest {n}"})["id"] for n in range(5)]
        filler = small_disk / "filler"
        with filler.open("wb", buffering=0) as f:  # the disk is full
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        with pytest.raises(Refused) as refused:
            for n in range(200):  # the WAL has some room of its own: write until it is gone
                c.post("/tickets", {"kind": "errand", "guest_name": "x" * 200, "note": "y" * 1000})
        assert refused.value.status == 503 and "the database is disk full" in refused.value.detail
        assert wait_for_status(d, "disk full")["problem"] == "disk full"
        status = d.ctl("status")
        assert "DATABASE DISK FULL" in status.stdout, status.stdout
        messages = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("STATUS=database disk full" in m for m in messages):
            messages.append(listener.recv(4096).decode())
        assert any("STATUS=database disk full" in m for m in messages), messages
        filler.unlink()
        assert wait_for_status(d, None)["problem"] is None
        kept.append(c.post("/tickets", {"kind": "errand", "guest_name": "after"})["id"])

        assert "Traceback" not in d.log.read_text() and "internal error" not in d.log.read_text()
    finally:
        d.stop()
        listener.close()
    # Read-only (a filesystem remounted so after an error, say) is noticed at start, named.
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    started = subprocess.run([str(BIN / "gatewayd"), "run", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 1
    assert "is read-only" in started.stderr and "Traceback" not in started.stderr, started.stderr
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    d.start()  # and nothing acknowledged was lost on the way
    try:
        assert [d.client().get(f"/tickets/{n}")["id"] for n in kept] == kept
    finally:
        d.stop()


def test_an_unreachable_postgresql_is_refused_at_start_naming_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"postgresql://gatewayd@/gatewayd?host={tmp_path / 'no-server-here'}")
    started = subprocess.run([str(BIN / "gatewayd"), "run", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 1, started.stderr
    assert "is unreachable" in started.stderr and "Traceback" not in started.stderr, started.stderr


def test_postgresql_read_only_then_unreachable_while_running(tmp_path: Path, postgres) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    url = postgres.new_database()
    name = url.split("@/", 1)[1].split("?")[0]
    admin = psycopg.connect(postgres.url("postgres").replace("postgresql+psycopg", "postgresql"), autocommit=True)

    def server(*statements: str) -> None:
        for statement in statements:
            admin.execute(statement)
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    d = Daemon(tmp_path, write_config(tmp_path, url))
    d.start()
    try:
        c = d.client()
        kept = c.post("/tickets", {"kind": "errand", "guest_name": "before"})["id"]
        server(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        with pytest.raises(Refused) as refused:
            c.post("/tickets", {"kind": "errand", "guest_name": "read-only"})
        assert refused.value.status == 503 and "the database is read-only" in refused.value.detail
        assert "DATABASE READ-ONLY" in d.ctl("status").stdout
        server(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        assert wait_for_status(d, None)["problem"] is None
        server(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        with pytest.raises(Refused) as refused:
            c.post("/tickets", {"kind": "errand", "guest_name": "nobody home"})
        assert refused.value.status == 503 and "the database is unreachable" in refused.value.detail
        server(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert wait_for_status(d, None)["problem"] is None
        assert c.get(f"/tickets/{kept}")["id"] == kept
        assert "Traceback" not in d.log.read_text()
    finally:
        d.stop()
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
