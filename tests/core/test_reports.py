"""The monthly reconciliation through the daemon: meters against what the desk billed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from gatewayd.ctl import Refused
from tests.conftest import Daemon
from tests.core.test_billing_api import call_record

MONTH = "2026-11"


def meter(client, device: str, at: str, total: int) -> None:  # type: ignore[no-untyped-def]
    client.post("/events", {"kind": "meter_reading", "device": device, "natural_key": f"{device}/{at}",
                            "occurred_at": at, "payload": {"counters": [
                                {"name": "total", "value": total, "unit": "impressions", "wraps_at": 2**32}]}})


def test_monthly_reconciliation_sets_meters_against_bills(daemon: Daemon, tmp_path: Path) -> None:
    c = daemon.client()
    # The copier counted 100 pages this month (plus one reading in October, outside it).
    meter(c, "lobby-mfp", "2026-10-31T20:00:00+08:00", 900)
    meter(c, "lobby-mfp", "2026-11-02T08:00:00+08:00", 1000)
    meter(c, "lobby-mfp", "2026-11-25T20:00:00+08:00", 1100)
    # 30 copy sides billed on a copy ticket for that copier (counted by hand: no SNMP here).
    copy = c.post("/tickets", {"kind": "copy", "guest_name": "x", "device": "lobby-mfp",
                               "params": {"meter": "manual"}})
    c.post(f"/tickets/{copy['id']}/priced", {"service": "copy", "media": "A4", "sides": 30})
    # A 20-side print job on the same device, on a print ticket; a 5-side one nobody claimed.
    printed = c.post("/tickets", {"kind": "print", "guest_name": "y"})
    for key, ticket, pages in (("job-1", printed["id"], 20), ("job-2", None, 5)):
        c.post("/events", {"kind": "print_job", "device": "lobby-mfp", "natural_key": key,
                           "occurred_at": "2026-11-20T10:00:00+08:00", "ticket": ticket,
                           "payload": {"pages": pages, "copies": 1, "media": "A4", "colour": "mono"}})
    # A fax to Hong Kong: 192 s billed.
    fax = c.post("/tickets", {"kind": "fax_out", "guest_name": "z"})
    c.post("/events", call_record(fax["id"], number="0085221234567", pages=[["MCF"]], duration=191.4,
                                  status="completed"))

    # A received fax: 3 pages came, one cut short -- 2 kept (one of them resent after RTN).
    c.post("/events", {"kind": "fax_call", "device": "modem1", "natural_key": "in-1",
                       "occurred_at": "2026-11-21T09:00:00+08:00",
                       "payload": {"direction": "incoming", "status": "partial", "pages": [
                           {"page": 1, "delivered": True, "error_page": True}, {"page": 2, "delivered": True},
                           {"page": 3, "delivered": False}]}})

    result = daemon.ctl("--json", "report", "monthly", MONTH, "--csv", str(tmp_path / "r.csv"),
                        "--html", str(tmp_path / "r.html"))
    assert result.returncode == 0, result.stderr
    r = json.loads(result.stdout)
    mfp = next(d for d in r["devices"] if d["device"] == "lobby-mfp")
    assert (mfp["opening"], mfp["closing"], mfp["metered"]) == (1000, 1100, 100)
    assert (mfp["billed_copy_sides"], mfp["billed_print_sides"], mfp["unattributed_print_sides"]) == (30, 20, 5)
    assert mfp["unbilled"] == 50
    assert r["unattributed_events"] == {"fax_call": 1, "print_job": 1}
    assert (r["fax_in_calls"], r["fax_in_pages"]) == (1, 2)
    hk = r["fax_out"][0]
    assert hk["destination"].startswith("+852 Hong Kong") and hk["calls"] == 1 and hk["billed_seconds"] == 240
    ticket_total = c.get(f"/tickets/{fax['id']}")["total"]
    assert hk["revenue"] == ticket_total
    assert r["revenue_by_service"]["copy"] == c.get(f"/tickets/{copy['id']}")["total"]
    assert r["revenue"] == str(sum(__import__("decimal").Decimal(v) for v in r["revenue_by_service"].values()))

    rows = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    assert rows[0] == ["section", "device_or_item", "metric", "value"]
    assert ["device", "lobby-mfp", "unbilled", "50"] in rows
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<svg" in html and "lobby-mfp" in html and "月度抄表对账" in html

    table = daemon.ctl("report", "monthly", MONTH)
    assert "lobby-mfp" in table.stdout and "+852 Hong Kong" in table.stdout


def test_an_empty_month_and_a_bad_month(daemon: Daemon) -> None:
    c = daemon.client()
    r = c.get("/reports/monthly/2020-02")
    assert r["devices"] == [] and r["revenue"] == "0.00"
    with pytest.raises(Refused) as refused:
        c.get("/reports/monthly/2026-13")
    assert refused.value.status == 422 and "month must look like 2026-11" in refused.value.detail


def test_a_counter_reset_is_no_four_billion_pages(daemon: Daemon) -> None:
    """A board replaced mid-month restarts the counter near zero: the month's pages are unknown
    (the anomaly says why), never the Counter32 modulus minus the old value."""
    c = daemon.client()
    meter(c, "reset-mfp", "2026-11-02T08:00:00+08:00", 15_000)
    meter(c, "reset-mfp", "2026-11-25T20:00:00+08:00", 120)
    meter(c, "wrap-mfp", "2026-11-02T08:00:00+08:00", 2**32 - 30)
    meter(c, "wrap-mfp", "2026-11-25T20:00:00+08:00", 70)
    devices = {d["device"]: d for d in c.get(f"/reports/monthly/{MONTH}")["devices"]}
    assert (devices["reset-mfp"]["metered"], devices["reset-mfp"]["unbilled"]) == (None, None)
    assert devices["wrap-mfp"]["metered"] == 100


def test_a_hand_entered_meter_reading_is_decoded_before_it_is_stored(daemon: Daemon) -> None:
    """Staff's readings go through the decoder the report and the copy meter read them with: a
    garbled one is refused naming the field (it used to be stored, and the month's report then
    failed on it); the short form staff type is read like the driver's list."""
    c = daemon.client()
    at = "2026-11-03T08:00:00+08:00"
    garbled = [
        ({"counters": [{"name": "total", "value": "1000"}]}, "payload.counters[0].value"),
        ({"counters": [{"name": "total", "value": -1}]}, "payload.counters[0].value"),
        ({"counters": [{"name": "total", "value": 5, "unit": "bananas"}]}, "payload.counters[0].unit"),
        ({"counters": [{"name": "total", "value": 5, "wraps_at": 0}]}, "payload.counters[0].wraps_at"),
        ({"counters": ["total"]}, "payload.counters[0]"),
        ({"counters": [{"name": "total", "value": 1}, {"name": "total", "value": 2}]}, "payload.counters"),
        ({"counters": [{"name": f"c{i}", "value": i} for i in range(65)]}, "payload.counters"),
        ({"counters": {"total": True}}, "payload.counters[0].value"),
        ({"total": 1000}, "payload.counters"),
    ]
    for i, (payload, field) in enumerate(garbled):
        with pytest.raises(Refused) as refused:
            c.post("/events", {"kind": "meter_reading", "device": "hand-mfp", "natural_key": f"hand-mfp/{i}",
                               "occurred_at": at, "payload": payload})
        assert refused.value.status == 422 and field in refused.value.detail, (payload, refused.value.detail)
    assert c.get("/events", kind="meter_reading") == []
    for at, total in (("2026-11-03T08:00:00+08:00", 500), ("2026-11-20T18:00:00+08:00", 740)):
        c.post("/events", {"kind": "meter_reading", "device": "hand-mfp", "natural_key": f"hand-mfp/{at}",
                           "occurred_at": at, "payload": {"counters": {"total": total}}})
    line = next(d for d in c.get(f"/reports/monthly/{MONTH}")["devices"] if d["device"] == "hand-mfp")
    assert (line["counter"], line["opening"], line["closing"], line["metered"]) == ("total", 500, 740, 240)


def test_revenue_is_summed_exactly_in_the_database(db_url: str) -> None:
    """SQLite keeps money as text: its SUM would be a float. 0.10 three times is 0.30, and an
    amount with four decimal places beside a large one keeps every digit."""
    from datetime import datetime, timezone
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from gatewayd import db, reports
    from gatewayd.audit import Caller
    from gatewayd.ledger import Ledger

    engine = db.make_engine(db_url)
    db.migrate(engine)
    clock = lambda: datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc)  # noqa: E731
    ledger = Ledger(db.session_factory(engine), ZoneInfo("Asia/Shanghai"), clock=clock)
    desk = Caller("desk")
    ticket = ledger.open_ticket(desk, kind="other", guest_name="x")
    for amount in ("0.10", "0.10", "0.10", "1234567890.1234", "0.0001"):
        ledger.add_charge(desk, ticket["id"], description="x", quantity=Decimal(1), unit="item",
                          unit_price=Decimal(amount), amount=Decimal(amount))
    with ledger.transaction() as s:
        report = reports.build(s, MONTH, ledger.timezone)
    assert report.revenue_by_service == {"other": Decimal("1234567890.4235")}
