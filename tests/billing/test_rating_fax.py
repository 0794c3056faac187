"""Fax-out rating: increments, minimums, fees, pages, ErrorPages, failures, time bands, tables."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from gatewayd.billing import (
    FaxCallUsage,
    NoRateForDestination,
    NoRateTableInForce,
    NotPriced,
    PageOutcome,
    PageResult,
    quote_fax,
    rate,
)
from gatewayd.billing.fax_out import billed_seconds

from .conftest import SITE, book_from, fax_book, local

OK, ERR, LOST = PageResult.CONFIRMED, PageResult.ERROR_PAGE, PageResult.UNCONFIRMED
WEDNESDAY_NOON = local(2025, 3, 5, 12, 0)
HK = "9,0085221234567"


def call(duration: int, *pages: tuple[int, PageResult], dialed: str = HK, at=WEDNESDAY_NOON,
         completed: bool = True, connected: bool = True, reason: str = "") -> FaxCallUsage:
    return FaxCallUsage(dialed, at, at if connected else None, duration,
                        tuple(PageOutcome(n, r) for n, r in pages), completed, reason)


def amounts(rating) -> list[str]:
    return [str(line.amount) for line in rating.lines]


def test_the_issue_example_explains_every_amount() -> None:
    rating = rate(fax_book(), SITE, call(192, (1, OK), (2, ERR), (2, OK), (3, OK)))
    assert rating.explain() == ("+852 Hong Kong, 3 min 12 s → 4 × 60 s at 8.00/min = 32.00; "
                                "3 pages × 2.00 = 6.00; page 2 resent (ErrorPage), not charged")
    assert rating.total == Decimal("38.00") == sum(line.amount for line in rating.lines)
    time_line = rating.lines[0]
    assert (time_line.quantity, time_line.unit, time_line.unit_price) == (4, "min", Decimal("8.00"))
    assert time_line.rule == "fax_out.destinations[+852]" and time_line.rate_version == "t1"
    assert time_line.inputs["billed_s"] == 240 and time_line.inputs["region"] == "HK"
    json.dumps(rating.to_json())  # everything a ticket stores is plain JSON


@pytest.mark.parametrize("duration, billed, amount", [
    (0, 0, "0.00"), (1, 60, "8.00"), (59, 60, "8.00"), (60, 60, "8.00"), (61, 120, "16.00"),
    (119, 120, "16.00"), (120, 120, "16.00"), (121, 180, "24.00"),
])
def test_increments_60_60(duration: int, billed: int, amount: str) -> None:
    line = rate(fax_book(per_page="0"), SITE, call(duration)).lines[0]
    assert line.inputs["billed_s"] == billed and str(line.amount) == amount


@pytest.mark.parametrize("duration, billed, amount, blocks", [
    (29, 30, "4.00", "30 s"), (30, 30, "4.00", "30 s"), (31, 36, "4.80", "30 s + 1 × 6 s"),
    (59, 60, "8.00", "30 s + 5 × 6 s"), (60, 60, "8.00", "30 s + 5 × 6 s"),
    (61, 66, "8.80", "30 s + 6 × 6 s"),
])
def test_increments_30_6(duration: int, billed: int, amount: str, blocks: str) -> None:
    line = rate(fax_book(first=30, next=6, per_page="0"), SITE, call(duration)).lines[0]
    assert line.inputs["billed_s"] == billed and str(line.amount) == amount
    assert f"→ {blocks} at 8.00/min = {amount}" in line.description


def test_billed_seconds_with_one_second_blocks_keeps_the_amount_exact() -> None:
    assert billed_seconds(61, 1, 1) == 61
    line = rate(fax_book(first=1, next=1, per_page="0"), SITE, call(61)).lines[0]
    assert line.amount == Decimal("8.13")  # 8.00 x 61/60 = 8.1333...
    assert line.quantity == Decimal("1.0167")  # printed quantity, rounded for display only


def test_minimum_charge_tops_up_the_time() -> None:
    rating = rate(fax_book(minimum="5.00", per_page="0"), SITE, call(30, dialed="61234567"))
    assert amounts(rating) == ["0.50", "4.50"]
    assert rating.lines[1].description == "below the minimum charge 5.00: +4.50"
    assert rating.lines[1].rule == "fax_out.destinations[local].minimum"
    assert rating.total == Decimal("5.00")
    at_minimum = rate(fax_book(minimum="8.00", per_page="0"), SITE, call(60))
    assert amounts(at_minimum) == ["8.00"]


def test_connect_fee_and_per_page() -> None:
    rating = rate(fax_book(connect_fee="3.00"), SITE, call(60, (1, OK), (2, OK)))
    assert amounts(rating) == ["8.00", "3.00", "4.00"]
    assert [line.rule for line in rating.lines] == [
        "fax_out.destinations[+852]", "fax_out.connect_fee", "fax_out.per_page"]


def test_error_pages_charged_when_the_policy_says_so() -> None:
    rating = rate(fax_book(error_pages="charged"), SITE,
                  call(192, (1, OK), (2, ERR), (2, ERR), (2, OK), (3, OK)))
    assert rating.lines[-1].description == (
        "page 2 (2 times) resent (ErrorPage), charged: 2 × 2.00 = 4.00")
    assert rating.total == Decimal("32.00") + Decimal("6.00") + Decimal("4.00")


def test_a_page_rejected_at_the_end_of_the_call_is_not_called_resent() -> None:
    """RTN on the last page and the far end hung up: the page goes again on the next call, so
    this call's line must not say it was resent."""
    rating = rate(fax_book(), SITE, call(100, (1, OK), (2, ERR), completed=False))
    assert [line.description for line in rating.lines][1:] == [
        "1 page × 2.00 = 2.00", "page 2 rejected, not resent in this call (ErrorPage), not charged"]
    rating = rate(fax_book(), SITE, call(100, (1, ERR), (1, OK), (2, ERR), completed=False))
    assert rating.lines[-1].description == (
        "page 1 resent; page 2 rejected, not resent in this call (ErrorPage), not charged")


def test_pages_never_confirmed_are_not_charged() -> None:
    rating = rate(fax_book(), SITE, call(100, (1, OK), (2, LOST), completed=False, reason="carrier lost"))
    assert amounts(rating) == ["16.00", "2.00", "0.00"]
    assert rating.lines[-1].description == "page 2 not confirmed (line dropped), not charged"


@pytest.mark.parametrize("policy, expected, total", [
    ("free", ["0.00"], "0.00"),
    ("connect_fee", ["0.00", "3.00"], "3.00"),
    ("time", ["0.00", "16.00", "3.00"], "19.00"),
])
def test_failed_call_policy(policy: str, expected: list[str], total: str) -> None:
    failed = call(70, (1, ERR), (1, LOST), completed=False, reason="T.30 T5 timeout")
    rating = rate(fax_book(failed_call=policy, connect_fee="3.00"), SITE, failed)
    assert amounts(rating) == expected and str(rating.total) == total
    assert rating.lines[0].description.startswith(
        "+852 Hong Kong, failed before any page was confirmed (T.30 T5 timeout): ")
    assert all(line.rule != "fax_out.per_page" for line in rating.lines)


def test_busy_attempt_is_free_unless_a_flat_fee_is_set() -> None:
    busy = call(0, connected=False, reason="busy")
    free = rate(fax_book(), SITE, busy)
    assert free.total == 0 and free.explain() == "+852 Hong Kong, busy: not charged"
    charged = rate(fax_book(extra='unanswered_fee = "1.00"'), SITE, busy)
    assert charged.total == Decimal("1.00")
    assert charged.explain() == "+852 Hong Kong, busy: attempt fee 1.00"


BANDS = """
[[tables.fax_out.time_bands]]
name = "holiday"
days = ["holiday"]
factor = "0.50"
[[tables.fax_out.time_bands]]
name = "night"
from = "22:00"
until = "07:00"
factor = "0.60"
[[tables.fax_out.time_bands]]
name = "weekend"
days = ["weekend"]
factor = "0.80"
"""
CALENDAR = "holidays = [2025-10-01]\nworking_days = [2025-09-28]\n"


@pytest.mark.parametrize("when, band, amount", [
    (local(2025, 3, 5, 12, 0), None, "8.00"),       # Wednesday noon
    (local(2025, 3, 5, 21, 59), None, "8.00"),      # day rate: the band is by start time
    (local(2025, 3, 5, 22, 0), "night", "4.80"),
    (local(2025, 3, 6, 6, 59), "night", "4.80"),
    (local(2025, 3, 6, 7, 0), None, "8.00"),
    (local(2025, 3, 8, 12, 0), "weekend", "6.40"),  # Saturday
    (local(2025, 3, 8, 23, 0), "night", "4.80"),    # Saturday night: night is listed first
    (local(2025, 10, 1, 23, 0), "holiday", "4.00"),  # National Day: holiday beats night
    (local(2025, 9, 28, 12, 0), None, "8.00"),      # a Sunday worked in exchange (调休)
])
def test_time_bands_by_local_start_time(when, band: str | None, amount: str) -> None:
    book = fax_book(extra=BANDS, top=CALENDAR, per_page="0")
    line = rate(book, SITE, call(60, at=when)).lines[0]
    assert line.inputs["band"] == band and str(line.amount) == amount
    if band:
        assert f"({band} rate: 8.00 × " in line.description


TWO_TABLES = """
[[tables]]
version = "old"
effective = 2025-01-01
[tables.fax_out]
[[tables.fax_out.destinations]]
class = "international"
per_minute = "8.00"
[[tables]]
version = "new"
effective = 2025-07-01
[tables.fax_out]
[[tables.fax_out.destinations]]
class = "international"
per_minute = "6.00"
"""


@pytest.mark.parametrize("when, version, amount", [
    (local(2025, 6, 30, 23, 59, 59), "old", "8.00"),
    (local(2025, 7, 1, 0, 0, 0), "new", "6.00"),  # local midnight: 2025-06-30 16:00 UTC
])
def test_effective_date_switches_at_local_midnight(when, version: str, amount: str) -> None:
    rating = rate(book_from(TWO_TABLES), SITE, call(60, at=when))
    assert rating.rate_version == version and str(rating.total) == amount


def test_no_table_before_the_first_takes_effect() -> None:
    with pytest.raises(NoRateTableInForce):
        rate(book_from(TWO_TABLES), SITE, call(60, at=local(2024, 12, 31, 23, 59)))


@pytest.mark.parametrize("rounding, quantum, price, amount", [
    ("half_up", "0.01", "0.345", "0.35"),
    ("half_even", "0.01", "0.345", "0.34"),
    ("half_down", "0.01", "0.345", "0.34"),
    ("up", "0.01", "0.341", "0.35"),
    ("down", "0.01", "0.349", "0.34"),
    ("ceiling", "0.01", "0.341", "0.35"),
    ("floor", "0.01", "0.349", "0.34"),
    ("half_up", "0.1", "0.35", "0.4"),  # rounded to 角
])
def test_rounding_modes(rounding: str, quantum: str, price: str, amount: str) -> None:
    book = book_from(f"""
        rounding = "{rounding}"
        quantum = "{quantum}"
        [[tables]]
        version = "r"
        effective = 2025-01-01
        [tables.fax_out]
        [[tables.fax_out.destinations]]
        class = "international"
        per_minute = "{price}"
    """)
    assert str(rate(book, SITE, call(60)).total) == amount


DESTINATIONS = """
[[tables]]
version = "d"
effective = 2025-01-01
[tables.fax_out]
[[tables.fax_out.destinations]]
prefix = "+1"
per_minute = "12.00"
[[tables.fax_out.destinations]]
prefix = "+1264"
per_minute = "20.00"
[[tables.fax_out.destinations]]
region = "CA"
per_minute = "11.00"
[[tables.fax_out.destinations]]
class = "national"
per_minute = "1.50"
[[tables.fax_out.destinations]]
prefix = "+44"
per_minute = "15.00"
"""


@pytest.mark.parametrize("dialed, rule", [
    ("001 212 555 1234", "fax_out.destinations[+1]"),
    ("001 264 235 1234", "fax_out.destinations[+1264]"),  # longest prefix beats +1
    ("001 416 555 0123", "fax_out.destinations[CA]"),     # NANP split by region
    ("0044 20 7946 0000", "fax_out.destinations[+44]"),
    ("010 1234 5678", "fax_out.destinations[national]"),
    ("61234567", "fax_out.destinations[national]"),       # no local entry: national prices it
])
def test_destination_entry_chosen(dialed: str, rule: str) -> None:
    assert rate(book_from(DESTINATIONS), SITE, call(60, dialed=dialed)).lines[0].rule == rule


def test_a_number_no_entry_covers_is_not_rated() -> None:
    with pytest.raises(NoRateForDestination, match=r"\+81312345678"):
        rate(book_from(DESTINATIONS), SITE, call(60, dialed="0081 3 1234 5678"))


def test_a_table_without_fax_out_does_not_price_faxes() -> None:
    book = book_from('[[tables]]\nversion = "x"\neffective = 2025-01-01\n[tables.typing]\nper_page = "1.00"\n')
    with pytest.raises(NotPriced, match="outgoing faxes"):
        rate(book, SITE, call(60))


def test_quote_is_the_price_of_the_planned_call(book, site) -> None:
    quote = quote_fax(book, site, "0085221234567", 3, 2, WEDNESDAY_NOON)
    sent = rate(book, site, call(180, (1, OK), (2, OK), dialed="0085221234567"))
    assert quote.lines == sent.lines
    assert quote.explain() == ("+852 Hong Kong 香港, 3 min → 3 × 60 s at 8.00/min = 24.00; "
                               "connect fee 2.00; 2 pages × 1.00 = 2.00")
    assert quote_fax(book, site, "0085221234567", Decimal("2.5"), 1, WEDNESDAY_NOON).lines[0].inputs[
        "duration_s"] == 150
