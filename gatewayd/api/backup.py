"""``GET /backup``: the whole ledger as one file, taken on the database thread while the daemon runs."""

from __future__ import annotations

from datetime import datetime, timezone

import structlog

from gatewayd import backup
from gatewayd.api.app import Api, Call, Route
from gatewayd.api.server import Response
from gatewayd.errors import LedgerError

log = structlog.get_logger("gatewayd.backup")


class BackupFailed(LedgerError):
    status = 503
    title = "Backup failed"


def take(api: Api, call: Call) -> Response:
    with api.ledger.transaction() as s:
        engine = s.get_bind().engine
    try:
        data = backup.dump(engine)
    except backup.BackupError as err:
        raise BackupFailed(str(err)) from err
    kind = "sqlite3" if engine.url.get_backend_name() == "sqlite" else "pgdump"
    name = f"gatewayd-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.{kind}"
    log.info("backup.taken", bytes=len(data), kind=kind, by=call.caller.user)
    return Response(200, data, "application/octet-stream", [("content-disposition", f'attachment; filename="{name}"')])


ROUTES = [
    Route("GET", "/backup", "The whole ledger as one file (SQLite backup API or pg_dump), for gatewayctl backup",
          take, staff_only=True),
]
