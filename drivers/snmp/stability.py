"""Billing-read settling, sans-IO: feed readings and monotonic time, get a verdict.

PyKota's method (pykota/accounters/hardware.py, "snmp" accounter): before and after a job, poll
until the printer reports idle and its page counter has not moved for several consecutive polls,
because a counter read while the engine is still running under-counts and some devices write
their counter late (HP commits to NVRAM every 10 pages). We apply it to every counter the
profile reads, and bound the wait so a busy copier gives a clear answer instead of hanging.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.snmp.reading import MeterReading


@dataclass(frozen=True)
class SettlePolicy:
    stable_polls: int = 3  #: identical idle readings in a row that count as settled
    poll_every: float = 2.0  #: seconds between billing polls
    max_wait: float = 60.0  #: give up after this many seconds


class Verdict(enum.Enum):
    SETTLED = "settled"  #: idle and unchanged for stable_polls readings: bill this one
    WAIT = "wait"  #: poll again after poll_every
    GAVE_UP = "gave_up"  #: max_wait elapsed first


class SettleWatch:
    """One billing read in progress."""

    def __init__(self, policy: SettlePolicy, started: float):
        self.policy = policy
        self.started = started
        self.polls = 0
        self.streak = 0
        self.last: MeterReading | None = None
        self.reason = "no reading yet"

    def observe(self, reading: MeterReading, now: float) -> Verdict:
        self.polls += 1
        if not reading.is_idle:
            self.streak = 0
            self.reason = f"device is {reading.status.value}"
        elif self.last is not None and _same_meter(self.last, reading):
            self.streak += 1
        else:
            self.streak = 1
            self.reason = ("counters still moving" if self.last is not None
                           else "waiting for a second identical reading")
        self.last = reading
        if self.streak >= self.policy.stable_polls:
            return Verdict.SETTLED
        if now - self.started >= self.policy.max_wait:
            return Verdict.GAVE_UP
        return Verdict.WAIT

    def waited(self, now: float) -> float:
        return now - self.started


def _same_meter(a: MeterReading, b: MeterReading) -> bool:
    return a.serial == b.serial and a.counters == b.counters
