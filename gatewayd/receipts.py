"""A stored receipt, laid out for printing: the ledger's rows handed to billing's renderers."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatewayd.billing.charges import Charge
from gatewayd.billing.receipts import Payment, Receipt, ReceiptKind
from gatewayd.billing.usage import Service
from gatewayd.errors import NotFound
from gatewayd.models import PaymentMethod, Receipt as ReceiptRow, Ticket

METHOD_LABELS = {PaymentMethod.CASH: "现金 cash", PaymentMethod.ACCOUNT: "挂账 tenant account"}
_SERVICE = {kind.value: kind for kind in Service}


def _customer(ticket: Ticket) -> str:
    if ticket.tenant is not None:
        return f"{ticket.tenant.company} {ticket.room}室" if ticket.room else ticket.tenant.company
    return ticket.guest_name


def load(session: Session, number: str, currency: str) -> Receipt:
    row = session.scalars(select(ReceiptRow).where(ReceiptRow.number == number)).first()
    if row is None:
        raise NotFound(f"no receipt {number!r} (numbers look like R-2026-000001 or TR-2026-000001)")
    ticket = session.get(Ticket, row.ticket_id)
    assert ticket is not None
    kind = ReceiptKind(row.kind)
    service = _SERVICE.get(ticket.kind, Service.MANUAL)
    if kind is ReceiptKind.FORMAL:
        lines = tuple(
            Charge(service, c.description, c.quantity, c.unit, c.unit_price, c.amount, c.rule,
                   c.rate_version or None, c.inputs, c.manual)
            for c in ticket.charges
        )
        payments = tuple(Payment(METHOD_LABELS[PaymentMethod(p.method)], p.amount, p.created_at)
                         for p in ticket.payments)
    else:
        # A temporary receipt acknowledges money taken before the service: one line, that sum.
        lines = (Charge(service, f"预收款 Advance payment for {ticket.number}", Decimal(1), "item", row.amount,
                        row.amount, "advance", None),)
        payments = (Payment(METHOD_LABELS[PaymentMethod.CASH], row.amount, row.issued_at),)
    return Receipt(
        kind=kind, number=row.number, issued_at=row.issued_at, customer=_customer(ticket), lines=lines,
        currency=currency, payments=payments, staff=row.issued_by, ticket=ticket.number,
    )
