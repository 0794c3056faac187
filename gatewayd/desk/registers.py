"""The typing register (打字服务记录本) and the copy register (复印服务记录本), per day like the fax
registers, and the typed files a customer asked the desk to keep.

A typing ticket's file is stored with the customer's answer: kept until a date, or not kept (it
goes when the ticket is settled or cancelled). :func:`sweep` deletes a file once its date has
passed — never before — and writes who/when/why to the audit trail; the entry stays in the register.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from gatewayd import audit, tickets
from gatewayd.audit import DAEMON, Caller
from gatewayd.db import in_period
from gatewayd.desk.common import iso, utc
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.models import Ticket, TicketKind, TicketState, TypingFile

log = structlog.get_logger("gatewayd.desk")

_UNSAFE = re.compile(r"[^\w.\-]+")
#: A ticket closed this way no longer needs a file the customer did not ask to keep.
CLOSED = (TicketState.SETTLED.value, TicketState.CANCELLED.value)


def is_typing(ticket: Ticket) -> bool:
    return ticket.kind == TicketKind.PRINT and ticket.params.get("service") == "typing"


def store_file(session: Session, caller: Caller, now: datetime, ticket: Ticket, spool: Path, *, filename: str,
               content: bytes, keep_until: datetime | None) -> TypingFile:
    """Keep the typed document of a typing ticket (until ``keep_until``, or until the ticket closes)."""
    if not is_typing(ticket):
        raise Conflict(f"ticket {ticket.number} is not a typing ticket (a print ticket with service=typing)")
    if ticket.state in CLOSED:
        raise Conflict(f"ticket {ticket.number} is {ticket.state}; its typed file is no longer taken")
    if keep_until is not None and utc(keep_until) <= now:
        raise InvalidValue(f"keep_until {keep_until.isoformat()} has already passed")
    name = _UNSAFE.sub("_", Path(filename).name).strip("._")[:100] or "document"
    folder = spool / "typing" / ticket.number
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex[:8]}-{name}"
    path.write_bytes(content)
    row = TypingFile(ticket=ticket, filename=name, path=str(path), size=len(content),
                     keep_until=utc(keep_until) if keep_until else None, stored_by=caller.user, stored_at=now)
    session.add(row)
    session.flush()
    audit.write(session, caller, now, "typing_file.store", "ticket", ticket.number, None, file_view(row))
    return row


def find_file(session: Session, file_id: int | str) -> TypingFile:
    row = session.get(TypingFile, int(file_id))
    if row is None:
        raise NotFound(f"no typed file {file_id}")
    return row


def sweep(session: Session, now: datetime) -> list[int]:
    """Delete the typed files whose keeping has ended: past their date, or not kept and their
    ticket closed. Each deletion is audited; the file's entry stays."""
    due = session.scalars(select(TypingFile).join(Ticket).where(
        TypingFile.deleted_at.is_(None),
        or_(TypingFile.keep_until <= now, TypingFile.keep_until.is_(None) & Ticket.state.in_(CLOSED)))
        .with_for_update(of=TypingFile))
    deleted = []
    for row in due:
        # Gone from disk before the row says so: a failed commit leaves a file already deleted,
        # which the next sweep records, never a file kept past its date.
        Path(row.path).unlink(missing_ok=True)
        row.deleted_at = now
        reason = (f"kept until {row.keep_until.isoformat()}" if row.keep_until
                  else f"not kept; ticket {row.ticket.state}")
        audit.write(session, DAEMON, now, "typing_file.delete", "ticket", row.ticket.number, None,
                    {"file": row.id, "filename": row.filename, "reason": reason})
        log.info("desk.typing_file_deleted", ticket=row.ticket.number, file=row.id, reason=reason)
        deleted.append(row.id)
    session.flush()
    return deleted


def file_view(row: TypingFile) -> dict[str, Any]:
    return {"id": row.id, "ticket": row.ticket.number, "filename": row.filename, "size": row.size,
            "keep_until": iso(row.keep_until), "stored_by": row.stored_by, "stored_at": row.stored_at.isoformat(),
            "deleted_at": iso(row.deleted_at)}


def files(session: Session, ticket: Ticket) -> list[dict[str, Any]]:
    return files_of(session, [ticket])[ticket.id]


def files_of(session: Session, found: list[Ticket]) -> dict[int, list[dict[str, Any]]]:
    """Each ticket's kept files, in one query for any number of tickets."""
    kept: dict[int, list[dict[str, Any]]] = {t.id: [] for t in found}
    if found:
        for row in session.scalars(select(TypingFile).where(TypingFile.ticket_id.in_(list(kept)))
                                   .order_by(TypingFile.id)):
            kept[row.ticket_id].append(file_view(row))
    return kept


# ---------------------------------------------------------------------------- the registers


def _lines(ticket: Ticket, prefix: str) -> Decimal:
    return sum((c.quantity for c in ticket.charges if c.rule.startswith(prefix)), Decimal(0))


#: A register's order (oldest first), for ``api.pages``.
ORDER = (Ticket.created_at, Ticket.id)


def _day_tickets(kind: TicketKind, since: datetime | None, until: datetime | None) -> Select[tuple[Ticket]]:
    query = select(Ticket).where(Ticket.kind == kind.value).options(selectinload(Ticket.tenant),
                                                                    selectinload(Ticket.charges))
    query = in_period(query, Ticket.created_at, since, until)
    return query


def _common(ticket: Ticket) -> dict[str, Any]:
    return {"ticket": ticket.number, "opened_at": ticket.created_at.isoformat(), "opened_by": ticket.opened_by,
            "customer": ticket.tenant.company if ticket.tenant else ticket.guest_name, "room": ticket.room,
            "state": ticket.state, "completed_at": iso(ticket.completed_at), "signed_by": ticket.signed_by,
            "charged": str(tickets.total(ticket).quantize(Decimal("0.01")))}


def typing_tickets(since: datetime | None, until: datetime | None) -> Select[tuple[Ticket]]:
    """打字服务记录本: the typing tickets opened in the period (``typing_lines`` shows them)."""
    return _day_tickets(TicketKind.PRINT, since, until).where(Ticket.params["service"].as_string() == "typing")


def copy_tickets(since: datetime | None, until: datetime | None) -> Select[tuple[Ticket]]:
    """复印服务记录本: the copy tickets opened in the period (``copy_lines`` shows them)."""
    return _day_tickets(TicketKind.COPY, since, until)


def typing_lines(session: Session, found: list[Ticket]) -> list[dict[str, Any]]:
    out = []
    every = files_of(session, found)
    for ticket in found:
        kept = every[ticket.id]
        out.append({**_common(ticket), "pages": int(_lines(ticket, "typing.")),
                    "printed_sides": int(_lines(ticket, "print.prices")),
                    "files": kept, "keep_until": max((f["keep_until"] or "" for f in kept), default="") or None})
    return out


def copy_lines(found: list[Ticket]) -> list[dict[str, Any]]:
    out = []
    for ticket in found:
        p = ticket.params
        counted = (p.get("metering") or {}).get("customer_count") or {}
        out.append({**_common(ticket), "device": ticket.device, "media": p.get("media", ""),
                    "duplex": p.get("duplex", ""), "sets": p.get("sets", ""),
                    "scale_percent": p.get("scale_percent", ""), "sides": int(_lines(ticket, "copy.prices")),
                    "customer_count": counted.get("sides")})
    return out
