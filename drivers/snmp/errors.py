"""The SNMP driver's one exception tree; pysnmp's errors are translated into it at the edge."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drivers.snmp.reading import MeterReading


class SnmpDriverError(Exception):
    """Base of every error the SNMP driver raises."""


class NoReading(SnmpDriverError):
    """The device gave no usable reading this time. Record "no reading", never a zero."""

    def __init__(self, device: str, detail: str):
        self.device = device
        self.detail = detail
        super().__init__(f"{device}: {detail}")


class DeviceUnreachable(NoReading):
    """No answer within timeout x retries: switched off, asleep, wrong host/port or community.

    SNMPv1/v2c agents silently drop requests with an unknown community, so a wrong community is
    indistinguishable from a sleeping device; the message says so.
    """


class AuthenticationFailed(NoReading):
    """The device answered but refused our SNMPv3 credentials (user, auth or privacy key)."""


class DeviceAnswerInvalid(NoReading):
    """The device answered, but not with what the profile needs (error status, missing counter)."""


class UnknownModel(NoReading):
    """`profile = "auto"` and no profile matches the device's sysObjectID/sysDescr."""


class CountersNotSettled(SnmpDriverError):
    """A billing read ran out of time before the device was idle with stable counters.

    ``last`` is the last reading taken (or None), so staff can decide to bill it by hand.
    """

    def __init__(self, device: str, reason: str, polls: int, waited_s: float,
                 last: MeterReading | None):
        self.device = device
        self.reason = reason
        self.polls = polls
        self.waited_s = waited_s
        self.last = last
        super().__init__(
            f"{device}: counters not settled after {waited_s:.0f} s and {polls} polls: {reason}")


class DeltaRefused(SnmpDriverError):
    """Two readings cannot be subtracted into a billable delta (device swapped, reset...)."""
