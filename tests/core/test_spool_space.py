"""The spool's free space: in `gatewayctl status`, in /status and in the log, with a warning below
``[paths] min_free_mb``."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from tests.conftest import Daemon, write_config
from tests.core.test_config import GOOD, check


def test_status_shows_the_spools_free_space(daemon: Daemon) -> None:
    room = daemon.client().get("/status")["spool"]
    assert room["path"] == str(daemon.directory / "state" / "spool")
    assert room["free_mb"] > 0 and room["min_free_mb"] == 500 and room["low"] is (room["free_mb"] < 500)
    # (other processes share the disk: the figure moves between two reads)
    assert re.search(rf"^spool: \d+ MB free in {re.escape(room['path'])}$", daemon.ctl("status").stdout, re.M)


def test_a_spool_short_of_room_is_warned_about_in_status_log_and_console(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path, db_url)
    # More than any disk here has: the warning every front desk would get with a full disk.
    config.write_text(config.read_text().replace("[paths]\n", "[paths]\nmin_free_mb = 1000000000\n", 1))
    daemon = Daemon(tmp_path, config).start()
    try:
        room = daemon.client().get("/status")["spool"]
        assert room["low"] is True and room["min_free_mb"] == 1000000000
        assert "LOW, below 1000000000 MB: received faxes may be lost" in daemon.ctl("status").stdout
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "spool.low_space" not in daemon.log.read_text():
            time.sleep(0.1)
        warning = next(json.loads(line) for line in daemon.log.read_text().splitlines()
                       if "spool.low_space" in line)
        assert warning["level"] == "warning" and warning["min_free_mb"] == 1000000000
        assert warning["path"] == room["path"] and isinstance(warning["free_mb"], int)
    finally:
        daemon.stop()


def test_min_free_mb_must_be_a_positive_whole_number(tmp_path: Path) -> None:
    for value, reason in (("0", "must be positive, got 0"), ('"lots"', "must be an integer")):
        result = check(tmp_path, GOOD + f"\n[paths]\nmin_free_mb = {value}\n")
        assert result.returncode == 2 and "paths.min_free_mb" in result.stderr and reason in result.stderr, result.stderr


def test_a_spool_that_cannot_be_measured_is_logged_once_not_every_check(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from structlog.testing import capture_logs

    from gatewayd.spool import SpoolRoom

    room = SpoolRoom(tmp_path / "gone", 100)
    with capture_logs() as logged:
        for _ in range(3):  # the checkup's 5 s rounds
            room.check(datetime.now(timezone.utc))
    assert [e["event"] for e in logged] == ["spool.check_failed"] and room.last is None
