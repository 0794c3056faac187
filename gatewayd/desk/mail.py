"""The mail register (信件记录本): letters sorted to pigeonholes, accountable items logged, notified,
picked up against an identity document, and the return list of items for nobody on the roster.

* Ordinary letters are sorted by the roster (``tenants.sort``: company and room must agree, a
  disagreement is flagged on the entry) and counted per tenant's pigeonhole, one entry per batch.
* Registered letters, parcel notices, remittance slips and EMS items are logged one by one; the
  tenant goes on the to-call list at once and the ``desk.notify_command`` runs after the commit.
* Pickup records who collected the item and the identity document checked: its type and last
  digits only — a full ID number is refused, never stored.
* An item for nobody on the roster is 查无此人 (``held``); after ``desk.mail_hold_days`` it is on the
  return list until staff hand it back to the post office (``returned``). Nothing is deleted.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from gatewayd import audit, tenants
from gatewayd.audit import Caller
from gatewayd.db import in_period
from gatewayd.desk.common import iso
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.faxing.notify import run_after_commit
from gatewayd.models import MailItem, MailKind, MailState, Tenant

log = structlog.get_logger("gatewayd.desk")

ACCOUNTABLE = frozenset(MailKind) - {MailKind.LETTER}

#: Identity documents the desk checks at pickup (the type is recorded with the last digits).
ID_TYPES = {
    "resident_id": "居民身份证", "passport": "护照", "hk_macau_permit": "港澳通行证",
    "taiwan_permit": "台湾通行证", "driving_licence": "驾驶证", "staff_card": "工作证", "other": "其他",
}
#: How much of the document number is recorded: enough to tell two people apart, never the number.
LAST_DIGITS = re.compile(r"[0-9A-Za-z]{2,4}")


def log_item(session: Session, caller: Caller, now: datetime, *, kind: str, company: str = "", room: str = "",
             addressee: str = "", count: int = 1, tracking: str = "", sender: str = "",
             notify_command: list[str] | tuple[str, ...] = ()) -> MailItem:
    """Enter letters or one accountable item in the register, sorted by the roster."""
    kind = MailKind(kind)
    if kind is not MailKind.LETTER and count != 1:
        raise InvalidValue(f"a {kind.value} item is logged one by one (count 1), got count {count}")
    if not (company.strip() or room.strip() or addressee.strip()):
        raise InvalidValue("say whom the mail is for: the company and room written on it (or the addressee)")
    tenant, mismatch = tenants.sort(session, company, room)
    if tenant is None:
        state = MailState.HELD  # 查无此人
    else:
        state = MailState.PIGEONHOLED if kind is MailKind.LETTER else MailState.WAITING
    item = MailItem(kind=kind.value, count=count, received_at=now, addressee=addressee.strip(),
                    addressed_company=company.strip(), addressed_room=room.strip(), tracking=tracking.strip(),
                    sender=sender.strip(), tenant=tenant, mismatch=mismatch, state=state.value,
                    logged_by=caller.user, notified_at=now if state is MailState.WAITING else None)
    session.add(item)
    session.flush()
    audit.write(session, caller, now, "mail.log", "mail", str(item.id), None, snapshot(item))
    if state is MailState.WAITING and notify_command:
        run_after_commit(session, lambda s: _notify_argv(tuple(notify_command), item), mail=item.id)
    log.info("mail.logged", mail=item.id, kind=item.kind, state=item.state, tenant=tenant.company if tenant else None)
    return item


def _notify_argv(command: tuple[str, ...], item: MailItem) -> tuple[list[str], dict[str, str]]:
    tenant = item.tenant
    env = {"GATEWAYD_MAIL_ITEM": str(item.id), "GATEWAYD_MAIL_KIND": item.kind,
           "GATEWAYD_MAIL_TENANT": tenant.company if tenant else "", "GATEWAYD_MAIL_ROOM": item.addressed_room,
           "GATEWAYD_MAIL_CONTACT": tenant.contact if tenant else "",
           "GATEWAYD_MAIL_PHONE": tenant.phone if tenant else "", "GATEWAYD_MAIL_TRACKING": item.tracking}
    return [*command, "mail", str(item.id), item.kind, tenant.company if tenant else ""], env


def find(session: Session, item_id: int | str, *, lock: bool = False) -> MailItem:
    query = select(MailItem).where(MailItem.id == int(item_id))
    item = session.scalars(query.with_for_update() if lock else query).first()
    if item is None:
        raise NotFound(f"no mail item {item_id} (see `gatewayctl mail list`)")
    return item


def check_identity(id_type: str, last_digits: str) -> tuple[str, str]:
    """The identity document as recorded: its type and last 2-4 characters, never the number."""
    if not id_type:
        raise InvalidValue(f"id_type is required: which document was checked ({', '.join(ID_TYPES)})")
    if id_type not in ID_TYPES:
        raise InvalidValue(f"id_type must be one of {', '.join(ID_TYPES)}, got {id_type!r}")
    digits = last_digits.strip()
    if len(digits) > 4:
        raise InvalidValue(f"id_last_digits: record only the last 4 characters of the document number, "
                           f"not {len(digits)} (a full ID number is never stored)")
    if not LAST_DIGITS.fullmatch(digits):
        raise InvalidValue(f"id_last_digits must be the last 2-4 letters or digits of the document, got {digits!r}")
    return id_type, digits.upper()


def pick_up(session: Session, caller: Caller, now: datetime, item: MailItem, *, collected_by: str,
            id_type: str, id_last_digits: str) -> MailItem:
    if item.kind == MailKind.LETTER:
        raise Conflict(f"mail {item.id} is ordinary letters in a pigeonhole; only accountable items are signed for")
    if item.state not in (MailState.WAITING, MailState.HELD):
        raise Conflict(f"mail {item.id} is {item.state}; only a waiting or held item can be picked up")
    if not collected_by.strip():
        raise InvalidValue("collected_by: the name of the person collecting the item is required")
    id_type, digits = check_identity(id_type, id_last_digits)
    before = snapshot(item)
    item.state = MailState.PICKED_UP.value
    item.picked_up_at, item.picked_up_by, item.handed_over_by = now, collected_by.strip(), caller.user
    item.id_type, item.id_last_digits = id_type, digits
    session.flush()
    audit.write(session, caller, now, "mail.pick_up", "mail", str(item.id), before, snapshot(item))
    return item


def mark_called(session: Session, caller: Caller, now: datetime, item: MailItem) -> MailItem:
    if item.state != MailState.WAITING:
        raise Conflict(f"mail {item.id} is {item.state}; only an item waiting for its tenant is on the to-call list")
    if item.called_at is not None:
        raise Conflict(f"mail {item.id} was already marked called by {item.called_by}")
    item.called_at, item.called_by = now, caller.user
    session.flush()
    audit.write(session, caller, now, "mail.called", "mail", str(item.id), None, {"called_by": caller.user},
                manual=True)
    return item


def return_due(item: MailItem, hold_days: int) -> datetime:
    return item.received_at + timedelta(days=hold_days)


def return_to_post(session: Session, caller: Caller, now: datetime, item: MailItem, hold_days: int) -> MailItem:
    """Hand a 查无此人 item back to the post office — not before its hold period is over."""
    if item.state != MailState.HELD:
        raise Conflict(f"mail {item.id} is {item.state}; only a held 查无此人 item goes back to the post office")
    due = return_due(item, hold_days)
    if now < due:
        raise Conflict(f"mail {item.id} is held until {due.isoformat()} ({hold_days} days) before it is returned")
    before = snapshot(item)
    item.state, item.returned_at, item.returned_by = MailState.RETURNED.value, now, caller.user
    session.flush()
    audit.write(session, caller, now, "mail.return", "mail", str(item.id), before, snapshot(item))
    return item


# ---------------------------------------------------------------------------- views


def snapshot(item: MailItem) -> dict[str, Any]:
    return {"state": item.state, "kind": item.kind, "count": item.count,
            "tenant": item.tenant.company if item.tenant else None, "mismatch": item.mismatch,
            "picked_up_by": item.picked_up_by, "id_type": item.id_type, "id_last_digits": item.id_last_digits}


def view(item: MailItem, hold_days: int) -> dict[str, Any]:
    held = item.state == MailState.HELD
    return {
        "id": item.id, "kind": item.kind, "count": item.count, "state": item.state,
        "received_at": item.received_at.isoformat(), "addressee": item.addressee,
        "addressed_company": item.addressed_company, "addressed_room": item.addressed_room,
        "tracking": item.tracking, "sender": item.sender,
        "tenant": item.tenant.company if item.tenant else None, "mismatch": item.mismatch,
        "logged_by": item.logged_by, "notified_at": iso(item.notified_at), "called_at": iso(item.called_at),
        "called_by": item.called_by, "picked_up_at": iso(item.picked_up_at), "picked_up_by": item.picked_up_by,
        "id_type": item.id_type, "id_last_digits": item.id_last_digits, "handed_over_by": item.handed_over_by,
        "return_due_at": return_due(item, hold_days).isoformat() if held else None,
        "returned_at": iso(item.returned_at), "returned_by": item.returned_by,
    }


#: The register's order (oldest first), for ``api.pages``.
ORDER = (MailItem.received_at, MailItem.id)


def listing(*, state: str | None = None, kind: str | None = None, since: datetime | None = None,
            until: datetime | None = None) -> Select[tuple[MailItem]]:
    query = select(MailItem).options(selectinload(MailItem.tenant))
    if state:
        query = query.where(MailItem.state == state)
    if kind:
        query = query.where(MailItem.kind == kind)
    query = in_period(query, MailItem.received_at, since, until)
    return query


def pigeonholes(session: Session, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Ordinary letters sorted on a day, counted per tenant's pigeonhole (flagged batches apart)."""
    rows = session.execute(
        select(MailItem.tenant_id, func.sum(MailItem.count), func.count(MailItem.id).filter(MailItem.mismatch != ""))
        .where(MailItem.kind == MailKind.LETTER.value, MailItem.tenant_id.is_not(None),
               MailItem.received_at >= since, MailItem.received_at < until)
        .group_by(MailItem.tenant_id))
    out = []
    for tenant_id, letters, flagged in rows:
        tenant = session.get(Tenant, tenant_id)
        out.append({"tenant": tenant.company, "rooms": tenant.rooms, "letters": int(letters),
                    "flagged_batches": int(flagged)})
    return sorted(out, key=lambda r: r["tenant"])


def to_call() -> Select[tuple[MailItem]]:
    """Tenants to phone about accountable items waiting for them (``to_call_view`` each)."""
    return listing(state=MailState.WAITING.value).where(MailItem.called_at.is_(None))


def to_call_view(item: MailItem) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind, "received_at": item.received_at.isoformat(),
            "tenant": item.tenant.company, "room": item.addressed_room or item.tenant.rooms.split(",")[0],
            "call": item.tenant.contact or item.tenant.company, "phone": item.tenant.phone,
            "tracking": item.tracking}


def to_return(now: datetime, hold_days: int) -> Select[tuple[MailItem]]:
    """The return-to-post-office list: 查无此人 items whose hold period has passed."""
    return listing(state=MailState.HELD.value).where(MailItem.received_at <= now - timedelta(days=hold_days))


def held(session: Session) -> list[MailItem]:
    return list(session.scalars(select(MailItem).where(MailItem.state == MailState.HELD.value)
                                .order_by(MailItem.received_at, MailItem.id)))
