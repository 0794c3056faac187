"""The spool's filesystem: how much room is left for faxes and documents, and a warning when little.

A full disk loses received faxes (the modem cannot store the pages) and refuses every document
sent; the front desk should hear about it days before. ``[paths] min_free_mb`` sets the line.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("gatewayd.spool")

#: While the room stays low, the warning is repeated this often (it is checked every few seconds).
WARN_EVERY_S = 3600.0


def space(spool_dir: Path, min_free_mb: int) -> dict[str, Any]:
    """Free room on the spool's filesystem (for the daemon's user, not root's reserve)."""
    fs = os.statvfs(spool_dir)
    free_mb = fs.f_bavail * fs.f_frsize // (1 << 20)
    return {"path": str(spool_dir), "free_mb": free_mb, "min_free_mb": min_free_mb, "low": free_mb < min_free_mb}


class SpoolRoom:
    """The spool's free room as last checked (by ``gatewayd.checkup``), and a warning in the log
    while it is low: on the change, then hourly."""

    def __init__(self, spool_dir: Path, min_free_mb: int):
        self.spool_dir, self.min_free_mb = spool_dir, min_free_mb
        self.last: dict[str, Any] | None = None  #: ``space()`` and its checked_at
        self._warned_at: float | None = None  # monotonic

    def check(self, now: datetime) -> None:
        room = space(self.spool_dir, self.min_free_mb)
        self.last = {**room, "checked_at": now.isoformat()}
        if room["low"]:
            if self._warned_at is None or time.monotonic() - self._warned_at >= WARN_EVERY_S:
                log.warning("spool.low_space", **room)
                self._warned_at = time.monotonic()
        elif self._warned_at is not None:
            log.info("spool.space_ok", **room)
            self._warned_at = None
