"""What the desk must do by when: every register's deadlines in one list, soonest first.

``gatewayctl due`` shows it, ``gatewayctl status`` counts it. Deadlines are computed from the
registers at the moment asked (the injected clock), so nothing needs a timer to become due.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gatewayd.desk import complaints, mail, rooms
from gatewayd.models import Tenant, TenantVisit

#: The procedure's visit round: every tenant is called on each half year.
VISIT_EVERY = timedelta(days=183)


@dataclass(frozen=True)
class DueItem:
    kind: str  #: mail_return, complaint_reply, visit_reply, visit, booking_task
    ref: str  #: the register entry: "mail 7", "complaint 3", "booking 2"
    what: str
    due_at: datetime
    who: str  #: the department or person expected to act ("" for the desk)
    #: ``what``'s parts as data, for a reader that says it in another language (the console):
    #: the entry's ``id`` and the names, subject and times the sentence is made of
    args: dict[str, Any] = field(default_factory=dict, hash=False)

    def view(self, now: datetime) -> dict[str, Any]:
        return {**asdict(self), "due_at": self.due_at.isoformat(), "overdue": now > self.due_at}


def items(session: Session, settings: dict[str, Any], zone: ZoneInfo) -> list[DueItem]:
    """Every open deadline, whenever it falls (``zone``: the site's, for meeting times in the text)."""
    hold = settings["mail_hold_days"]
    out = [DueItem("mail_return", f"mail {m.id}", f"return {m.kind} for {m.addressee or m.addressed_company} "
                   f"(查无此人) to the post office", mail.return_due(m, hold), "",
                   {"id": m.id, "mail_kind": m.kind, "addressee": m.addressee or m.addressed_company})
           for m in mail.held(session)]
    out += [DueItem("complaint_reply", f"complaint {c.id}", f"reply to {c.complainant}: {c.subject[:60]}",
                    c.reply_due_at, c.department,
                    {"id": c.id, "complainant": c.complainant, "subject": c.subject[:60]})
            for c in complaints.awaiting_reply(session)]
    out += [DueItem("visit_reply", f"visit {v.id}", f"written answer to {v.tenant.company}: {v.opinions[:60]}",
                    v.reply_due_at, v.visited_by, {"id": v.id, "company": v.tenant.company, "opinions": v.opinions[:60]})
            for v in complaints.visits_awaiting_reply(session) if v.reply_due_at is not None]
    last_visit = dict(session.execute(select(TenantVisit.tenant_id, func.max(TenantVisit.visited_at))
                                      .group_by(TenantVisit.tenant_id)).all())
    for tenant in session.scalars(select(Tenant).order_by(Tenant.company)):
        since = last_visit.get(tenant.id) or tenant.created_at
        out.append(DueItem("visit", f"tenant {tenant.id}", f"half-yearly visit to {tenant.company}",
                           since + VISIT_EVERY, "", {"id": tenant.id, "company": tenant.company}))
    out += [DueItem("booking_task", f"booking {t.booking.id}",
                    f"{rooms.CHECKLIST_TEXT.get(t.item, t.item)}: {t.booking.room.name}, meeting "
                    f"{t.booking.starts_at.astimezone(zone):%Y-%m-%d %H:%M}", t.due_at, t.department,
                    {"id": t.booking.id, "item": t.item, "room": t.booking.room.name,
                     "starts_at": t.booking.starts_at.isoformat()})
            for t in rooms.open_tasks(session)]
    return sorted(out, key=lambda i: (i.due_at, i.ref))


def upcoming(session: Session, settings: dict[str, Any], zone: ZoneInfo, now: datetime,
             within: timedelta) -> list[dict[str, Any]]:
    """What is overdue, and what falls due before ``now + within``."""
    horizon = now + within
    return [item.view(now) for item in items(session, settings, zone) if item.due_at <= horizon]


def counts(session: Session, settings: dict[str, Any], zone: ZoneInfo, now: datetime) -> dict[str, int]:
    """For ``gatewayctl status``: overdue, and due within the next day."""
    all_items = items(session, settings, zone)
    return {"overdue": sum(1 for i in all_items if i.due_at < now),
            "due_today": sum(1 for i in all_items if now <= i.due_at <= now + timedelta(days=1))}
