"""What the daemon's routes and integrations may use beyond the ledger: the config and live drivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gatewayd.billing.errors import NoRateTableInForce
from gatewayd.billing.money import MoneyRule
from gatewayd.config import Config


@dataclass
class Services:
    config: Config
    #: Running drivers by their ``name`` ("snmp", "cups", "fax"); absent when not configured.
    drivers: dict[str, Any] = field(default_factory=dict)

    @property
    def rates(self) -> Any:
        """The price list (``gatewayd.billing.rates.RateBook``)."""
        from gatewayd.errors import Conflict

        if "rates" not in self.config.sections:
            raise Conflict(f"no [rates] section in {self.config.path}: nothing can be priced")
        return self.config.sections["rates"]

    def money(self, at: datetime) -> MoneyRule:
        """The currency's rounding of the price list in force at ``at``; the default (0.01,
        half up) where the site has no price list or none in force yet."""
        book = self.config.sections.get("rates")
        try:
            return book.in_force(at, self.site.zone).money if book is not None else MoneyRule()
        except NoRateTableInForce:
            return MoneyRule()

    @property
    def site(self) -> Any:
        """Where the site is and how it dials (``gatewayd.billing.site.Site``)."""
        return self.config.sections["site"]

    def driver(self, name: str) -> Any:
        from gatewayd.errors import Conflict

        try:
            return self.drivers[name]
        except KeyError:
            raise Conflict(f"no [{name}] section in {self.config.path}: this site has no such devices") from None
