"""Fax-in, print, copy, typing, errands and manual lines, priced by the example price list."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from gatewayd.billing import (
    Colour,
    ErrandUsage,
    FaxInUsage,
    InvalidUsage,
    ManualLine,
    NotPriced,
    PrintUsage,
    Service,
    TypingUsage,
    rate,
)

from .conftest import local

MARCH = local(2025, 3, 5, 10, 0)
AUGUST = local(2025, 8, 5, 10, 0)  # table 2025-07, which inherits these services (based_on)


def test_fax_in_per_page(book, site) -> None:
    rating = rate(book, site, FaxInUsage(pages=3, at=MARCH))
    assert rating.explain() == "fax received, 3 pages × 2.00 = 6.00"
    assert rating.lines[0].rule == "fax_in.per_page" and rating.rate_version == "2025-01"


@pytest.mark.parametrize("usage, explained, total", [
    (PrintUsage(Service.PRINT, "A4", Colour.MONO, False, 10, MARCH),
     "print A4 mono simplex, 10 sides × 1.00 = 10.00", "10.00"),
    (PrintUsage(Service.PRINT, "a4", Colour.MONO, True, 10, MARCH, sets=2),
     "print A4 mono duplex, 10 sides × 2 sets = 20 sides × 0.80 = 16.00", "16.00"),
    (PrintUsage(Service.PRINT, "A4", Colour.COLOUR, True, 4, MARCH),
     "print A4 colour duplex, 4 sides × 5.00 = 20.00", "20.00"),  # duplex defaults to simplex
    (PrintUsage(Service.COPY, "A3", Colour.MONO, False, 5, MARCH, sets=3, scale_percent=141),
     ("copy A3 mono simplex, 5 sides × 3 sets = 15 sides × 1.00 = 15.00; "
     "scaled to 141 %, 15 sides × 0.20 = 3.00"), "18.00"),
    (PrintUsage(Service.COPY, "B5", Colour.MONO, False, 1, MARCH),
     "copy B5 mono simplex, 1 side × 0.50 = 0.50", "0.50"),
])
def test_print_and_copy_per_side(book, site, usage: PrintUsage, explained: str, total: str) -> None:
    rating = rate(book, site, usage)
    assert rating.explain() == explained and str(rating.total) == total


def test_copy_rule_names_the_price_row(book, site) -> None:
    line = rate(book, site, PrintUsage(Service.COPY, "Letter", Colour.MONO, True, 2, MARCH)).lines[0]
    assert line.rule == "copy.prices[Letter mono].duplex" and line.unit == "side"
    assert line.inputs == {"media": "Letter", "colour": "mono", "duplex": True, "sides": 2,
                           "sets": 1, "scale_percent": 100}


def test_media_missing_from_the_table_is_not_priced(book, site) -> None:
    with pytest.raises(NotPriced, match="copy A3 colour"):
        rate(book, site, PrintUsage(Service.COPY, "A3", Colour.COLOUR, False, 1, MARCH))


def test_later_table_inherits_the_services_it_does_not_list(book, site) -> None:
    rating = rate(book, site, TypingUsage(pages=5, at=AUGUST))
    assert rating.rate_version == "2025-07"
    assert rating.explain() == "typing, 5 pages × 10.00 = 50.00"


def test_errand_with_the_table_service_charge(book, site) -> None:
    rating = rate(book, site, ErrandUsage("courier to Pudong airport", Decimal("120.00"), MARCH))
    assert rating.explain() == ("errand: courier to Pudong airport, quoted fee 120.00; "
                                "service charge, 10.00 + 5 % of 120.00 = 16.00")
    assert rating.total == Decimal("136.00")


def test_errand_with_an_agreed_service_charge(book, site) -> None:
    usage = ErrandUsage("visa photos", Decimal("35.00"), MARCH, service_charge=Decimal("5.00"))
    rating = rate(book, site, usage)
    assert [line.rule for line in rating.lines] == ["errand.fee", "errand.service_charge.agreed"]
    assert rating.total == Decimal("40.00")


def test_manual_line_is_marked_and_never_negative(book, site) -> None:
    rating = rate(book, site, ManualLine(Service.COPY, "binding", Decimal(1), "once", Decimal("3.00"), MARCH))
    line = rating.lines[0]
    assert line.manual and line.rule == "manual" and line.rate_version is None
    assert line.amount == Decimal("3.00")
    # A discount is a line of its own, staff-only with a reason (tickets.add_discount), never a
    # negative price any caller may type (issue 10, item 11).
    with pytest.raises(InvalidUsage, match="unit_price must not be negative, got -3.00"):
        ManualLine(Service.COPY, "loyal tenant discount", Decimal(1), "once", Decimal("-3.00"), MARCH)


@pytest.mark.parametrize("make", [
    lambda: FaxInUsage(pages=1, at=datetime(2025, 3, 5, 10, 0)),  # naive time
    lambda: FaxInUsage(pages=-1, at=MARCH),
    lambda: PrintUsage(Service.TYPING, "A4", Colour.MONO, False, 1, MARCH),
    lambda: PrintUsage(Service.COPY, "A4", Colour.MONO, False, 1, MARCH, sets=-2),
    lambda: ErrandUsage("x", Decimal(-1), MARCH),
])
def test_inconsistent_usage_is_refused(make) -> None:
    with pytest.raises(InvalidUsage):
        make()
