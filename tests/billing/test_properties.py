"""Properties over random calls and jobs: charges never negative, monotonic, totals add up."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from gatewayd.billing import (
    Colour,
    FaxCallUsage,
    PageOutcome,
    PageResult,
    PrintUsage,
    Service,
    parse_rates,
    rate,
)

from .conftest import EXAMPLE, SITE, fax_book, local

EXAMPLE_BOOK = parse_rates(tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["rates"])

BOOKS = [
    fax_book(),
    fax_book(first=30, next=6, minimum="3.00", connect_fee="1.00", error_pages="charged"),
    fax_book(first=1, next=1, per_page="0.35", failed_call="time",
             extra='[[tables.fax_out.time_bands]]\nname = "night"\nfrom = "22:00"\n'
                   'until = "07:00"\nfactor = "0.55"\n', top='rounding = "half_even"\n'),
]
START = local(2025, 1, 1, 0, 0)

books = st.sampled_from(BOOKS)
dialed = st.sampled_from(["0085221234567", "6123 4567", "9,61234567"])
moments = st.integers(0, 365 * 24 * 3600).map(lambda s: START + timedelta(seconds=s))
pages = st.lists(st.tuples(st.integers(1, 20), st.sampled_from(list(PageResult))), max_size=30)


def fax(dial: str, at, duration: int, outcomes, completed: bool = True) -> FaxCallUsage:
    return FaxCallUsage(dial, at, at, duration, tuple(PageOutcome(n, r) for n, r in outcomes), completed)


@settings(max_examples=300, deadline=None)
@given(books, dialed, moments, st.integers(0, 7200), pages, st.booleans())
def test_fax_charges_never_negative_and_total_is_the_sum(book, dial, at, duration, outcomes, done) -> None:
    rating = rate(book, SITE, fax(dial, at, duration, outcomes, done))
    assert all(line.amount >= 0 for line in rating.lines)
    assert rating.total == sum((line.amount for line in rating.lines), Decimal(0))
    for line in rating.lines:  # every priced line is its quantity times its price, rounded once
        if line.unit and line.unit != "min":
            assert line.amount == rating.money.round(line.quantity * line.unit_price)


@settings(max_examples=300, deadline=None)
@given(books, dialed, moments, st.integers(0, 7200), st.integers(0, 600), st.integers(0, 30))
def test_fax_charge_never_decreases_with_duration_or_pages(book, dial, at, duration, more_s, more_pages) -> None:
    few = [(n, PageResult.CONFIRMED) for n in range(1, 3)]
    many = [(n, PageResult.CONFIRMED) for n in range(1, 3 + more_pages)]
    base = rate(book, SITE, fax(dial, at, duration, few)).total
    assert rate(book, SITE, fax(dial, at, duration + more_s, few)).total >= base
    assert rate(book, SITE, fax(dial, at, duration, many)).total >= base


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["A4", "A3"]), st.booleans(), st.integers(0, 500), st.integers(1, 20),
       st.integers(0, 50), st.integers(0, 5))
def test_copy_charge_grows_with_sides_and_sets(media, duplex, sides, sets, more_sides, more_sets) -> None:
    at = local(2025, 3, 5, 10, 0)

    def total(s: int, n: int) -> Decimal:
        usage = PrintUsage(Service.COPY, media, Colour.MONO, duplex, s, at, sets=n)
        return rate(EXAMPLE_BOOK, SITE, usage).total

    base = total(sides, sets)
    assert base >= 0
    assert total(sides + more_sides, sets) >= base and total(sides, sets + more_sets) >= base
