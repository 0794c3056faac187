"""Charge lines: every amount with the rule, the table version and the inputs that made it.

``Rating.total`` is the sum of the lines as printed (each already rounded), so a receipt always
adds up. Lines that cost nothing are kept when they explain something ("page 2 resent
(ErrorPage), not charged") and are left out when they would only say "x 0.00".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .money import MoneyRule, format_price
from .usage import Service

_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Charge:
    service: Service
    description: str  #: "+852 Hong Kong, 3 min 12 s → 4 × 60 s at 8.00/min = 32.00"
    quantity: Decimal
    unit: str  #: "min", "page", "side", "call", "errand"
    unit_price: Decimal
    amount: Decimal  #: rounded by the currency rule; what the customer pays for this line
    rule: str  #: where in the table: "fax_out.destinations[+852]", "copy.prices[A4 mono]"
    rate_version: str | None  #: None for manual lines
    inputs: dict[str, Any] = field(default_factory=dict, hash=False)  #: JSON-able
    manual: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types; money as decimal strings so no float ever touches it."""
        return {
            "service": self.service.value,
            "description": self.description,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "unit_price": str(self.unit_price),
            "amount": str(self.amount),
            "rule": self.rule,
            "rate_version": self.rate_version,
            "inputs": self.inputs,
            "manual": self.manual,
        }


@dataclass(frozen=True, slots=True)
class Rating:
    """The priced lines of one job (or quote), in the order they explain it."""

    lines: tuple[Charge, ...]
    money: MoneyRule
    currency: str
    rate_version: str | None

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), self.money.round(Decimal(0)))

    def explain(self) -> str:
        return "; ".join(line.description for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "rate_version": self.rate_version,
            "total": str(self.total),
            "lines": [line.to_json() for line in self.lines],
        }


def priced_line(
    money: MoneyRule,
    service: Service,
    describe: Callable[[str], str],
    quantity: Decimal | int,
    unit: str,
    unit_price: Decimal,
    rule: str,
    version: str | None,
    inputs: dict[str, Any],
    *,
    exact_amount: Decimal | None = None,
    manual: bool = False,
) -> Charge:
    """A line whose amount is ``quantity x unit_price`` rounded once, here and nowhere else;
    ``describe`` gets the rounded amount as printed and returns the line's explanation.

    ``exact_amount`` is for a quantity that is itself rounded for display (a time charge in
    1-second blocks is 61/60 min): the amount then comes from the exact product.
    """
    if not isinstance(quantity, Decimal):
        quantity = Decimal(quantity)
    exact = quantity * unit_price if exact_amount is None else exact_amount
    amount = money.round(exact)
    text = describe(format_price(amount))
    return Charge(service, text, quantity, unit, unit_price, amount, rule, version, inputs, manual)


def note_line(service: Service, description: str, rule: str, version: str | None,
              inputs: dict[str, Any], money: MoneyRule) -> Charge:
    """A line that costs nothing but says why (resent ErrorPage, unanswered attempt)."""
    zero = money.round(Decimal(0))
    return Charge(service, description, Decimal(0), "", zero, zero, rule, version, inputs)


def display_quantity(value: Decimal) -> Decimal:
    """A quantity short enough to print: exact when it has up to four places."""
    return value if value.as_tuple().exponent >= -4 else value.quantize(_PLACES)  # type: ignore[operator]


def format_duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
