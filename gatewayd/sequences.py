"""Gap-free yearly numbers (tickets, receipts): bumped in the caller's transaction, so a rolled-back
request gives its number back and the printed sequence never skips."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatewayd.models import Counter

FORMATS = {
    "ticket": "T-{year}-{n:06d}",
    "receipt": "R-{year}-{n:06d}",
    "temporary_receipt": "TR-{year}-{n:06d}",
    "refund_receipt": "RF-{year}-{n:06d}",
}


def next_number(session: Session, name: str, year: int) -> str:
    # FOR UPDATE serialises concurrent writers on PostgreSQL; SQLite has one writer anyway.
    counter = session.scalars(
        select(Counter).where(Counter.name == name, Counter.year == year).with_for_update()
    ).first()
    if counter is None:
        counter = Counter(name=name, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return FORMATS[name].format(year=year, n=counter.last)
