"""The spool's filesystem: how much room is left for faxes and documents, and a warning when little.

A full disk loses received faxes (the modem cannot store the pages) and refuses every document
sent; the front desk should hear about it days before. ``[paths] min_free_mb`` sets the line.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("gatewayd.spool")

CHECK_S = 60


def space(spool_dir: Path, min_free_mb: int) -> dict[str, Any]:
    """Free room on the spool's filesystem (for the daemon's user, not root's reserve)."""
    fs = os.statvfs(spool_dir)
    free_mb = fs.f_bavail * fs.f_frsize // (1 << 20)
    return {"path": str(spool_dir), "free_mb": free_mb, "min_free_mb": min_free_mb, "low": free_mb < min_free_mb}


class SpoolWatch:
    """Checks the spool's free space every minute and logs a warning while it is low (on the
    change, then hourly). Run by the supervisor beside the drivers."""

    name = "spool-space"

    def __init__(self, spool_dir: Path, min_free_mb: int, check_s: float = CHECK_S):
        self.spool_dir, self.min_free_mb, self.check_s = spool_dir, min_free_mb, check_s
        self.last: dict[str, Any] | None = None

    async def run(self, emit: Any) -> None:
        warned_checks = 0
        while True:
            self.last = space(self.spool_dir, self.min_free_mb)
            if self.last["low"]:
                if warned_checks % max(1, round(3600 / self.check_s)) == 0:
                    log.warning("spool.low_space", **self.last)
                warned_checks += 1
            elif warned_checks:
                log.info("spool.space_ok", **self.last)
                warned_checks = 0
            await asyncio.sleep(self.check_s)

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "spool-space", **(self.last or {})}
