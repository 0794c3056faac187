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
        self._told: tuple[str, float] | None = None  #: the trouble last logged, and when (monotonic)

    def check(self, now: datetime) -> None:
        """Measure the room; a directory that cannot be measured keeps the last figures. Either
        trouble is logged when it starts, then hourly while it lasts (this runs every few seconds)."""
        try:
            room = space(self.spool_dir, self.min_free_mb)
        except OSError as err:
            self._trouble("spool.check_failed", path=str(self.spool_dir), error=str(err))
            return
        self.last = {**room, "checked_at": now.isoformat()}
        if room["low"]:
            self._trouble("spool.low_space", **room)
        elif self._told is not None:
            log.info("spool.space_ok", **room)
            self._told = None

    def _trouble(self, event: str, **fields: Any) -> None:
        if self._told is None or self._told[0] != event or time.monotonic() - self._told[1] >= WARN_EVERY_S:
            log.warning(event, **fields)
            self._told = (event, time.monotonic())
