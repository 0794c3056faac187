"""The billing layer's exceptions: one type per way a price cannot be given.

Config mistakes are not here: they raise ``drivers.ConfigProblems`` like every other section, so
the config loader prints them all the same way. The API maps these to 422 problems.
"""

from __future__ import annotations

from datetime import datetime


class BillingError(Exception):
    """Base of everything billing raises on bad input (never on a bug of ours)."""


class UndiallableNumber(BillingError):
    """The dialed string cannot be called: refused before any call, with a reason for staff."""

    def __init__(self, dialed: str, reason: str):
        self.dialed = dialed
        self.reason = reason
        super().__init__(f"cannot dial {dialed!r}: {reason}")


class NoRateTableInForce(BillingError):
    """The job ran before the first rate table took effect."""

    def __init__(self, at: datetime):
        self.at = at
        super().__init__(f"no rate table is in force at {at.isoformat()}")


class NoRateForDestination(BillingError):
    """The table in force has no destination entry covering the number."""

    def __init__(self, e164: str, version: str):
        self.e164 = e164
        self.version = version
        super().__init__(f"rate table {version!r} has no rate for {e164}")


class NotPriced(BillingError):
    """The table in force does not price this service or this media/colour."""

    def __init__(self, what: str, version: str):
        self.what = what
        self.version = version
        super().__init__(f"rate table {version!r} has no price for {what}")


class InvalidUsage(BillingError, ValueError):
    """A usage record handed to rating is inconsistent (negative pages, naive time...)."""
