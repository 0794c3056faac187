"""Money: Decimal amounts rounded by the currency's rule, and printed the same way everywhere."""

from __future__ import annotations

import decimal
import enum
import functools
from dataclasses import dataclass
from decimal import Decimal


class Rounding(enum.Enum):
    """How an amount is brought to the currency's smallest unit (names as written in the config)."""

    HALF_UP = "half_up"  #: 0.005 -> 0.01; what a cashier does, the default
    HALF_EVEN = "half_even"  #: banker's rounding
    HALF_DOWN = "half_down"
    UP = "up"  #: away from zero: never under-charge a fraction
    DOWN = "down"  #: towards zero: never over-charge a fraction
    CEILING = "ceiling"
    FLOOR = "floor"

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self.value]  # keyed by str: Enum.__hash__ is slow Python


_DECIMAL_MODES = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}

CENT = Decimal("0.01")
ZERO = Decimal(0)
#: No charge line and no ticket's total comes near this at a front desk; past it is a typo or an
#: attack (a quantity and a price each under the bound can still multiply past it).
LARGEST_AMOUNT = Decimal(10) ** 12


@dataclass(frozen=True, slots=True)
class MoneyRule:
    """The currency's rounding: every charge line's amount goes through ``round``."""

    quantum: Decimal = CENT  #: a power of ten: 0.01 (分) by default, 0.1 (角) at some counters
    rounding: Rounding = Rounding.HALF_UP

    def round(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.quantum, rounding=self.rounding.decimal_mode)


@functools.lru_cache(maxsize=4096)  # a price list has few distinct prices; every line prints some
def format_price(value: Decimal) -> str:
    """A price as people read it: at least two decimals, more only when the price has them.

    A night rate of 8.00 x 0.6 is printed 4.80, not 4.800; a per-6-second price of 0.733 stays.
    """
    if value.normalize().as_tuple().exponent >= -2:  # type: ignore[operator]
        return f"{value.quantize(CENT):f}"
    return f"{value.normalize():f}"
