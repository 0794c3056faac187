"""The daemon's surroundings as last checked: the database's storage, the spool's free room and
the desk's deadline counts.

The daemon checks them every ``CHECK_S`` seconds (``Daemon._keep_checking``, on the database
thread), and the storage again whenever a write fails (``Api.db``); ``GET /status`` reports the
last result of each with when it was checked. /status is what monitors, the console's pages and
``gatewayctl status`` poll: run per request, these checks (queries queued behind the writes, a
statvfs) made it four times dearer than moving its bytes, for figures that change over minutes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

from gatewayd import storage
from gatewayd.spool import SpoolRoom
from gatewayd.storage import StorageHealth


#: Short, so a disk that filled up or was fixed is told within seconds (the checks are cheap).
CHECK_S = 5.0


class Checkup:
    def __init__(self, ledger: Any = None, services: Any = None, health: StorageHealth | None = None):
        self.ledger, self.services = ledger, services
        self.storage = health or StorageHealth()
        config = services.config if services else None  # ([paths] changes need a restart)
        self.spool = SpoolRoom(config.spool_dir, config.paths["min_free_mb"]) if config else None
        self.due: dict[str, Any] | None = None  #: overdue, due_today, checked_at

    def check(self) -> None:
        """The spool's room and the deadline counts, now; run on the database thread. A check
        that cannot be made keeps the last result, whose ``checked_at`` then tells its age."""
        from gatewayd.desk import due

        now = self.ledger.clock()
        self.spool.check(now)
        try:
            with self.ledger.transaction() as session:
                counts = due.counts(session, self.services.config.desk, self.ledger.timezone, now)
        except DBAPIError as err:
            if storage.cause_of(err, self.ledger.sessions.kw["bind"]) is None:
                raise
            return  # the storage probe names the cause; the counts keep their last checked_at
        self.due = {**counts, "checked_at": now.isoformat()}

    def view(self) -> dict[str, Any]:
        return {"database": self.storage.view(), "spool": self.spool.last if self.spool else None, "due": self.due}
