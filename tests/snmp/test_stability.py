"""SettleWatch alone: idle + identical counters over N polls, bounded wait."""

from __future__ import annotations

from drivers.snmp.reading import PrinterStatus
from drivers.snmp.stability import SettlePolicy, SettleWatch, Verdict
from tests.snmp.helpers import reading

POLICY = SettlePolicy(stable_polls=3, poll_every=2.0, max_wait=20.0)


def feed(watch, readings, step=2.0):
    t, verdicts = watch.started, []
    for r in readings:
        verdicts.append(watch.observe(r, t))
        t += step
    return verdicts


def test_three_identical_idle_readings_settle():
    watch = SettleWatch(POLICY, 0.0)
    assert feed(watch, [reading(), reading(), reading()]) == [Verdict.WAIT, Verdict.WAIT,
                                                               Verdict.SETTLED]


def test_moving_counters_restart_the_streak():
    watch = SettleWatch(POLICY, 0.0)
    got = feed(watch, [reading(total=1), reading(total=2), reading(total=2), reading(total=2)])
    assert got == [Verdict.WAIT, Verdict.WAIT, Verdict.WAIT, Verdict.SETTLED]


def test_printing_never_settles_and_gives_up_at_max_wait():
    watch = SettleWatch(POLICY, 0.0)
    got = feed(watch, [reading(status=PrinterStatus.PRINTING)] * 11)
    assert got[-1] is Verdict.GAVE_UP and set(got[:-1]) == {Verdict.WAIT}
    assert watch.reason == "device is printing" and watch.polls == 11


def test_a_serial_change_is_not_stable():
    watch = SettleWatch(POLICY, 0.0)
    got = feed(watch, [reading(serial="A"), reading(serial="B"), reading(serial="B")])
    assert got == [Verdict.WAIT, Verdict.WAIT, Verdict.WAIT]
