"""Who did what: the append-only audit trail, written in the same transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gatewayd.models import AuditEntry


@dataclass(frozen=True)
class Caller:
    """The person (or the daemon itself) behind a change, from the API socket's peer credentials
    (directly, or through the console session their one-time login link opened)."""

    user: str
    uid: int | None = None
    via: str = "api"  # "console" for changes made in the browser


DAEMON = Caller("gatewayd")


def write(
    session: Session,
    caller: Caller,
    now: datetime,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    manual: bool = False,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=caller.user,
            uid=caller.uid,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            manual=manual,
            via=caller.via,
        )
    )


def listing(entity: str | None = None, entity_id: str | None = None) -> Select[Any]:
    query = select(AuditEntry)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    return query


def view(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "actor": e.actor,
        "uid": e.uid,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "before": e.before,
        "after": e.after,
        "manual": e.manual,
        "via": e.via,
    }
