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
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from drivers.fax.record import CallStatus
from gatewayd.faxing.calls import ReceivedFax
from gatewayd.models import FaxIncoming, FaxNotifyRequest

log = structlog.get_logger("gatewayd.fax")

#: A notify command that runs longer than this is killed (it would only pile up).
TIMEOUT_S = 120.0


def command_line(command: tuple[str, ...], entry: FaxIncoming, call: ReceivedFax) -> list[str]:
    reason = "" if call.status is CallStatus.COMPLETED else call.hangup_reason
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


def after_commit(session: Session, command: tuple[str, ...], entry: FaxIncoming, call: ReceivedFax) -> None:
    """Run the command for ``entry`` once ``session`` commits (not at all if it rolls back)."""
    run_after_commit(session, lambda s: (command_line(command, entry, call), environment(s, entry)),
                     entry=entry.id)


def run_after_commit(session: Session, build: Callable[[Session], tuple[list[str], dict[str, str]]],
                     **ids: Any) -> None:
    """Run the command line ``build`` returns once ``session`` commits, in a thread of its own.

    ``build`` is called at commit, so what the transaction did after the caller's change counts
    (the fax's routing and notify-me matching); ``ids`` are bound to the command's log lines. The
    mail register (``gatewayd.desk.mail``) notifies through here too."""
    state: dict[str, Any] = {}

    @event.listens_for(session, "before_commit", once=True)
    def snapshot(s: Session) -> None:
        s.flush()
        state["argv"], state["env"] = build(s)

    @event.listens_for(session, "after_commit", once=True)
    def start(s: Session) -> None:
        if "argv" in state:
            threading.Thread(target=_run, args=(state["argv"], state["env"], ids),
                             name="notify", daemon=True).start()


def _run(argv: list[str], env: dict[str, str], ids: dict[str, Any]) -> None:
    bound = log.bind(**ids, command=argv[0])
    try:
        done = subprocess.run(argv, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        bound.error("notify.failed", error=str(err))
        return
    if done.returncode != 0:
        bound.warning("notify.failed", exit=done.returncode, stderr=done.stderr[-500:])
    else:
        bound.info("notify.done", args=argv[1:])
