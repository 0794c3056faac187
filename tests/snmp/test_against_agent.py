"""The driver against snmpsim while the lab changes devices: copies, resets, swaps, sleep."""

from __future__ import annotations

import asyncio

import pytest

from drivers.snmp.anomalies import AnomalyKind, billable_deltas
from drivers.snmp.driver import SnmpDriver
from drivers.snmp.errors import CountersNotSettled, DeviceUnreachable
from drivers.snmp.stability import SettlePolicy
from tests.snmp.helpers import FakeClock, drive, lab_config

TOTAL = "1.3.6.1.2.1.43.10.2.1.4.1.1"  # prtMarkerLifeCount.1.1
SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"  # prtGeneralSerialNumber.1
HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1.1"


def test_copies_become_a_billable_copy_delta(lab):
    driver = SnmpDriver(lab_config(lab, "sharp_copies"))

    async def ticket(d):
        opened = await d.read("sharp_copies")
        lab.copies("sharp_copies", 7)
        lab.copies("sharp_copies", 2, colour=True)
        return opened, await d.read("sharp_copies")

    opened, closed = drive(driver, ticket)
    deltas = {c.name: c.delta for c in billable_deltas(opened, closed, closed.copy_counters)}
    assert deltas == {"copy.mono": 7, "copy.colour": 2}
    assert closed.counter("total").value - opened.counter("total").value == 9
    assert driver.anomalies("sharp_copies") == ()


def test_counter_reset_on_the_agent_is_recorded(lab):
    driver = SnmpDriver(lab_config(lab, "sharp_reset"))

    async def reset(d):
        await d.read("sharp_reset")
        lab.set("sharp_reset", {TOTAL: 42})
        return await d.read("sharp_reset")

    after = drive(driver, reset)
    assert after.counter("total").value == 42
    [anomaly] = driver.anomalies("sharp_reset")
    assert (anomaly.kind, anomaly.counter, anomaly.before, anomaly.after) == (
        AnomalyKind.COUNTER_DECREASE, "total", "121104", "42")
    assert driver.device_status("sharp_reset")["anomalies"][0]["kind"] == "counter_decrease"


def test_swapped_device_is_recorded(lab):
    driver = SnmpDriver(lab_config(lab, "sharp_swap"))

    async def swap(d):
        await d.read("sharp_swap")
        lab.set("sharp_swap", {SERIAL: "NEW0000001", TOTAL: 10})
        return await d.read("sharp_swap")

    assert drive(driver, swap).serial == "NEW0000001"
    assert [a.kind for a in driver.anomalies("sharp_swap")] == [AnomalyKind.SERIAL_CHANGED]


def test_sleeping_device_gives_no_reading_never_zero_and_wakes(lab):
    driver = SnmpDriver(lab_config(lab, "sharp_sleep"))

    async def nap(d):
        first = await d.read("sharp_sleep")
        lab.sleep("sharp_sleep")
        try:
            with pytest.raises(DeviceUnreachable, match="no answer from 127.0.0.1"):
                await d.read("sharp_sleep")
            asleep = d.device_status("sharp_sleep")
        finally:
            lab.wake("sharp_sleep")
        return first, asleep, await d.read("sharp_sleep")

    first, asleep, woken = drive(driver, nap)
    assert asleep["state"] == "unreachable" and asleep["consecutive_failures"] == 1
    assert asleep["reading"]["counters"]["total"]["value"] == 121104  # last good one, kept
    assert woken.counters == first.counters
    assert driver.device_status("sharp_sleep")["state"] == "ok"


def test_billing_read_waits_until_copying_stops(lab):
    clock = FakeClock()
    # The copier is still busy for the first three billing polls: 4, 3, then 1 more page.
    clock.on_sleep = [lambda: lab.copies("kyocera_billing", 4),
                      lambda: lab.copies("kyocera_billing", 3),
                      lambda: lab.copies("kyocera_billing", 1)]
    driver = SnmpDriver(lab_config(lab, "kyocera_billing"), clock=clock)
    policy = SettlePolicy(stable_polls=3, poll_every=2.0, max_wait=60.0)
    start = clock.monotonic()
    got = drive(driver, lambda d: d.billing_read("kyocera_billing", policy))
    assert got.counter("copy.mono").value == 14730 + 8
    # Polls 1-4 each see new pages; polls 4, 5, 6 are identical: 6 polls, 5 sleeps of 2 s.
    assert clock.monotonic() - start == 10.0


def test_billing_read_gives_up_on_a_busy_device(lab):
    lab.set("kyocera_busy", {HR_PRINTER_STATUS: 4})  # printing(4)
    clock = FakeClock()
    driver = SnmpDriver(lab_config(lab, "kyocera_busy"), clock=clock)
    policy = SettlePolicy(stable_polls=3, poll_every=2.0, max_wait=10.0)
    with pytest.raises(CountersNotSettled) as caught:
        drive(driver, lambda d: d.billing_read("kyocera_busy", policy))
    err = caught.value
    assert str(err) == ("kyocera_busy: counters not settled after 10 s and 6 polls: "
                        "device is printing")
    assert err.last is not None and err.last.counter("total").value == 76498


def test_run_polls_and_emits_readings(lab):
    clock = FakeClock()
    config = lab_config(lab, "ricoh_run", "no_such_device", poll_interval=60)
    driver = SnmpDriver(config, clock=clock)
    emitted = []
    enough = asyncio.Event()

    async def emit(event):
        emitted.append(event)
        if len(emitted) == 3:
            enough.set()

    async def poll(d):
        task = asyncio.create_task(d.run(emit))
        await asyncio.wait_for(enough.wait(), timeout=20)
        for _ in range(100):  # the silent device's 0.5 s timeout runs in real time
            if d.device_status("no_such_device")["state"] != "never_read":
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    drive(driver, poll)
    assert {e.device for e in emitted} == {"ricoh_run"} and len(emitted) >= 3
    assert len({e.natural_key for e in emitted}) == len(emitted)  # one event per poll
    assert all(a.occurred_at < b.occurred_at for a, b in zip(emitted, emitted[1:], strict=False))
    status = driver.status()
    assert [d["state"] for d in status["devices"]] == ["ok", "unreachable"]
