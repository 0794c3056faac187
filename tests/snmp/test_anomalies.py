"""compare() and billable_deltas(): each anomaly kind on hand-built readings."""

from __future__ import annotations

import pytest

from drivers.snmp.anomalies import AnomalyKind, CounterDelta, billable_deltas, compare
from drivers.snmp.errors import DeltaRefused
from drivers.snmp.reading import Unit
from tests.snmp.helpers import reading

WRAP = 2**32


def kinds(previous, current, **kw):
    return [(a.kind, a.counter) for a in compare(previous, current, **kw)]


def test_first_reading_and_normal_progress_are_quiet():
    assert compare(None, reading()) == []
    assert compare(reading(), reading(at=60, total=1100, uptime=106_000)) == []


def test_counter_decrease_is_a_reset():
    found = compare(reading(total=5000), reading(at=60, total=12, uptime=106_000))
    assert [(a.kind, a.counter, a.before, a.after) for a in found] == [
        (AnomalyKind.COUNTER_DECREASE, "total", "5000", "12")]
    assert "reset or controller board replaced" in found[0].detail


def test_counter32_wrap_gives_the_delta_across_it():
    found = compare(reading(total=WRAP - 10), reading(at=60, total=5, uptime=106_000))
    assert [(a.kind, a.delta) for a in found] == [(AnomalyKind.COUNTER_WRAP, 15)]


def test_vendor_modulus_wrap_2_24():
    before = reading(total=2**24 - 3, wraps_at=2**24)
    after = reading(at=60, total=4, wraps_at=2**24, uptime=106_000)
    assert [(a.kind, a.delta) for a in compare(before, after)] == [(AnomalyKind.COUNTER_WRAP, 7)]


def test_decrease_without_modulus_is_never_a_wrap():
    before, after = reading(total=WRAP - 10, wraps_at=None), reading(at=60, total=5, wraps_at=None)
    assert kinds(before, after) == [(AnomalyKind.COUNTER_DECREASE, "total")]


def test_serial_change_is_a_swap_and_skips_counter_checks():
    found = compare(reading(serial="A"), reading(at=60, serial="B", total=3))
    assert [(a.kind, a.before, a.after) for a in found] == [(AnomalyKind.SERIAL_CHANGED, "A", "B")]


def test_uptime_going_back_is_a_reboot():
    assert kinds(reading(uptime=900_000), reading(at=60, uptime=3_000)) == [
        (AnomalyKind.REBOOT, None)]


def test_uptime_timeticks_wrap_is_no_reboot():
    before = reading(uptime=WRAP - 1_000)  # 10 s before the 497-day wrap
    assert compare(before, reading(at=60, uptime=5_000)) == []


def test_implausible_jump_is_configurable():
    before, after = reading(total=1000), reading(at=60, total=1500, uptime=106_000)
    assert kinds(before, after) == [(AnomalyKind.IMPLAUSIBLE_JUMP, "total")]
    assert kinds(before, after, max_pages_per_minute=600) == []
    assert compare(before, after)[0].delta == 500


def test_unit_change_and_missing_counter():
    before = reading(copy=10)
    after = reading(at=60, unit=Unit.SHEETS, uptime=106_000)
    assert kinds(before, after) == [(AnomalyKind.UNIT_CHANGED, "total"),
                                    (AnomalyKind.COUNTER_MISSING, "copy")]


def test_billable_deltas_per_counter_and_across_a_wrap():
    opened = reading(total=WRAP - 2, copy=100)
    closed = reading(at=300, total=3, copy=105)
    assert billable_deltas(opened, closed) == (
        CounterDelta("total", 5, Unit.IMPRESSIONS, wrapped=True),
        CounterDelta("copy", 5, Unit.IMPRESSIONS))
    assert billable_deltas(opened, closed, ("copy",)) == (
        CounterDelta("copy", 5, Unit.IMPRESSIONS),)


@pytest.mark.parametrize(("closed", "names", "message"), [
    (reading(at=60, serial="OTHER", total=1010), None,
     "copier: serial changed from SN1 to OTHER during the ticket (device swapped); bill by hand"),
    (reading(at=60, total=10), None,
     "copier: counter total went back from 1000 to 10 (reset or board replaced); bill by hand"),
    (reading(at=60, total=1010, unit=Unit.SHEETS), None,
     "copier: counter total changed unit from impressions to sheets"),
    (reading(at=60, total=1010), ("copy",), "copier: counter copy missing from the opening reading"),
    (reading(at=-60, total=1010), None, "copier: closing reading precedes the opening one"),
    (reading(at=60, device="other"), None, "readings of different devices: copier, other"),
])
def test_billable_deltas_refuse_what_cannot_be_billed(closed, names, message):
    with pytest.raises(DeltaRefused) as caught:
        billable_deltas(reading(), closed, names)
    assert str(caught.value) == message
