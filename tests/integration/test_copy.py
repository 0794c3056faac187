"""Copy tickets billed by meter delta, through the real daemon and a real snmpsim, on both databases.

One snmpsim serves the module; every test copies on its own clone of a recording per database
(``_copier``), so counters moved by one test never show in another's delta.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gatewayd.ctl import Client, Refused
from lab.snmp.agent import SnmpLab
from tests.conftest import REPO, Daemon, write_config
from tests.snmp.helpers import RECORDINGS

pytestmark = pytest.mark.slow

SHARP_COPY_MONO = "1.3.6.1.4.1.2385.1.1.19.2.1.3.4.4.61"
PRT_SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"
TESTS = {
    "flow": "sharp", "busy": "sharp", "total": "printmaster_kyocera_p2040dw", "media": "printmaster_kyocera_cs4053ci",
    "sleep": "sharp", "manual": "sharp", "anomaly": "sharp", "reload": "sharp",
    "model": "canonprinter_tm",
}
DBS = ("sqlite", "postgresql")


@pytest.fixture(scope="module")
def lab() -> Iterator[SnmpLab]:
    clones = {f"{test}_{db}": stem for test, stem in TESTS.items() for db in DBS}
    with SnmpLab(RECORDINGS, clones=clones) as agent:
        yield agent


def _copier(test: str, db_url: str) -> str:
    return f"{test}_{'sqlite' if db_url.startswith('sqlite') else 'postgresql'}"


def _snmp_section(lab: SnmpLab, *devices: str) -> str:
    # Fast polls and a short settle so a test takes seconds; the community lives in the main
    # file here (the daemon logs a warning saying to move it to secrets_file).
    entries = "".join(f'\n[[snmp.devices]]\nname = "{d}"\nhost = "{lab.host}"\nport = {lab.port}\ncommunity = "{d}"\n'
                      for d in devices)
    return ("\n[snmp]\npoll_interval = 1\ntimeout = 0.3\nretries = 0\nstable_polls = 2\n"
            f"billing_poll_interval = 0.2\nbilling_max_wait = 3\n{entries}")


@pytest.fixture
def start(tmp_path: Path, db_url: str, lab: SnmpLab) -> Iterator[Callable[[str], tuple[Daemon, str]]]:
    """start(test) -> a daemon watching that test's copier, and the copier's name."""
    started: list[Daemon] = []

    def go(test: str) -> tuple[Daemon, str]:
        device = _copier(test, db_url)
        d = Daemon(tmp_path, write_config(tmp_path, db_url, extra=_snmp_section(lab, device)))
        started.append(d.start())
        return d, device

    yield go
    for d in started:
        d.stop()


def _open(client: Client, device: str, **params: str) -> dict[str, Any]:
    return client.post("/tickets", {"kind": "copy", "guest_name": "王先生", "device": device, "params": params})


def _until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s")


def _charges(ticket: dict[str, Any]) -> list[tuple[str, Decimal, Decimal, str]]:
    """(rule, quantity, unit price, amount); PostgreSQL's NUMERIC gives "8.0000" for 8."""
    return [(c["rule"], Decimal(c["quantity"]), Decimal(c["unit_price"]), c["amount"]) for c in ticket["charges"]]


def test_copy_ticket_end_to_end(start: Callable[..., tuple[Daemon, str]], lab: SnmpLab) -> None:
    daemon, device = start("flow")
    client = daemon.client()
    opened = _open(client, device, media="A4", sets="2")
    number = opened["id"]
    assert opened["meter"]["mode"] == "auto" and opened["meter"]["opening"]["serial"] == "6509415X00"
    client.post(f"/tickets/{number}/start")
    lab.copies(device, 10)  # 2 sets of 5 mono sides
    lab.copies(device, 4, colour=True)
    done = client.post(f"/tickets/{number}/finish")

    assert done["state"] == "awaiting_customer"
    assert _charges(done) == [
        ("copy.prices[A4 mono].simplex", Decimal(10), Decimal("0.50"), "5.00"),
        ("copy.prices[A4 colour].simplex", Decimal(4), Decimal("3.00"), "12.00"),
    ]
    assert done["total"] == "17.00"
    assert [c["inputs"]["sets"] for c in done["charges"]] == [2, 2]
    meter = done["meter"]
    assert meter["count"]["counters"] == {"copy.mono": 10, "copy.colour": 4}
    assert meter["closing"]["counters"]["copy.mono"] - meter["opening"]["counters"]["copy.mono"] == 10
    readings = client.get("/events", ticket=number, kind="meter_reading")
    assert {e["id"] for e in readings} == {meter["opening"]["event"], meter["closing"]["event"]}
    assert all(c["event_id"] == meter["closing"]["event"] and not c["manual"] for c in done["charges"])

    # The customer counted 15: kept beside the meter's 14, the bill unchanged.
    checked = client.post(f"/tickets/{number}/customer-count", {"sides": 15, "note": "one page counted twice?"})
    assert checked["meter"]["customer_count"]["sides"] == 15 and checked["meter"]["difference"] == 1
    assert checked["total"] == "17.00"
    shown = daemon.ctl("copy", "status", number)
    assert "customer counted 15 sides, +1 against the meter" in shown.stdout, shown.stdout

    # The copier is free again once the closing reading is in.
    assert _open(client, device)["state"] == "open"


def test_second_copy_ticket_on_a_busy_copier_is_refused(start: Callable[..., tuple[Daemon, str]]) -> None:
    daemon, device = start("busy")
    client = daemon.client()
    first = _open(client, device)["id"]
    with pytest.raises(Refused) as refused:
        _open(client, device)
    assert refused.value.status == 409 and first in refused.value.detail and device in refused.value.detail
    assert [t["id"] for t in client.get("/tickets")] == [first]


def test_total_counter_less_the_pages_printed_in_the_window(start: Callable[..., tuple[Daemon, str]],
                                                            lab: SnmpLab) -> None:
    daemon, device = start("total")
    client = daemon.client()

    def print_job(key: str, at: datetime, payload: dict) -> None:
        client.post("/events", {"kind": "print_job", "device": device, "natural_key": key,
                                "occurred_at": at.isoformat(), "payload": payload})

    print_job("before", datetime.now(UTC) - timedelta(hours=1), {"billed_sides": 50})  # not deducted
    opened = _open(client, device, media="A4")
    assert opened["meter"]["opening"]["copy_counters"] == ["total"]
    number = opened["id"]
    client.post(f"/tickets/{number}/start")
    lab.copies(device, 17)  # 12 copied + 5 printed: the total counter cannot tell them apart
    print_job("during", datetime.now(UTC), {"billed_sides": 1})
    # Typed in by staff in the short form: 2 pages, 2 copies -- 4 sides, read by the decoder that
    # bills it (they used to be deducted as 0: the payload has no billed_sides key).
    print_job("typed in", datetime.now(UTC), {"pages": 2, "copies": 2, "media": "A4"})
    done = client.post(f"/tickets/{number}/finish")

    assert done["meter"]["count"]["counters"] == {"total": 17}
    assert done["meter"]["count"]["printed_deducted"] == 5
    assert _charges(done) == [("copy.prices[A4 mono].simplex", Decimal(12), Decimal("0.50"), "6.00")]


def test_per_media_copy_counters_split_the_lines(start: Callable[..., tuple[Daemon, str]], lab: SnmpLab) -> None:
    daemon, device = start("media")
    client = daemon.client()
    number = _open(client, device, media="A4")["id"]
    client.post(f"/tickets/{number}/start")
    lab.copies(device, 10, media="a4")
    lab.copies(device, 4, media="a3")
    done = client.post(f"/tickets/{number}/finish")
    assert _charges(done) == [  # in the profile's order of the counters
        ("copy.prices[A3 mono].simplex", Decimal(4), Decimal("1.00"), "4.00"),
        ("copy.prices[A4 mono].simplex", Decimal(10), Decimal("0.50"), "5.00"),
    ]


def test_finish_while_the_copier_sleeps_then_completes_when_it_wakes(
        start: Callable[..., tuple[Daemon, str]], lab: SnmpLab) -> None:
    daemon, device = start("sleep")
    client = daemon.client()
    number = _open(client, device, media="A4")["id"]
    client.post(f"/tickets/{number}/start")
    lab.copies(device, 6)
    lab.sleep(device)
    try:
        parked = client.post(f"/tickets/{number}/finish")
        assert parked["state"] == "awaiting_meter" and parked["charges"] == []
        assert device in parked["meter"]["waiting"] and not parked["meter"]["needs_count"]
        time.sleep(1.5)  # a retry or two while it sleeps changes nothing
        assert client.get(f"/tickets/{number}")["state"] == "awaiting_meter"
    finally:
        lab.wake(device)
    done = _until(lambda: (t := client.get(f"/tickets/{number}"))["state"] == "awaiting_customer" and t)
    assert _charges(done) == [("copy.prices[A4 mono].simplex", Decimal(6), Decimal("0.50"), "3.00")]
    actions = [(e["action"], e["actor"]) for e in client.get("/audit", entity="ticket", id=number)]
    assert ("ticket.metered", "gatewayd") in actions and ("ticket.await_meter", "root") in actions


def test_a_ticket_the_retry_completes_after_a_reload_is_priced_by_the_new_price_list(
        start: Callable[..., tuple[Daemon, str]], lab: SnmpLab, tmp_path: Path) -> None:
    """The copiers' retry loop prices with the daemon's current price list, not the one it
    started with (it used to keep its own copy of the configuration)."""
    daemon, device = start("reload")
    client = daemon.client()
    number = _open(client, device, media="A4")["id"]
    client.post(f"/tickets/{number}/start")
    lab.copies(device, 6)
    lab.sleep(device)
    try:
        assert client.post(f"/tickets/{number}/finish")["state"] == "awaiting_meter"
        yesterday = (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=1)).date()
        prices = tmp_path / "rates.toml"
        prices.write_text((REPO / "config" / "rates.toml").read_text(encoding="utf-8") + f"""
[[rates.tables]]
version = "dearer"
effective = {yesterday.isoformat()}
based_on = "2025-07"

[rates.tables.copy]
[[rates.tables.copy.prices]]
media = "A4"
colour = "mono"
simplex = "0.80"
duplex = "0.70"
""", encoding="utf-8")
        daemon.config.write_text(daemon.config.read_text().replace(str(REPO / "config" / "rates.toml"), str(prices)))
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGHUP)
        _until(lambda: client.post("/quotes", {"service": "copy", "media": "A4", "sides": 10})["total"] == "8.00")
    finally:
        lab.wake(device)
    done = _until(lambda: (t := client.get(f"/tickets/{number}"))["state"] == "awaiting_customer" and t)
    assert _charges(done) == [("copy.prices[A4 mono].simplex", Decimal(6), Decimal("0.80"), "4.80")]
    assert done["charges"][0]["rate_version"] == "dearer"


def test_manual_count_when_the_copier_cannot_be_read(start: Callable[..., tuple[Daemon, str]],
                                                     lab: SnmpLab) -> None:
    daemon, device = start("manual")
    client = daemon.client()
    lab.sleep(device)
    try:
        with pytest.raises(Refused) as refused:
            _open(client, device)
        assert refused.value.status == 503
        assert device in refused.value.detail and "meter=manual" in refused.value.detail
        opened = daemon.ctl("--json", "ticket", "open", "copy", "--guest", "李女士", "--device", device,
                            "--param", "meter=manual", "--param", "media=A3", "--param", "duplex=yes")
        assert opened.returncode == 0, opened.stderr
        number = json.loads(opened.stdout)["id"]
        # The copier is held by the manual ticket too.
        with pytest.raises(Refused):
            _open(client, device, meter="manual")
    finally:
        lab.wake(device)
    assert daemon.ctl("ticket", "start", number).returncode == 0
    parked = client.post(f"/tickets/{number}/finish")
    assert parked["state"] == "awaiting_meter" and parked["meter"]["needs_count"]
    counted = daemon.ctl("copy", "count", number, "--mono", "8", "--note", "counted the originals × 2")
    assert counted.returncode == 0, counted.stderr

    done = client.get(f"/tickets/{number}")
    assert done["state"] == "awaiting_customer"
    assert _charges(done) == [("copy.prices[A3 mono].duplex", Decimal(8), Decimal("0.80"), "6.40")]
    assert all(c["manual"] for c in done["charges"])
    trail = client.get("/audit", entity="ticket", id=number)
    count = next(e for e in trail if e["action"] == "copy.manual_count")
    assert count["manual"] and count["actor"] == "root" and count["after"]["sides.mono"] == 8
    assert all(e["manual"] for e in trail if e["action"] == "charge.add")
    with pytest.raises(Refused) as again:
        client.post(f"/tickets/{number}/meter", {"mono": 1})
    assert again.value.status == 409


def test_reset_and_serial_change_recorded_across_a_restart(start: Callable[..., tuple[Daemon, str]],
                                                           lab: SnmpLab) -> None:
    daemon, device = start("anomaly")
    client = daemon.client()
    _until(lambda: client.get(f"/devices/{device}")["reading"])
    daemon.stop()
    lab.set(device, {SHARP_COPY_MONO: 5})  # the controller board was replaced while we were down
    daemon.start()

    def kinds() -> set[str]:
        return {a["kind"] for a in client.get(f"/devices/{device}")["anomalies"]}

    client = daemon.client()
    _until(lambda: "counter_decrease" in kinds())
    lab.set(device, {PRT_SERIAL: "OTHER-0001"})
    _until(lambda: "serial_changed" in kinds())

    listed = daemon.ctl("devices", "--json")
    assert listed.returncode == 0, listed.stderr
    (copier,) = json.loads(listed.stdout)
    assert copier["name"] == device and copier["kind"] == "copier" and copier["state"] == "ok"
    assert copier["reading"]["serial"] == "OTHER-0001"
    assert {"counter_decrease", "serial_changed"} <= {a["kind"] for a in copier["anomalies"]}
    decrease = next(a for a in copier["anomalies"] if a["kind"] == "counter_decrease")
    assert decrease["counter"] == "copy.mono" and decrease["after"] == "5"
    shown = daemon.ctl("devices", "show", device)
    assert shown.returncode == 0 and "serial_changed" in shown.stdout and "copy.mono *" in shown.stdout


def test_devices_show_the_make_and_model_and_no_serial_none(start: Callable[..., tuple[Daemon, str]]) -> None:
    """A Canon TM-5300 reports no serial and is read with a generic profile: staff see its make
    and model as it words them, and no 'serial None'."""
    daemon, device = start("model")
    client = daemon.client()
    shown = _until(lambda: (d := client.get(f"/devices/{device}"))["reading"] and d)
    assert (shown["model"], shown["sys_descr"]) == ("Canon TM-5300", "Canon TM-5300 /P")
    assert next(d for d in client.get("/devices") if d["name"] == device)["model"] == "Canon TM-5300"
    text = daemon.ctl("devices", "show", device).stdout
    assert "model:    Canon TM-5300 / Canon TM-5300 /P" in text and "None" not in text, text
    assert "(no serial number reported)" in text
