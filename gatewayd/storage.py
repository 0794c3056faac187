"""Is the database usable? A full disk, a read-only database or an unreachable server is told to
staff as what it is -- a 503 naming the cause, ``GET /status``, ``gatewayctl status`` and
systemd's status line -- instead of "internal error". Writes already acknowledged are not at
risk: a refused write is rolled back whole, as every other refusal is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from gatewayd.errors import LedgerError

DISK_FULL, READ_ONLY, UNREACHABLE = "disk full", "read-only", "unreachable"
#: Below this much free space beside a SQLite database, it is called full before a write fails
#: (SQLite reuses its WAL file, so a full disk does not always fail the next write).
MIN_FREE_BYTES = 1 << 20

# (words in the driver's message, or a PostgreSQL SQLSTATE) -> cause
_SIGNS = [
    (("database or disk is full", "no space left on device", "53100", "53000"), DISK_FULL),
    (("readonly database", "read-only", "25006"), READ_ONLY),
    (("connection refused", "could not connect", "connection to server", "server closed the connection",
      "no such file or directory", "unable to open database file", "not currently accepting connections",
      "08001", "08006", "57p01"), UNREACHABLE),
]


class StorageUnavailable(LedgerError):
    status = 503
    title = "Storage unavailable"


def cause_of(err: BaseException, engine: Engine | None = None) -> str | None:
    """The storage cause behind a database error, or None if it is not about the storage."""
    original = getattr(err, "orig", err)
    said = f"{original} {getattr(original, 'sqlstate', '') or ''}".lower()
    cause = next((cause for signs, cause in _SIGNS if any(sign in said for sign in signs)), None)
    folder = _sqlite_folder(engine)
    # SQLite in WAL mode on a read-only filesystem cannot even open the file: say why.
    if cause == UNREACHABLE and folder is not None and os.statvfs(folder).f_flag & os.ST_RDONLY:
        return READ_ONLY
    return cause


def _sqlite_folder(engine: Engine | None) -> Path | None:
    if engine is None or engine.url.get_backend_name() != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database).parent


def unavailable(err: DBAPIError, cause: str) -> StorageUnavailable:
    said = str(getattr(err, "orig", err)).strip().splitlines()[0][:200]
    return StorageUnavailable(f"the database is {cause}: {said}; nothing was recorded, try again when it is fixed")


@dataclass
class StorageHealth:
    problem: str | None = None  #: DISK_FULL, READ_ONLY, UNREACHABLE or None
    detail: str = ""
    since: datetime | None = None
    checked_at: datetime | None = None  #: the last probe, or the last write refused for it

    def set(self, problem: str | None, detail: str, now: datetime) -> bool:
        """Record the state; True when it changed (worth a log line and a systemd status)."""
        changed = problem != self.problem
        if changed:
            self.since = now
        self.checked_at = now
        self.problem, self.detail = problem, detail if problem else ""
        return changed

    def view(self) -> dict[str, Any]:
        return {"problem": self.problem, "detail": self.detail,
                "since": self.since.isoformat() if self.problem and self.since else None,
                "checked_at": self.checked_at.isoformat() if self.checked_at else None}

    def status_line(self, serving: str) -> str:
        return f"database {self.problem}: {self.detail}" if self.problem else serving


def probe(engine: Engine) -> tuple[str | None, str]:
    """(cause, detail) of what is wrong with the database now, or (None, ""): a write it must
    accept (rolled back, so nothing changes) and, for SQLite, the free space beside it."""
    try:
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            transaction.rollback()
    except DBAPIError as err:
        cause = cause_of(err, engine)
        if cause is None:
            raise
        return cause, str(getattr(err, "orig", err)).strip().splitlines()[0][:200]
    if (folder := _sqlite_folder(engine)) is not None:
        info = os.statvfs(folder)
        free = info.f_bavail * info.f_frsize
        if free < MIN_FREE_BYTES:
            return DISK_FULL, f"{free:,} bytes free in {folder}"
    return None, ""
