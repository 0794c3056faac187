"""Money rules without holes (issue 10, items 10-12): no overpayment that could never be
settled, no negative prices from any caller (a discount is its own staff-only line with a
reason, in the audit trail), and a bound on each line's amount and on the ticket's total."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from gatewayd.ctl import Refused
from tests.conftest import Daemon
from tests.core.test_api import state_of_the_world


def ticket(daemon: Daemon, *lines: tuple[str, str]) -> str:
    c = daemon.client()
    number = c.post("/tickets", {"kind": "errand", "guest_name": "Mr Zhao"})["id"]
    for quantity, price in lines:
        c.post(f"/tickets/{number}/charges", {"description": "fee", "quantity": quantity, "unit_price": price})
    return number


def refused(call, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused) as err:
        call()
    assert err.value.status == status and words in err.value.detail, err.value.detail


def test_an_overpayment_is_refused_and_the_ticket_still_settles(daemon: Daemon) -> None:
    c = daemon.client()
    number = ticket(daemon, ("1", "10.00"))
    before = state_of_the_world(c)
    refused(lambda: c.post(f"/tickets/{number}/payments", {"amount": "100.00", "method": "cash"}), 409,
            "100.00 is more than the 10.00 still due")
    assert state_of_the_world(c) == before
    c.post(f"/tickets/{number}/payments", {"amount": "10.00", "method": "cash"})
    refused(lambda: c.post(f"/tickets/{number}/payments", {"amount": "0.01", "method": "cash"}), 409,
            "0.01 is more than the 0.00 still due")
    for action in ("start", "finish", "complete"):
        c.post(f"/tickets/{number}/{action}", {})
    settled = c.post(f"/tickets/{number}/settle", {"method": "cash"})
    assert settled["state"] == "settled" and settled["paid"] == "10.00"


def test_negative_unit_prices_are_refused_from_any_caller(daemon: Daemon) -> None:
    c = daemon.client()
    number = ticket(daemon, ("1", "10.00"))
    before = state_of_the_world(c)
    refused(lambda: c.post(f"/tickets/{number}/charges", {"description": "zero it", "quantity": "1",
                                                          "unit_price": "-10.00"}),
            422, "unit_price must not be negative")
    assert state_of_the_world(c) == before


def test_a_discount_is_its_own_audited_line_with_a_reason(daemon: Daemon) -> None:
    c = daemon.client()
    number = ticket(daemon, ("1", "30.00"))
    t = c.post(f"/tickets/{number}/discounts", {"amount": "5.00", "reason": "regular customer"})
    line = t["charges"][-1]
    assert (line["amount"], line["rule"]) == ("-5.00", "discount") and "regular customer" in line["description"]
    assert t["total"] == "25.00"
    trail = c.get("/audit", entity="ticket", id=number)
    assert [e for e in trail if e["action"] == "charge.add" and "regular customer" in json.dumps(e, ensure_ascii=False)
            and "-5.00" in json.dumps(e)], trail
    c.post(f"/tickets/{number}/payments", {"amount": "20.00", "method": "cash"})
    refused(lambda: c.post(f"/tickets/{number}/discounts", {"amount": "10.00", "reason": "too much"}), 409,
            "below the 20.00 already paid")
    refused(lambda: c.post(f"/tickets/{number}/discounts", {"amount": "5.00"}), 422, "reason is required")


def test_a_stranger_can_give_no_discount_nor_refund(tmp_path, db_url) -> None:  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.skip("needs root to run the client as another user")
    from tests.core.test_api_hardening import public_daemon

    with public_daemon(tmp_path, db_url) as d:
        number = ticket(d, ("1", "30.00"))
        d.client().post(f"/tickets/{number}/payments", {"amount": "30.00", "method": "cash"})
        for command in (["discount", number, "5.00"], ["refund", number, "30.00"]):
            argv = ["runuser", "-u", "nobody", "--", str(d.ctl_path), "--socket", str(d.socket),
                    *command, "--reason", "friend of mine"]
            result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            assert result.returncode == 1 and "(403)" in result.stderr, result.stderr
        t = d.client().get(f"/tickets/{number}")
        assert (t["total"], t["paid"]) == ("30.00", "30.00")


@pytest.mark.parametrize(("lines", "words"), [
    ([("999999999999", "99999999999.99")], "past the bound of 1,000,000,000,000 per line"),
    ([("9999999", "99999.99"), ("9999999", "99999.99")], "past the bound of 1,000,000,000,000"),
])
def test_a_line_and_a_ticket_total_are_bounded(daemon: Daemon, lines: list[tuple[str, str]], words: str) -> None:
    c = daemon.client()
    number = ticket(daemon)
    *fine, last = lines
    for quantity, price in fine:
        c.post(f"/tickets/{number}/charges", {"description": "fee", "quantity": quantity, "unit_price": price})
    refused(lambda: c.post(f"/tickets/{number}/charges", {"description": "fee", "quantity": last[0],
                                                          "unit_price": last[1]}), 422, words)
    assert len(c.get(f"/tickets/{number}")["charges"]) == len(fine)


def test_a_refund_is_a_receipted_audited_negative_payment(daemon: Daemon) -> None:
    c = daemon.client()
    number = ticket(daemon, ("1", "30.00"))
    c.post(f"/tickets/{number}/payments", {"amount": "30.00", "method": "cash"})
    # The customer is given 10.00 off after paying: first the money back, then the discount.
    refused(lambda: c.post(f"/tickets/{number}/discounts", {"amount": "10.00", "reason": "late"}), 409,
            "below the 30.00 already paid")
    refused(lambda: c.post(f"/tickets/{number}/refunds", {"amount": "30.01", "reason": "late"}), 409,
            "more than the 30.00 paid")
    t = c.post(f"/tickets/{number}/refunds", {"amount": "10.00", "reason": "courier was late"})
    assert [p["amount"] for p in t["payments"]] == ["30.00", "-10.00"] and t["paid"] == "20.00"
    refund_receipt = next(r for r in t["receipts"] if r["kind"] == "refund")
    assert refund_receipt["number"].startswith("RF-") and refund_receipt["amount"] == "10.00"
    text = c.get(f"/receipts/{refund_receipt['number']}")["text"]
    assert "REFUND RECEIPT" in text and "-10.00" in text
    assert c.request_bytes("GET", f"/receipts/{refund_receipt['number']}/pdf").startswith(b"%PDF")
    trail = json.dumps(c.get("/audit", entity="ticket", id=number), ensure_ascii=False)
    assert "payment.refund" in trail and "courier was late" in trail
    c.post(f"/tickets/{number}/discounts", {"amount": "10.00", "reason": "courier was late"})
    for action in ("start", "finish", "complete"):
        c.post(f"/tickets/{number}/{action}", {})
    settled = c.post(f"/tickets/{number}/settle", {"method": "cash"})
    assert settled["state"] == "settled" and settled["total"] == "20.00" and settled["paid"] == "20.00"
    refused(lambda: c.post(f"/tickets/{number}/refunds", {"amount": "1.00", "reason": "again"}), 409,
            "is settled: its money is final")


def test_a_cancelled_errands_fees_can_be_given_back(daemon: Daemon) -> None:
    c = daemon.client()
    number = ticket(daemon, ("1", "30.00"))
    c.post(f"/tickets/{number}/payments", {"amount": "30.00", "method": "cash"})
    c.post(f"/tickets/{number}/cancel", {"reason": "guest called it off"})
    t = c.post(f"/tickets/{number}/refunds", {"amount": "30.00", "reason": "called off"})
    assert t["state"] == "cancelled" and t["paid"] == "0.00"
    assert [r["kind"] for r in t["receipts"]] == ["temporary", "refund"]
