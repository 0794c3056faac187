"""The ledger's front door: one transaction per request, the clock, and the site's calendar.

Blocking (SQLAlchemy sessions); the daemon calls it from its single writer thread, so SQLite never
sees two writers. Concurrent writers on PostgreSQL (several sites) are kept apart by row locks and
the tickets' version column: a lost race is a 409, never a lost update.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from contextlib import contextmanager
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from gatewayd import events, tenants, tickets
from gatewayd.audit import Caller
from gatewayd.errors import Conflict
from gatewayd.models import Ticket


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Ledger:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        timezone_: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
        services: Any = None,
        kinds: dict[str, events.EventKind] | None = None,
    ):
        self.sessions = sessions
        self.timezone = timezone_
        self.clock = clock
        self.services = services  #: gatewayd.services.Services, shared with the daemon (reloads)
        self.kinds = kinds or {}  #: how each kind of device event is matched and billed

    def context(self, caller: Caller, *, manual: bool = False) -> events.Context:
        """Who and when, by this ledger's clock, with the services in force now."""
        return events.Context(caller, self.clock(), self.services, manual)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work; a lost race on a ticket's version becomes a 409."""
        try:
            with self.sessions.begin() as session:
                yield session
        except StaleDataError as err:
            raise Conflict("the ticket was changed by another request at the same moment; reload and retry") from err

    def year(self, now: datetime) -> int:
        """Numbers restart each calendar year of the site, not of UTC."""
        return now.astimezone(self.timezone).year

    # -- tenants -------------------------------------------------------------------------------

    def save_tenant(self, caller: Caller, fields: dict[str, str]) -> dict[str, Any]:
        with self.transaction() as s:
            return tenants.view(tenants.upsert(s, caller, self.clock(), fields))

    def import_tenants(self, caller: Caller, csv_text: str) -> dict[str, Any]:
        with self.transaction() as s:
            return tenants.import_csv(s, caller, self.clock(), csv_text)

    # -- tickets -------------------------------------------------------------------------------

    def open_ticket(
        self,
        caller: Caller,
        *,
        company: str | None = None,
        before: Callable[[Session], None] | None = None,
        after: Callable[[Session, Ticket], Any] | None = None,
        **fields: Any,
    ) -> Any:
        """Open a ticket; ``before``/``after`` run in the same transaction (a copy ticket checks its
        copier is free first and stores the opening meter reading after) and ``after`` gives the
        result (default: the ticket's view)."""
        now = self.clock()
        for attempt in range(3):
            try:
                with self.transaction() as s:
                    if before:
                        before(s)
                    tenant = tenants.find(s, company) if company else None
                    ticket = tickets.open_ticket(s, caller, now, self.year(now), tenant=tenant, **fields)
                    return after(s, ticket) if after else tickets.view(ticket)
            except IntegrityError:
                # Two sites took the first number of a year at once; the loser simply retries.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get_ticket(self, number: str) -> dict[str, Any]:
        with self.transaction() as s:
            return tickets.view(tickets.find(s, number))

    def transition(self, caller: Caller, number: str, action: str, **options: Any) -> dict[str, Any]:
        now = self.clock()
        with self.transaction() as s:
            ticket = tickets.find(s, number, lock=True)
            if action == "settle":
                tickets.settle(s, caller, now, self.year(now), ticket, **options)
            else:
                tickets.transition(s, caller, now, ticket, action, **options)
            return tickets.view(ticket)

    def add_charge(self, caller: Caller, number: str, **line: Any) -> dict[str, Any]:
        with self.transaction() as s:
            ticket = tickets.find(s, number, lock=True)
            tickets.add_charge(s, caller, self.clock(), ticket, **line)
            return tickets.view(ticket)

    def add_discount(self, caller: Caller, number: str, *, amount: Decimal, reason: str) -> dict[str, Any]:
        with self.transaction() as s:
            ticket = tickets.find(s, number, lock=True)
            tickets.add_discount(s, caller, self.clock(), ticket, amount=amount, reason=reason)
            return tickets.view(ticket)

    def refund(self, caller: Caller, number: str, *, amount: Decimal, method: str, reason: str) -> dict[str, Any]:
        now = self.clock()
        with self.transaction() as s:
            ticket = tickets.find(s, number, lock=True)
            tickets.refund(s, caller, now, self.year(now), ticket, amount=amount, method=method, reason=reason)
            return tickets.view(ticket)

    def add_payment(self, caller: Caller, number: str, *, amount: Decimal, method: str) -> dict[str, Any]:
        now = self.clock()
        with self.transaction() as s:
            ticket = tickets.find(s, number, lock=True)
            tickets.add_payment(s, caller, now, self.year(now), ticket, amount=amount, method=method)
            return tickets.view(ticket)

    # -- device events -------------------------------------------------------------------------

    def record_event(self, caller: Caller, event: events.EventIn, *, manual: bool) -> tuple[dict[str, Any], bool]:
        with self.transaction() as s:
            row, created = events.record(s, self.context(caller, manual=manual), event, self.kinds)
            ticket = s.get(Ticket, row.ticket_id) if row.ticket_id else None
            return events.view(row, ticket.number if ticket else None), created

    def attach_event(self, caller: Caller, event_id: int, number: str) -> dict[str, Any]:
        with self.transaction() as s:
            row = events.find(s, event_id)
            ticket = tickets.find(s, number, lock=True)
            events.attach(s, self.context(caller, manual=True), row, ticket, self.kinds)
            return events.view(row, ticket.number)
