"""The catch-up scan's low-water mark, kept in a small file across daemon restarts.

``low_water`` is the smallest job id that may still need emitting: every job below it reached a
final state and was emitted (and stored by the ledger). Losing the file only costs a re-scan of
the jobs cupsd still remembers; the ledger's natural keys make the re-emitted events no-ops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class JobCursor:
    def __init__(self, path: Path | None, server: str):
        self.path = path
        self.server = server

    def load(self) -> int:
        if self.path is None or not self.path.exists():
            return 1
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return 1  # unreadable: start over; idempotent recording makes that safe
        # Job ids belong to one cupsd: a cursor written for another server means nothing here.
        if data.get("server") != self.server or not isinstance(data.get("low_water"), int):
            return 1
        return max(1, data["low_water"])

    def save(self, low_water: int) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_text(json.dumps({"server": self.server, "low_water": low_water}))
        os.replace(tmp, self.path)  # atomic: a crash leaves the old or the new cursor
