"""Prices through the daemon: quotes, the table in force, a fax-out ticket billed from its call
record, and the receipts it ends with (text and PDF)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from gatewayd.ctl import Refused
from tests.conftest import BIN, REPO, Daemon

# A Wednesday morning in Shanghai: no night/weekend band, the 2025-07 table in force.
WEEKDAY = "2026-11-25T10:00:00+08:00"


def test_quote_a_fax_to_hong_kong(daemon: Daemon) -> None:
    result = daemon.ctl("--json", "quote", "fax", "0085221234567", "--minutes", "3", "--pages", "2", "--at", WEEKDAY)
    assert result.returncode == 0, result.stderr
    q = json.loads(result.stdout)
    assert q["rate_version"] == "2025-07" and q["currency"] == "CNY"
    # rates.toml, 2025-07: Hong Kong 6.00/min in 60 s blocks, connect fee 2.00, 1.00 per page.
    amounts = {line["rule"]: line["amount"] for line in q["lines"]}
    assert amounts["fax_out.destinations[+852]"] == "18.00"
    assert amounts["fax_out.connect_fee"] == "2.00"
    assert amounts["fax_out.per_page"] == "2.00"
    assert q["total"] == "22.00"
    assert "+852 Hong Kong" in q["explain"]
    table = daemon.ctl("quote", "fax", "0085221234567", "--minutes", "3", "--pages", "2", "--at", WEEKDAY)
    assert "total 22.00 CNY" in table.stdout


def test_quote_refuses_an_undiallable_number_with_the_reason(daemon: Daemon) -> None:
    result = daemon.ctl("quote", "fax", "110")
    assert result.returncode == 1
    assert "cannot dial '110'" in result.stderr and "emergency" in result.stderr


def test_quote_copies_and_the_rate_table_in_force(daemon: Daemon) -> None:
    c = daemon.client()
    q = c.post("/quotes", {"service": "copy", "media": "A4", "sides": 10, "sets": 3, "duplex": True, "at": WEEKDAY})
    assert q["total"] == "12.00"  # 10 sides x 3 sets at 0.40 duplex A4 mono
    with pytest.raises(Refused) as refused:
        c.post("/quotes", {"service": "copy", "media": "A0", "sides": 1})
    assert refused.value.status == 422 and "no price for copy A0 mono" in refused.value.detail
    with pytest.raises(Refused) as refused:
        c.post("/quotes", {"service": "copy", "sides": 1})
    assert refused.value.status == 422 and "needs media" in refused.value.detail
    shown = daemon.ctl("rates", "show", "--at", WEEKDAY)
    assert shown.returncode == 0 and "Rate table 2025-07" in shown.stdout


def call_record(ticket: str, *, number: str, pages: list[list[str]], duration: float, status: str) -> dict:
    """A fax_call payload as drivers.fax.record.FaxCall stores it: per page, each attempt's answer."""
    return {
        "kind": "fax_call", "device": "modem1", "natural_key": f"call-{ticket}-{len(pages)}",
        "occurred_at": "2026-11-25T10:03:30+08:00", "ticket": ticket,
        "payload": {
            "direction": "outgoing", "number": number, "status": status,
            "dialled_at": "2026-11-25T02:00:00+00:00", "connected_at": "2026-11-25T02:00:15+00:00",
            "duration_s": duration, "occurred_at": "2026-11-25T02:03:30+00:00",
            "hangup": {"code": "normal", "reason": "call completed"},
            "pages": [
                {"page": n, "delivered": attempts[-1] == "MCF", "error_page": "RTN" in attempts,
                 "attempts": [{"attempt": i + 1, "status": s, "bit_rate": 14400, "resolution": "fine"}
                              for i, s in enumerate(attempts)]}
                for n, attempts in enumerate(pages, start=1)
            ],
        },
    }


def test_fax_out_ticket_quoted_billed_from_its_call_record_and_settled(daemon: Daemon, tmp_path: Path) -> None:
    c = daemon.client()
    q = c.post("/quotes", {"service": "fax_out", "number": "9,0085221234567", "minutes": "3", "pages": 3,
                           "at": WEEKDAY})
    t = c.post("/tickets", {"kind": "fax_out", "guest_name": "Mr Chan", "params": {"number": "9,0085221234567"},
                            "quoted_total": q["total"]})
    c.post(f"/tickets/{t['id']}/start", {})
    # Page 2 rejected once (RTN, an ErrorPage) and resent: 3 pages delivered, 3 min 12 s of line time.
    event = call_record(t["id"], number="9,0085221234567", pages=[["MCF"], ["RTN", "MCF"], ["MCF"]],
                        duration=191.4, status="completed")
    stored = c.post("/events", event)
    assert stored["ticket"] == t["id"]
    t = c.get(f"/tickets/{t['id']}")
    by_rule = {line["rule"]: line for line in t["charges"]}
    assert by_rule["fax_out.destinations[+852]"]["amount"] == "24.00"  # 192 s -> 4 x 60 s at 6.00
    assert by_rule["fax_out.per_page"]["amount"] == "3.00"  # page 2 charged once
    assert any("ErrorPage" in line["description"] and line["amount"] == "0.00" for line in t["charges"])
    assert all(line["rate_version"] == "2025-07" and not line["manual"] for line in t["charges"])
    assert t["total"] == "29.00"
    # The quote and the bill were made by the same rules.
    assert {line["rule"] for line in q["lines"]} <= set(by_rule)

    c.post("/events", event)  # the same call record again (a driver restart): billed once
    assert c.get(f"/tickets/{t['id']}")["total"] == "29.00"

    for action in ("finish", "complete"):
        c.post(f"/tickets/{t['id']}/{action}", {})
    t = c.post(f"/tickets/{t['id']}/settle", {"method": "cash"})
    number = t["receipts"][-1]["number"]
    shown = daemon.ctl("receipt", "show", number)
    assert shown.returncode == 0, shown.stderr
    assert "RECEIPT" in shown.stdout and "29.00" in shown.stdout and t["id"] in shown.stdout
    for line in t["charges"]:
        assert line["description"][:20] in shown.stdout.replace("\n", " ") or line["amount"] == "0.00"

    pdf = tmp_path / "receipt.pdf"
    saved = daemon.ctl("receipt", "show", number, "--pdf", str(pdf))
    assert saved.returncode == 0, saved.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "29.00" in text and number in text


def test_a_call_that_never_connected_costs_nothing_by_default(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "fax_out", "guest_name": "x"})
    event = call_record(t["id"], number="0085221234567", pages=[], duration=0, status="failed")
    event["payload"].update(connected_at=None, hangup={"code": "busy", "reason": "line busy"})
    c.post("/events", event)
    assert c.get(f"/tickets/{t['id']}")["total"] == "0.00"


def test_an_unpriceable_call_is_kept_and_flagged_for_staff(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "fax_out", "guest_name": "x"})
    stored = c.post("/events", call_record(t["id"], number="119", pages=[["MCF"]], duration=60,
                                           status="completed"))
    assert stored["ticket"] == t["id"]
    assert c.get(f"/tickets/{t['id']}")["charges"] == []
    flagged = [e for e in c.get("/audit", entity="ticket", id=t["id"]) if e["action"] == "charge.unpriced"]
    assert flagged and "cannot dial '119'" in flagged[0]["after"]["reason"]


def test_gatewayd_rates_check_prints_the_table_in_force() -> None:
    result = subprocess.run([str(BIN / "gatewayd"), "rates", "check", "--config", str(REPO / "config" / "gatewayd.toml"),
                             "--at", WEEKDAY], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Rate table 2025-07, in force from 2025-07-01 00:00 Asia/Shanghai")


def test_a_garbled_hand_entered_call_record_is_refused_naming_what_is_wrong(daemon: Daemon) -> None:
    """Staff's call records go through the decoder that bills a driver's: refused before anything
    is stored (422 naming the field), instead of stored and left unpriced."""
    c = daemon.client()
    t = c.post("/tickets", {"kind": "fax_out", "guest_name": "x"})
    event = call_record(t["id"], number="0085221234567", pages=[["MCF"]], duration=60, status="completed")
    event["payload"]["duration_s"] = "a minute or so"
    with pytest.raises(Refused) as refused:
        c.post("/events", event)
    assert refused.value.status == 422 and "payload.duration_s must be a number of seconds" in refused.value.detail
    event["payload"] = {**event["payload"], "duration_s": 60, "direction": "sideways"}
    with pytest.raises(Refused) as refused:
        c.post("/events", event)
    assert refused.value.status == 422 and "payload.direction" in refused.value.detail
    # An answer that is no T.30 answer is not read as "unconfirmed" (billed as a plain page):
    # whether a page is an ErrorPage is the driver's PageStatus's to say, for staff's records too.
    unknown = call_record(t["id"], number="0085221234567", pages=[["OK"]], duration=60, status="completed")
    with pytest.raises(Refused) as refused:
        c.post("/events", unknown)
    assert refused.value.status == 422 and "payload.pages[0].attempts[0].status must be one of MCF, RTP, RTN" in refused.value.detail
    incoming = {**event, "natural_key": "in-1", "ticket": None, "payload": {"direction": "incoming", "pages": "3"}}
    with pytest.raises(Refused) as refused:
        c.post("/events", incoming)
    assert refused.value.status == 422 and "payload.pages" in refused.value.detail
    # The register's fields are read by the same decoder: a station id that is no text is named.
    incoming["payload"] = {"direction": "incoming", "pages": [{"page": 1, "delivered": True}], "remote_station_id": 42}
    with pytest.raises(Refused) as refused:
        c.post("/events", incoming)
    assert refused.value.status == 422 and "payload.remote_station_id must be text" in refused.value.detail
    assert all(e["natural_key"] != "in-1" for e in c.get("/events"))
    assert c.get(f"/tickets/{t['id']}")["charges"] == []


#: Hand-entered outgoing call records the old readers broke on (500: an AttributeError or
#: TypeError from reading the payload by key, or in rating) or billed as if sound -- each with the
#: field the 422 must name.
MALFORMED_CALLS = [
    ("a page that is no object", lambda p: p.update(pages=[1]), "payload.pages must be a list"),
    ("the hang-up as a bare word", lambda p: p.update(hangup="busy"), "payload.hangup must be like"),
    ("the number as a JSON number", lambda p: p.update(number=85221234567), "payload.number must be text"),
    ("no number", lambda p: p.pop("number"), "payload.number must be the number dialled"),
    ("a page numbered by a word", lambda p: p["pages"][0].update(page="one"), "payload.pages[0].page must be"),
    ("a negative page", lambda p: p["pages"][1].update(page=-2), "payload.pages[1].page must be a page number from 1"),
    ("an endless call", lambda p: p.update(duration_s=1e300), "payload.duration_s must be a number of seconds"),
    ("a hang-up code no driver gives", lambda p: p.update(hangup={"code": "fine", "reason": "ok"}),
     "payload.hangup.code must be one of normal, busy"),
    ("delivered as text", lambda p: p["pages"][0].update(delivered="no"), "payload.pages[0].delivered must be true or false"),
    ("a connect time without its zone", lambda p: p.update(connected_at="2026-11-25T02:00:15"),
     "payload.connected_at must be a time with its offset"),
    ("a status no driver gives", lambda p: p.update(status=3), "payload.status must be one of completed, partial, failed"),
    ("a job id that is no job number", lambda p: p.update(job_id=[1]), "payload.job_id must be a fax job's number"),
]


def test_a_malformed_hand_entered_outgoing_call_is_refused_naming_the_field_and_never_billed(daemon: Daemon) -> None:
    """Billing, the job and the outgoing register read a call through one decoder (SentFax): what
    it refuses is a 422 naming the field before anything is stored, where the old readers, each
    reading the payload by key, failed with a 500 or billed the record as it came."""
    c = daemon.client()
    t = c.post("/tickets", {"kind": "fax_out", "guest_name": "x"})
    for n, (what, garble, field) in enumerate(MALFORMED_CALLS):
        event = call_record(t["id"], number="0085221234567", pages=[["MCF"], ["RTN", "MCF"]], duration=60,
                            status="completed")
        event["natural_key"] = f"garbled-{n}"
        garble(event["payload"])
        with pytest.raises(Refused) as refused:
            c.post("/events", event)
        assert (refused.value.status, field in refused.value.detail) == (422, True), (what, refused.value.detail)
    assert [e for e in c.get("/events", kind="fax_call")] == []
    assert c.get(f"/tickets/{t['id']}")["charges"] == []
    # The same record, whole, is billed: the decoder refuses only what is wrong.
    sound = call_record(t["id"], number="0085221234567", pages=[["MCF"], ["RTN", "MCF"]], duration="191.4",
                        status="completed")
    assert c.post("/events", sound)["ticket"] == t["id"]
    assert {line["rule"] for line in c.get(f"/tickets/{t['id']}")["charges"]} >= {"fax_out.destinations[+852]"}


def test_a_hand_entered_print_job_nobody_claims_is_decoded_before_it_is_stored(daemon: Daemon) -> None:
    """An unattributed job is never billed, so nothing read its payload: now the decoder does."""
    c = daemon.client()
    with pytest.raises(Refused) as refused:
        c.post("/events", {"kind": "print_job", "device": "desk-laser", "natural_key": "job/9",
                           "occurred_at": WEEKDAY, "payload": {"pages": "three", "media": "A4"}})
    assert refused.value.status == 422 and "payload.pages" in refused.value.detail
    assert c.get("/events", unattributed="true") == []


def test_a_new_rate_table_applies_after_sighup_and_old_jobs_keep_their_price(daemon: Daemon, tmp_path: Path) -> None:
    c = daemon.client()
    before = c.post("/quotes", {"service": "copy", "media": "A4", "sides": 10, "at": WEEKDAY})
    assert before["total"] == "5.00"
    prices = tmp_path / "rates.toml"
    prices.write_text((REPO / "config" / "rates.toml").read_text(encoding="utf-8") + """
[[rates.tables]]
version = "2026-11"
effective = 2026-11-20
based_on = "2025-07"

[rates.tables.copy]
[[rates.tables.copy.prices]]
media = "A4"
colour = "mono"
simplex = "0.60"
duplex = "0.50"
""", encoding="utf-8")
    text = daemon.config.read_text()
    daemon.config.write_text(text.replace(str(REPO / "config" / "rates.toml"), str(prices)))
    daemon.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while c.post("/quotes", {"service": "copy", "media": "A4", "sides": 10, "at": WEEKDAY})["total"] != "6.00":
        assert time.monotonic() < deadline, "the new rate table never applied"
        time.sleep(0.05)
    old_job = c.post("/quotes", {"service": "copy", "media": "A4", "sides": 10, "at": "2026-11-19T10:00:00+08:00"})
    assert old_job["total"] == "5.00" and old_job["rate_version"] == "2025-07"


def test_an_errand_and_typing_priced_onto_their_tickets_by_the_price_list(daemon: Daemon) -> None:
    c = daemon.client()
    errand = c.post("/tickets", {"kind": "errand", "guest_name": "张先生"})
    result = daemon.ctl("--json", "quote", "errand", "Courier to Pudong", "30.00", "--ticket", errand["id"],
                        "--at", WEEKDAY)
    assert result.returncode == 0, result.stderr
    t = json.loads(result.stdout)
    quoted = c.post("/quotes", {"service": "errand", "description": "Courier to Pudong", "fee": "30.00",
                                "at": WEEKDAY})
    assert t["total"] == quoted["total"] and Decimal(t["total"]) > Decimal("30.00")  # fee + service charge
    assert all(not line["manual"] and line["rate_version"] for line in t["charges"])

    typing = c.post("/tickets", {"kind": "print", "guest_name": "x", "params": {"service": "typing"}})
    t = c.post(f"/tickets/{typing['id']}/priced", {"service": "typing", "pages": 4, "at": WEEKDAY})
    assert t["total"] == "40.00"  # 4 pages x 10.00 typing
    with pytest.raises(Refused) as refused:
        c.post(f"/tickets/{typing['id']}/priced", {"service": "errand", "fee": "5"})
    assert refused.value.status == 422 and "needs description" in refused.value.detail
    assert c.get(f"/tickets/{typing['id']}")["total"] == "40.00"


def test_a_manual_line_is_rounded_by_the_price_lists_money_rule(tmp_path: Path, db_url: str) -> None:
    """A site that charges to the 角 (quantum 0.1) rounds a staff-typed line to 0.1 too, not 0.01."""
    from tests.conftest import write_config

    prices = tmp_path / "rates.toml"
    prices.write_text((REPO / "config" / "rates.toml").read_text(encoding="utf-8")
                      .replace('quantum = "0.01" ', 'quantum = "0.1"  '), encoding="utf-8")
    config = write_config(tmp_path, db_url)
    config.write_text(config.read_text().replace(str(REPO / "config" / "rates.toml"), str(prices)))
    daemon = Daemon(tmp_path, config).start()
    try:
        c = daemon.client()
        t = c.post("/tickets", {"kind": "other", "guest_name": "x"})
        t = c.post(f"/tickets/{t['id']}/charges", {"description": "binding", "quantity": "3", "unit_price": "0.35"})
        assert [line["amount"] for line in t["charges"]] == ["1.10"]  # 1.05 half up to the 角
    finally:
        daemon.stop()
