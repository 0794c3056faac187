"""The tenant roster the front desk works from: companies, their rooms and contacts.

The roster arrives as a CSV from building management; a row that cannot be used is reported with
its line number and reason and the rest are imported (a re-import updates companies by name).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatewayd import audit
from gatewayd.audit import Caller
from gatewayd.errors import InvalidValue, NotFound
from gatewayd.models import Tenant

COLUMNS = ("company", "rooms", "contact", "phone", "email", "fax_numbers")
_ROOM = re.compile(r"^[0-9A-Za-z-]{1,10}$")
_PHONE = re.compile(r"^[0-9+() -]{3,30}$")


def view(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "company": tenant.company,
        "rooms": [r for r in tenant.rooms.split(",") if r],
        "contact": tenant.contact,
        "phone": tenant.phone,
        "email": tenant.email,
        "fax_numbers": [n for n in tenant.fax_numbers.split(",") if n],
    }


def find(session: Session, company: str) -> Tenant:
    tenant = session.scalars(select(Tenant).where(Tenant.company == company)).first()
    if tenant is None:
        raise NotFound(f"no tenant company {company!r} in the roster (see `gatewayctl tenant list`)")
    return tenant


def sort(session: Session, company: str, room: str) -> tuple[Tenant | None, str]:
    """Whose mail this is by the roster, as the desk sorts it: the company named, whose rooms must
    include the room written (or the room's tenant when the company is unknown). Returns the tenant
    (None: nobody on the roster, 查无此人) and the disagreement to flag ("" when they agree)."""
    company, room = company.strip(), room.strip()
    by_company = session.scalars(select(Tenant).where(Tenant.company == company)).first() if company else None
    by_room = None
    if room:
        by_room = next((t for t in session.scalars(select(Tenant).order_by(Tenant.id))
                        if room in t.rooms.split(",")), None)
    if by_company is not None:
        if room and by_room is not by_company:
            where = f"room {room} is {by_room.company}'s" if by_room else f"room {room} is nobody's"
            return by_company, f"{where}, not {company}'s ({by_company.rooms or 'no rooms listed'})"
        return by_company, ""
    if by_room is not None:
        named = f"{company!r} is not on the roster" if company else "no company written"
        return by_room, f"{named}; room {room} is {by_room.company}'s"
    return None, ""


def _clean(fields: dict[str, str]) -> dict[str, str]:
    """Normalise one roster entry; raise InvalidValue naming the bad field."""
    company = fields.get("company", "").strip()
    if not company:
        raise InvalidValue("company is empty")
    rooms = [r.strip() for r in re.split(r"[,;/ ]+", fields.get("rooms", "")) if r.strip()]
    for room in rooms:
        if not _ROOM.match(room):
            raise InvalidValue(f"room {room!r} is not a room number like 1203 or B2-05")
    phone = fields.get("phone", "").strip()
    if phone and not _PHONE.match(phone):
        raise InvalidValue(f"phone {phone!r} has characters a phone number cannot have")
    email = fields.get("email", "").strip()
    if email and "@" not in email:
        raise InvalidValue(f"email {email!r} has no @")
    faxes = [n.strip() for n in re.split(r"[,;]+", fields.get("fax_numbers", "")) if n.strip()]
    return {
        "company": company,
        "rooms": ",".join(rooms),
        "contact": fields.get("contact", "").strip(),
        "phone": phone,
        "email": email,
        "fax_numbers": ",".join(faxes),
    }


def upsert(session: Session, caller: Caller, now: datetime, fields: dict[str, str]) -> Tenant:
    values = _clean(fields)
    tenant = session.scalars(select(Tenant).where(Tenant.company == values["company"])).first()
    before = view(tenant) if tenant else None
    if tenant is None:
        tenant = Tenant(created_at=now, **values)
        session.add(tenant)
    else:
        for key, value in values.items():
            setattr(tenant, key, value)
    session.flush()
    audit.write(session, caller, now, "tenant.save", "tenant", str(tenant.id), before, view(tenant))
    return tenant


def import_csv(session: Session, caller: Caller, now: datetime, text: str) -> dict[str, Any]:
    """Import a roster; returns counts and the rejected rows with their reasons."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "company" not in header:
        raise InvalidValue(f"the CSV needs a header row with at least 'company' (columns: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InvalidValue(f"unknown CSV columns {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    imported, rejected, seen = 0, [], set()
    for row in reader:
        fields = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        line = reader.line_num
        if None in row:
            rejected.append({"line": line, "reason": "more fields than header columns", "row": fields})
            continue
        company = fields.get("company", "")
        if company in seen:
            rejected.append({"line": line, "reason": f"company {company!r} appears twice in the file", "row": fields})
            continue
        try:
            with session.begin_nested():
                upsert(session, caller, now, fields)
        except InvalidValue as err:
            rejected.append({"line": line, "reason": err.detail, "row": fields})
            continue
        seen.add(company)
        imported += 1
    return {"imported": imported, "rejected": rejected}
