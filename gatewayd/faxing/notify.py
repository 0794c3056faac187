"""The notify command for each received fax, in HylaFAX's ``FaxRcvdCmd`` convention.

Arguments: the received file (TIFF), the modem (device id), the communication id (call id), the
reason the call ended if it was not clean (empty when it was), then the caller's number. What
gatewayd knows beyond HylaFAX is in the environment: ``GATEWAYD_FAX_ENTRY`` (register entry id),
``GATEWAYD_FAX_STATE`` (pending = 待查, assigned), ``GATEWAYD_FAX_TENANT``, ``GATEWAYD_FAX_TICKET``,
``GATEWAYD_FAX_PAGES``, ``GATEWAYD_FAX_FROM`` (sender's station id), and for a matched "notify me"
request ``GATEWAYD_FAX_NOTIFY_NAME`` / ``GATEWAYD_FAX_NOTIFY_PHONE``.

The command starts only after the register entry is committed (a script that asks the API about
the fax finds it), never blocks the ledger's thread, and is logged with its exit status.
"""

from __future__ import annotations

import os
import subprocess
import threading
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from gatewayd.models import FaxIncoming, FaxNotifyRequest

log = structlog.get_logger("gatewayd.fax")

#: A notify command that runs longer than this is killed (it would only pile up).
TIMEOUT_S = 120.0


def command_line(command: tuple[str, ...], entry: FaxIncoming, payload: dict[str, Any]) -> list[str]:
    reason = "" if payload.get("status") == "completed" else (payload.get("hangup") or {}).get("reason", "")
    return [*command, entry.document_path, entry.device, entry.call_id, reason, entry.caller_id]


def environment(session: Session, entry: FaxIncoming) -> dict[str, str]:
    request = session.get(FaxNotifyRequest, entry.notify_request_id) if entry.notify_request_id else None
    return {
        "GATEWAYD_FAX_ENTRY": str(entry.id), "GATEWAYD_FAX_STATE": entry.state,
        "GATEWAYD_FAX_TENANT": entry.tenant.company if entry.tenant else "",
        "GATEWAYD_FAX_TICKET": entry.ticket.number if entry.ticket else "",
        "GATEWAYD_FAX_PAGES": str(entry.pages), "GATEWAYD_FAX_FROM": entry.remote_station_id,
        "GATEWAYD_FAX_NOTIFY_NAME": request.guest_name if request else "",
        "GATEWAYD_FAX_NOTIFY_PHONE": request.phone if request else "",
    }


def after_commit(session: Session, command: tuple[str, ...], entry: FaxIncoming, payload: dict[str, Any]) -> None:
    """Run the command for ``entry`` once ``session`` commits (not at all if it rolls back)."""
    state: dict[str, Any] = {}

    @event.listens_for(session, "before_commit", once=True)
    def snapshot(s: Session) -> None:
        # Taken at commit: the routing and notify-me matching after the entry's creation count.
        s.flush()
        state["argv"] = command_line(command, entry, payload)
        state["env"] = environment(s, entry)

    @event.listens_for(session, "after_commit", once=True)
    def start(s: Session) -> None:
        if "argv" in state:
            threading.Thread(target=_run, args=(state["argv"], state["env"], entry.id),
                             name="fax-notify", daemon=True).start()


def _run(argv: list[str], env: dict[str, str], entry_id: int) -> None:
    bound = log.bind(entry=entry_id, command=argv[0])
    try:
        done = subprocess.run(argv, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        bound.error("fax.notify_failed", error=str(err))
        return
    if done.returncode != 0:
        bound.warning("fax.notify_failed", exit=done.returncode, stderr=done.stderr[-500:])
    else:
        bound.info("fax.notified", args=argv[1:])
