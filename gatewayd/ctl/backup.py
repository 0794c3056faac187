"""gatewayctl backup: the ledger into a file, while the daemon runs (staff only)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gatewayd.ctl.client import Client
from gatewayd.ctl.core import Result


def backup(args: argparse.Namespace, client: Client) -> Result:
    data = client.request_bytes("GET", "/backup")
    target = Path(args.file)
    partial = target.with_name(target.name + ".partial")
    # The whole ledger: readable by whoever took it, nobody else; complete or not there at all.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return {"file": str(target), "bytes": len(data)}, f"backup written: {target} ({len(data)} bytes)"


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="back up the ledger into FILE while the daemon runs (staff only)")
    b.add_argument("file", help="where to write it (mode 0600); restore with: gatewayd restore FILE")
    b.set_defaults(handler=backup)
