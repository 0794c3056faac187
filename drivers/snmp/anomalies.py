"""What changed between two readings of one copier, and the billable delta: pure functions.

Real counters misbehave (README of the recordings; LibreNMS and PyKota issue trackers): a
replaced controller board restarts them, a swapped device answers on the same address with
another serial, Counter32 wraps at 2**32 (some vendors earlier), a reboot resets sysUpTime, a
firmware update may switch prtMarkerCounterUnit. Each becomes an Anomaly record for staff; none
silently becomes a negative or a huge bill.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from drivers.snmp.errors import DeltaRefused
from drivers.snmp.reading import Counter, MeterReading, Unit

TIMETICKS_WRAP = 2**32  # sysUpTime is TimeTicks: wraps after ~497 days (RFC 2578)
DEFAULT_MAX_PAGES_PER_MINUTE = 150  # faster than any office copier (production ones do ~100 ppm)


class AnomalyKind(enum.Enum):
    COUNTER_DECREASE = "counter_decrease"  #: went back, not a wrap: reset or board replaced
    COUNTER_WRAP = "counter_wrap"  #: rolled over its modulus; ``delta`` counts across it
    SERIAL_CHANGED = "serial_changed"  #: another device answers at this address
    REBOOT = "reboot"  #: sysUpTime went back (and did not wrap)
    IMPLAUSIBLE_JUMP = "implausible_jump"  #: more pages than the device could print since
    UNIT_CHANGED = "unit_changed"  #: impressions <-> sheets: deltas across it are meaningless
    COUNTER_MISSING = "counter_missing"  #: reported before, absent now


@dataclass(frozen=True)
class Anomaly:
    kind: AnomalyKind
    device: str
    occurred_at: datetime  #: time of the reading that revealed it
    detail: str  #: one sentence for staff
    counter: str | None = None
    before: str | None = None
    after: str | None = None
    delta: int | None = None  #: for COUNTER_WRAP and IMPLAUSIBLE_JUMP


@dataclass(frozen=True)
class CounterDelta:
    name: str
    delta: int
    unit: Unit
    wrapped: bool = False


def compare(previous: MeterReading | None, current: MeterReading, *,
            max_pages_per_minute: int = DEFAULT_MAX_PAGES_PER_MINUTE) -> list[Anomaly]:
    """Anomalies ``current`` shows against ``previous`` (same device, earlier reading)."""
    if previous is None:
        return []
    found: list[Anomaly] = []

    def add(kind: AnomalyKind, detail: str, **fields: object) -> None:
        found.append(Anomaly(kind, current.device, current.occurred_at, detail, **fields))

    elapsed = (current.occurred_at - previous.occurred_at).total_seconds()
    if previous.sysuptime is not None and current.sysuptime is not None \
            and not _uptime_consistent(previous.sysuptime, current.sysuptime, elapsed):
        add(AnomalyKind.REBOOT, f"device restarted: sysUpTime went from {previous.sysuptime} "
            f"to {current.sysuptime} ticks", before=str(previous.sysuptime),
            after=str(current.sysuptime))
    if previous.serial != current.serial:
        add(AnomalyKind.SERIAL_CHANGED, f"serial number changed from {previous.serial} to "
            f"{current.serial}: another device answers at this address; counters are not "
            f"comparable", before=previous.serial, after=current.serial)
        return found
    allowance = _allowance(elapsed, max_pages_per_minute)
    for old in previous.counters:
        new = current.counter(old.name)
        if new is None:
            add(AnomalyKind.COUNTER_MISSING, f"counter {old.name} no longer reported",
                counter=old.name, before=str(old.value))
            continue
        if new.unit is not old.unit:
            add(AnomalyKind.UNIT_CHANGED, f"counter {old.name} unit changed from "
                f"{old.unit.value} to {new.unit.value}", counter=old.name,
                before=old.unit.value, after=new.unit.value)
            continue
        fields = {"counter": old.name, "before": str(old.value), "after": str(new.value)}
        step = _step(old, new)
        if step is None:
            add(AnomalyKind.COUNTER_DECREASE, f"counter {old.name} went back from {old.value} "
                f"to {new.value}: reset or controller board replaced", **fields)
            continue
        delta, wrapped = step
        if wrapped:
            add(AnomalyKind.COUNTER_WRAP, f"counter {old.name} wrapped at {old.wraps_at}; "
                f"{delta} pages across the wrap", delta=delta, **fields)
        if delta > allowance:
            add(AnomalyKind.IMPLAUSIBLE_JUMP, f"counter {old.name} rose by {delta} in "
                f"{elapsed:.0f} s (limit {allowance} at {max_pages_per_minute} pages/min)",
                delta=delta, **fields)
    return found


def billable_deltas(opened: MeterReading, closed: MeterReading,
                    names: tuple[str, ...] | None = None) -> tuple[CounterDelta, ...]:
    """Pages between a copy ticket's opening and closing readings, per counter.

    ``names`` defaults to every counter both readings carry. Raises DeltaRefused when the two
    cannot honestly be subtracted: another device, another serial, a unit change, a counter that
    went back (reset), or a counter missing from one side.
    """
    if opened.device != closed.device:
        raise DeltaRefused(f"readings of different devices: {opened.device}, {closed.device}")
    if closed.occurred_at < opened.occurred_at:
        raise DeltaRefused(f"{closed.device}: closing reading precedes the opening one")
    if opened.serial != closed.serial:
        raise DeltaRefused(f"{closed.device}: serial changed from {opened.serial} to "
                           f"{closed.serial} during the ticket (device swapped); bill by hand")
    wanted = names if names is not None else tuple(
        c.name for c in opened.counters if closed.counter(c.name) is not None)
    deltas = []
    for name in wanted:
        old, new = opened.counter(name), closed.counter(name)
        if old is None or new is None:
            side = "opening" if old is None else "closing"
            raise DeltaRefused(f"{closed.device}: counter {name} missing from the {side} reading")
        if old.unit is not new.unit:
            raise DeltaRefused(f"{closed.device}: counter {name} changed unit from "
                               f"{old.unit.value} to {new.unit.value}")
        step = _step(old, new)
        if step is None:
            raise DeltaRefused(f"{closed.device}: counter {name} went back from {old.value} to "
                               f"{new.value} (reset or board replaced); bill by hand")
        deltas.append(CounterDelta(name, step[0], new.unit, step[1]))
    return tuple(deltas)


def _step(old: Counter, new: Counter) -> tuple[int, bool] | None:
    if old.wraps_at != new.wraps_at:
        return None if new.value < old.value else (new.value - old.value, False)
    return counter_step(old.value, new.value, old.wraps_at)


def counter_step(before: int, after: int, wraps_at: int | None) -> tuple[int, bool] | None:
    """Pages a counter advanced from ``before`` to ``after``: (delta, wrapped), or None for a
    decrease that is no wrap (a reset, a board replaced) -- the one place that decides.

    A decrease counts as a wrap only when the counter has a modulus and the wrapped delta is
    under half of it: a reset to near zero from low values must not read as 4 billion pages.
    """
    if after >= before:
        return after - before, False
    if wraps_at is None:
        return None
    wrapped = after + wraps_at - before
    return (wrapped, True) if wrapped < wraps_at // 2 else None


def _allowance(elapsed_s: float, max_pages_per_minute: int) -> int:
    # At least one minute's worth: readings taken seconds apart still allow a burst in flight.
    return int(max_pages_per_minute * max(elapsed_s, 60.0) / 60.0)


def _uptime_consistent(before: int, after: int, elapsed_s: float) -> bool:
    if after >= before:
        return True
    expected = before + int(elapsed_s * 100)
    tolerance = max(6000, int(elapsed_s * 5))  # 60 s, or 5 % of the interval for drift
    return expected >= TIMETICKS_WRAP and abs(after - (expected - TIMETICKS_WRAP)) <= tolerance
