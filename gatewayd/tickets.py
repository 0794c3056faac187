"""The service form (商务中心综合服务单): its state machine and every change made to a ticket.

The whole transition table is ``TRANSITIONS``; nothing else moves a ticket between states.
Each function here runs inside the caller's transaction and writes its own audit entry.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gatewayd import audit, sequences, tenants
from gatewayd.billing.charges import Charge, Rating
from gatewayd.billing.money import LARGEST_AMOUNT, format_price
from gatewayd.billing.receipts import Payment as ReceiptPayment, Receipt as ReceiptDocument
from gatewayd.billing.receipts import ReceiptKind as DocumentKind
from gatewayd.billing.usage import Service
from gatewayd.audit import Caller
from gatewayd.db import among, in_period
from gatewayd.errors import Conflict, InvalidValue, NotFound
from gatewayd.models import (
    ChargeLine,
    Payment,
    PaymentMethod,
    Receipt,
    ReceiptKind,
    Tenant,
    Ticket,
    TicketKind,
    TicketState,
)

S = TicketState


@dataclass(frozen=True)
class Transition:
    sources: frozenset[TicketState]
    target: TicketState
    kinds: frozenset[TicketKind] | None = None  # None: every kind
    public: bool = True  # False: only the daemon moves tickets this way (API and CLI do not offer it)


#: action -> allowed source states and the target. The API exposes one endpoint per action.
TRANSITIONS: dict[str, Transition] = {
    "start": Transition(frozenset({S.OPEN}), S.IN_PROGRESS),
    "finish": Transition(frozenset({S.IN_PROGRESS}), S.AWAITING_CUSTOMER),
    # A copy ticket whose closing meter reading failed waits here; the daemon retries the reading
    # and moves it on (or staff enter a manual count).
    "await_meter": Transition(frozenset({S.IN_PROGRESS}), S.AWAITING_METER, frozenset({TicketKind.COPY}), False),
    "metered": Transition(frozenset({S.AWAITING_METER}), S.AWAITING_CUSTOMER, frozenset({TicketKind.COPY}), False),
    "complete": Transition(frozenset({S.AWAITING_CUSTOMER}), S.COMPLETED),
    "settle": Transition(frozenset({S.COMPLETED, S.FAILED}), S.SETTLED),
    "cancel": Transition(
        frozenset({S.OPEN, S.IN_PROGRESS, S.AWAITING_METER, S.AWAITING_CUSTOMER, S.COMPLETED}), S.CANCELLED
    ),
    "fail": Transition(frozenset({S.OPEN, S.IN_PROGRESS}), S.FAILED, frozenset({TicketKind.FAX_OUT})),
}

#: States in which charge lines and payments may still change.
EDITABLE = frozenset({S.OPEN, S.IN_PROGRESS, S.AWAITING_METER, S.AWAITING_CUSTOMER, S.COMPLETED, S.FAILED})
#: States in which a ticket is still being worked on (one open copy ticket per copier, and so on).
ACTIVE = frozenset({S.OPEN, S.IN_PROGRESS, S.AWAITING_METER, S.AWAITING_CUSTOMER})

CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The ticket's own fields, as recorded before/after a change in the audit trail."""
    return {
        "state": ticket.state,
        "version": ticket.version,
        "tenant": ticket.tenant.company if ticket.tenant else None,
        "room": ticket.room,
        "guest_name": ticket.guest_name,
        "device": ticket.device,
        "quoted_total": None if ticket.quoted_total is None else str(ticket.quoted_total),
        "reason": ticket.reason,
        "signed_by": ticket.signed_by,
    }


def total(ticket: Ticket) -> Decimal:
    return sum((line.amount for line in ticket.charges), Decimal("0"))


def paid(ticket: Ticket) -> Decimal:
    return sum((p.amount for p in ticket.payments), Decimal("0"))


def view(ticket: Ticket) -> dict[str, Any]:
    """The ticket as the API shows it."""
    return _view(ticket, ticket.tenant.company if ticket.tenant else None, ticket.charges, ticket.payments,
                 ticket.receipts)


def _view(ticket: Any, company: str | None, charges: Any, payments: Any, receipts: Any) -> dict[str, Any]:
    """``view`` from its parts: an ORM ticket and its relations, or (a list page, ``list_view``) the
    same columns as Core rows — one shape either way."""
    charged = sum((c.amount for c in charges), Decimal("0"))
    received = sum((p.amount for p in payments), Decimal("0"))
    return {
        "id": ticket.number,
        "kind": ticket.kind,
        "state": ticket.state,
        "version": ticket.version,
        "tenant": company,
        "room": ticket.room,
        "guest_name": ticket.guest_name,
        "guest_phone": ticket.guest_phone,
        "device": ticket.device,
        "params": ticket.params,
        "quoted_total": None if ticket.quoted_total is None else _money(ticket.quoted_total),
        "note": ticket.note,
        "reason": ticket.reason,
        "signed_by": ticket.signed_by,
        "opened_by": ticket.opened_by,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "completed_at": ticket.completed_at.isoformat() if ticket.completed_at else None,
        "settled_at": ticket.settled_at.isoformat() if ticket.settled_at else None,
        "charges": [
            {
                "id": c.id,
                "description": c.description,
                "quantity": str(c.quantity),
                "unit": c.unit,
                "unit_price": format_price(c.unit_price),
                "amount": _money(c.amount),
                "rule": c.rule,
                "rate_version": c.rate_version,
                "inputs": c.inputs,
                "event_id": c.event_id,
                "manual": c.manual,
            }
            for c in charges
        ],
        "total": _money(charged),
        "payments": [
            {"method": p.method, "amount": _money(p.amount), "received_by": p.received_by, "at": p.created_at.isoformat()}
            for p in payments
        ],
        "paid": _money(received),
        "balance": _money(charged - received),
        "receipts": [receipt_view(r) for r in receipts],
    }


#: A row of ``listing``: the ticket's columns, then its tenant's company.
_ListRow = namedtuple("_ListRow", [*Ticket.__table__.columns.keys(), "company"])  # type: ignore[misc]


def list_view(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    """A page of ``listing``'s rows as ``view`` shows them, from Core rows (no ORM objects): the
    page's charge lines, payments and receipts in one query each, grouped by ticket."""
    rows = [_ListRow._make(row) for row in rows]  # the page's rows come back as plain tuples
    ids = [row.id for row in rows]
    parts: dict[type, dict[int, list[Any]]] = {}
    connection = session.connection()  # plain rows: the ORM's result machinery is not needed here
    for model in (ChargeLine, Payment, Receipt):
        by_ticket: dict[int, list[Any]] = {i: [] for i in ids}
        if ids:
            query = select(model.__table__).where(among(model.ticket_id, "ids", session))
            for part in connection.execute(query.order_by(model.id), {"ids": ids}):
                by_ticket[part.ticket_id].append(part)
        parts[model] = by_ticket
    return [_view(row, row.company, parts[ChargeLine][row.id], parts[Payment][row.id], parts[Receipt][row.id])
            for row in rows]


def receipt_view(receipt: Receipt) -> dict[str, Any]:
    return {
        "number": receipt.number,
        "kind": receipt.kind,
        "amount": _money(receipt.amount),
        "issued_by": receipt.issued_by,
        "issued_at": receipt.issued_at.isoformat(),
        "exchanged_for": receipt.exchanged_for,
    }


METHOD_LABELS = {PaymentMethod.CASH: "现金 cash", PaymentMethod.ACCOUNT: "挂账 tenant account"}


def _customer(ticket: Ticket) -> str:
    if ticket.tenant is not None:
        return f"{ticket.tenant.company} {ticket.room}室" if ticket.room else ticket.tenant.company
    return ticket.guest_name


def receipt_document(session: Session, number: str, currency: str) -> ReceiptDocument:
    """A stored receipt laid out for printing (``billing.render_text`` / ``receipt_pdf``)."""
    row = session.scalars(select(Receipt).where(Receipt.number == number)).first()
    if row is None:
        raise NotFound(f"no receipt {number!r} (numbers look like R-2026-000001, TR-2026-000001 or RF-2026-000001)")
    ticket = session.get(Ticket, row.ticket_id)
    assert ticket is not None
    kind = DocumentKind(row.kind)
    service = Service(ticket.kind) if ticket.kind in {s.value for s in Service} else Service.MANUAL
    if kind is DocumentKind.FORMAL:
        lines = tuple(
            Charge(service, c.description, c.quantity, c.unit, c.unit_price, c.amount, c.rule,
                   c.rate_version or None, c.inputs, c.manual)
            for c in ticket.charges
        )
        payments = tuple(ReceiptPayment(METHOD_LABELS[PaymentMethod(p.method)], p.amount, p.created_at)
                         for p in ticket.payments)
    elif kind is DocumentKind.REFUND:
        # A refund receipt acknowledges money given back: one line below zero, that sum.
        lines = (Charge(service, f"退款 Refund on {ticket.number}", Decimal(1), "item", -row.amount, -row.amount,
                        "refund", None),)
        payments = tuple(ReceiptPayment(METHOD_LABELS[PaymentMethod(p.method)], p.amount, p.created_at)
                         for p in ticket.payments if p.amount < 0 and p.created_at == row.issued_at)
    else:
        # A temporary receipt acknowledges money taken before the service: one line, that sum.
        lines = (Charge(service, f"预收款 Advance payment for {ticket.number}", Decimal(1), "item", row.amount,
                        row.amount, "advance", None),)
        payments = (ReceiptPayment(METHOD_LABELS[PaymentMethod.CASH], row.amount, row.issued_at),)
    return ReceiptDocument(
        kind=kind, number=row.number, issued_at=row.issued_at, customer=_customer(ticket), lines=lines,
        currency=currency, payments=payments, staff=row.issued_by, ticket=ticket.number,
    )


def listing(
    session: Session,
    *,
    state: str | None = None,
    kind: str | None = None,
    company: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select[Any]:
    """The tickets a list shows: the ticket's columns and its tenant's company as Core rows (for
    ``list_view``; no ORM object is built for a list)."""
    query = select(Ticket.__table__, Tenant.company).outerjoin(Tenant, Tenant.id == Ticket.tenant_id)
    if state:
        query = query.where(Ticket.state == state)
    if kind:
        query = query.where(Ticket.kind == kind)
    if company:
        query = query.where(Ticket.tenant_id == tenants.find(session, company).id)
    query = in_period(query, Ticket.created_at, since, until)
    return query


def find(session: Session, number: str, *, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.number == number)
    if lock:
        query = query.with_for_update()
    ticket = session.scalars(query).first()
    if ticket is None:
        raise NotFound(f"no ticket {number!r} (ticket ids look like T-2026-000123; see `gatewayctl ticket list`)")
    return ticket


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is not None and version != ticket.version:
        raise Conflict(
            f"ticket {ticket.number} changed since you read it (you had version {version}, it is now "
            f"version {ticket.version}, state {ticket.state}); reload it and try again"
        )


def _allowed(ticket: Ticket, action: str, version: int | None) -> Transition:
    """The rule for ``action`` if the table allows it from the ticket's state; else a 409."""
    rule = TRANSITIONS[action]
    _check_version(ticket, version)
    if ticket.state not in rule.sources:
        allowed = ", ".join(sorted(rule.sources))
        raise Conflict(f"cannot {action} ticket {ticket.number}: it is {ticket.state} (only from {allowed})")
    if rule.kinds is not None and TicketKind(ticket.kind) not in rule.kinds:
        raise Conflict(f"cannot {action} a {ticket.kind} ticket (only {', '.join(sorted(rule.kinds))})")
    return rule


def _check_editable(ticket: Ticket) -> None:
    if ticket.state not in EDITABLE:
        raise Conflict(
            f"ticket {ticket.number} is {ticket.state} and can no longer be changed; "
            "record a correction on a new ticket"
        )


def open_ticket(
    session: Session,
    caller: Caller,
    now: datetime,
    year: int,
    *,
    kind: str,
    tenant: Tenant | None,
    room: str = "",
    guest_name: str = "",
    guest_phone: str = "",
    device: str = "",
    params: dict[str, Any] | None = None,
    quoted_total: Decimal | None = None,
    note: str = "",
) -> Ticket:
    if tenant is None and not guest_name:
        raise InvalidValue("a ticket needs a customer: a tenant company (with room) or a walk-in guest's name")
    if tenant is not None and room and tenant.rooms and room not in tenant.rooms.split(","):
        raise InvalidValue(f"room {room!r} is not one of {tenant.company}'s rooms ({tenant.rooms})")
    ticket = Ticket(
        number=sequences.next_number(session, "ticket", year),
        kind=TicketKind(kind).value,
        state=S.OPEN.value,
        tenant=tenant,
        room=room,
        guest_name=guest_name,
        guest_phone=guest_phone,
        device=device,
        params=params or {},
        quoted_total=quoted_total,
        note=note,
        opened_by=caller.user,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    audit.write(session, caller, now, "ticket.open", "ticket", ticket.number, None, {"kind": kind, **snapshot(ticket)})
    return ticket


def transition(
    session: Session,
    caller: Caller,
    now: datetime,
    ticket: Ticket,
    action: str,
    *,
    version: int | None = None,
    reason: str = "",
    signed_by: str = "",
) -> None:
    """Move ``ticket`` by ``action`` (not ``settle``: see :func:`settle`)."""
    rule = _allowed(ticket, action, version)
    if action in ("cancel", "fail") and not reason.strip():
        raise InvalidValue(f"{action} needs a reason (e.g. \"customer left\", \"line busy after 3 tries\")")
    before = snapshot(ticket)
    ticket.state = rule.target.value
    ticket.updated_at = now
    if reason:
        ticket.reason = reason
    if signed_by:
        ticket.signed_by = signed_by
    if rule.target is S.COMPLETED:
        ticket.completed_at = now
    session.flush()
    audit.write(session, caller, now, f"ticket.{action}", "ticket", ticket.number, before, snapshot(ticket))


def add_charge(
    session: Session,
    caller: Caller,
    now: datetime,
    ticket: Ticket,
    *,
    description: str,
    quantity: Decimal,
    unit: str,
    unit_price: Decimal,
    amount: Decimal,
    rule: str = "manual",
    rate_version: str = "",
    inputs: dict[str, Any] | None = None,
    event_id: int | None = None,
    manual: bool = True,
) -> ChargeLine:
    _check_editable(ticket)
    if abs(amount) >= LARGEST_AMOUNT:
        raise InvalidValue(f"a line of {_money(amount)} is past the bound of {LARGEST_AMOUNT:,} per line")
    if abs(total(ticket) + amount) >= LARGEST_AMOUNT:
        raise InvalidValue(f"the line would take ticket {ticket.number}'s total to "
                           f"{_money(total(ticket) + amount)}, past the bound of {LARGEST_AMOUNT:,}")
    line = ChargeLine(
        ticket_id=ticket.id,
        description=description,
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        amount=amount,
        rule=rule,
        rate_version=rate_version,
        inputs=inputs or {},
        event_id=event_id,
        manual=manual,
        created_by=caller.user,
        created_at=now,
    )
    ticket.charges.append(line)
    ticket.updated_at = now
    session.flush()
    audit.write(
        session, caller, now, "charge.add", "ticket", ticket.number, None,
        {"charge_id": line.id, "description": description, "amount": str(amount), "rule": rule}, manual=manual,
    )
    return line


def add_rating(
    session: Session,
    caller: Caller,
    now: datetime,
    ticket: Ticket,
    rating: Rating,
    *,
    event_id: int | None = None,
) -> list[ChargeLine]:
    """Every line of ``rating`` (its explanations included) with its rule, version and inputs."""
    return [
        add_charge(
            session, caller, now, ticket,
            description=line.description, quantity=line.quantity, unit=line.unit or "note",
            unit_price=line.unit_price, amount=line.amount, rule=line.rule,
            rate_version=line.rate_version or "", inputs=line.inputs, event_id=event_id, manual=line.manual,
        )
        for line in rating.lines
    ]


#: The rule of a discount line: the only kind of line below zero, staff-only, with its reason.
DISCOUNT = "discount"


def add_discount(session: Session, caller: Caller, now: datetime, ticket: Ticket, *, amount: Decimal,
                 reason: str) -> ChargeLine:
    """A discount is a line of its own (never a negative price on another line), audited with its
    reason; it may not take the total below zero nor below what was already paid."""
    if amount <= 0:
        raise InvalidValue(f"amount must be positive (the discount given), got {amount}")
    after = total(ticket) - amount
    if after < paid(ticket) or after < 0:
        raise Conflict(f"a discount of {_money(amount)} would take ticket {ticket.number}'s total to "
                       f"{_money(after)}, below the {_money(max(paid(ticket), Decimal(0)))} already paid or zero")
    return add_charge(session, caller, now, ticket, description=f"优惠 Discount: {reason}", quantity=Decimal(1),
                      unit="item", unit_price=-amount, amount=-amount, rule=DISCOUNT, inputs={"reason": reason})


def add_payment(
    session: Session,
    caller: Caller,
    now: datetime,
    year: int,
    ticket: Ticket,
    *,
    amount: Decimal,
    method: str,
) -> Receipt | None:
    """Fees collected before settlement (an errand's costs, a deposit) get a temporary receipt."""
    _check_editable(ticket)
    if ticket.state == S.FAILED:
        raise Conflict(f"ticket {ticket.number} failed; settle it instead of taking a payment")
    if amount <= 0:
        raise InvalidValue(f"amount must be positive, got {amount}")
    due = total(ticket) - paid(ticket)
    if amount > due:
        # Money taken beyond the charges could never be settled as it stands: take what is due
        # (a refund gives back what is no longer due, after a discount or a cancellation).
        raise Conflict(f"{_money(amount)} is more than the {_money(max(due, Decimal(0)))} still due on "
                       f"ticket {ticket.number} (charges {_money(total(ticket))}, paid {_money(paid(ticket))}); "
                       "overpayments are refused")
    _check_method(ticket, method)
    ticket.payments.append(Payment(method=method, amount=amount, received_by=caller.user, created_at=now))
    receipt = None
    if method == PaymentMethod.CASH:
        receipt = Receipt(
            number=sequences.next_number(session, "temporary_receipt", year),
            kind=ReceiptKind.TEMPORARY.value,
            amount=amount,
            issued_by=caller.user,
            issued_at=now,
        )
        ticket.receipts.append(receipt)
    ticket.updated_at = now
    session.flush()
    audit.write(
        session, caller, now, "payment.add", "ticket", ticket.number, None,
        {"method": method, "amount": str(amount), "receipt": receipt.number if receipt else None},
    )
    return receipt


#: Money may be given back while a ticket is open, done but unpaid, failed, or cancelled (an
#: errand called off after its fees were taken); a settled ticket's money is final.
REFUNDABLE = EDITABLE | {S.CANCELLED}


def refund(session: Session, caller: Caller, now: datetime, year: int, ticket: Ticket, *, amount: Decimal,
           method: str, reason: str) -> Receipt:
    """Give money back: a negative payment with a refund receipt (RF-) and its reason in the audit
    trail; nothing recorded before is changed or deleted. Never more than was paid."""
    if ticket.state not in REFUNDABLE:
        raise Conflict(f"ticket {ticket.number} is {ticket.state}: its money is final; "
                       "record a correction on a new ticket")
    if amount <= 0:
        raise InvalidValue(f"amount must be positive (the sum given back), got {amount}")
    if amount > paid(ticket):
        raise Conflict(f"a refund of {_money(amount)} is more than the {_money(paid(ticket))} paid on "
                       f"ticket {ticket.number}")
    _check_method(ticket, method)
    ticket.payments.append(Payment(method=method, amount=-amount, received_by=caller.user, created_at=now))
    receipt = Receipt(number=sequences.next_number(session, "refund_receipt", year), kind=ReceiptKind.REFUND.value,
                      amount=amount, issued_by=caller.user, issued_at=now)
    ticket.receipts.append(receipt)
    ticket.updated_at = now
    session.flush()
    audit.write(session, caller, now, "payment.refund", "ticket", ticket.number, None,
                {"method": method, "amount": str(-amount), "reason": reason, "receipt": receipt.number})
    return receipt


def _check_method(ticket: Ticket, method: str) -> None:
    if method not in set(PaymentMethod):
        raise InvalidValue(f"method must be one of {', '.join(PaymentMethod)}, got {method!r}")
    if method == PaymentMethod.ACCOUNT and ticket.tenant is None:
        raise InvalidValue(
            f"ticket {ticket.number} is for a walk-in guest; only a tenant's ticket can be charged to account"
        )


def settle(
    session: Session,
    caller: Caller,
    now: datetime,
    year: int,
    ticket: Ticket,
    *,
    method: str,
    version: int | None = None,
) -> Receipt:
    """Collect the balance and issue the formal receipt; temporary receipts are exchanged for it."""
    _allowed(ticket, "settle", version)
    _check_method(ticket, method)
    balance = total(ticket) - paid(ticket)
    if balance < 0:
        raise Conflict(
            f"ticket {ticket.number} has {_money(paid(ticket))} paid against charges of "
            f"{_money(total(ticket))}; add the missing charge line or refund before settling"
        )
    before = snapshot(ticket)
    if balance > 0:
        ticket.payments.append(Payment(method=method, amount=balance, received_by=caller.user, created_at=now))
    receipt = Receipt(
        number=sequences.next_number(session, "receipt", year),
        kind=ReceiptKind.FORMAL.value,
        amount=total(ticket),
        issued_by=caller.user,
        issued_at=now,
    )
    for temporary in ticket.receipts:
        if temporary.kind == ReceiptKind.TEMPORARY and not temporary.exchanged_for:
            temporary.exchanged_for = receipt.number
    ticket.receipts.append(receipt)
    ticket.state = S.SETTLED.value
    ticket.settled_at = now
    ticket.updated_at = now
    session.flush()
    audit.write(
        session, caller, now, "ticket.settle", "ticket", ticket.number, before,
        {**snapshot(ticket), "receipt": receipt.number, "method": method, "collected": str(balance)},
    )
    return receipt

