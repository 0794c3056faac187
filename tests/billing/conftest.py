"""Fixtures for billing: the Shanghai site and the example price list, plus tiny tables."""

from __future__ import annotations

import textwrap
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gatewayd.billing import DialPlan, RateBook, Site, parse_rates, parse_site

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "rates.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")

SITE = Site(country="CN", timezone="Asia/Shanghai", currency="CNY",
            dial_plan=DialPlan(area_code="21", outside_line="9"))


def local(*args: int) -> datetime:
    """An aware UTC time given as Shanghai wall-clock time (how staff read the clock)."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def book_from(toml: str) -> RateBook:
    """A RateBook from the body of a ``[rates]`` section written in TOML."""
    return parse_rates(tomllib.loads(textwrap.dedent(toml)))


# One fax-out table with round numbers, for tests that vary one key at a time via ``fax_book``.
FAX_TABLE = """
[[tables]]
version = "t1"
effective = 2025-01-01
[tables.fax_out]
first_increment_s = {first}
next_increment_s = {next}
minimum = "{minimum}"
connect_fee = "{connect_fee}"
per_page = "{per_page}"
error_pages = "{error_pages}"
failed_call = "{failed_call}"
{extra}
[[tables.fax_out.destinations]]
prefix = "+852"
name = "Hong Kong"
per_minute = "8.00"
[[tables.fax_out.destinations]]
class = "local"
name = "Local"
per_minute = "0.50"
"""


def fax_book(*, first: int = 60, next: int = 60, minimum: str = "0.00",
             connect_fee: str = "0.00", per_page: str = "2.00", error_pages: str = "not_charged",
             failed_call: str = "free", extra: str = "", top: str = "") -> RateBook:
    return book_from(top + FAX_TABLE.format(
        first=first, next=next, minimum=minimum, connect_fee=connect_fee, per_page=per_page,
        error_pages=error_pages, failed_call=failed_call, extra=extra))


@pytest.fixture(scope="session")
def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def site(example: dict) -> Site:
    return parse_site(example["site"])


@pytest.fixture(scope="session")
def book(example: dict) -> RateBook:
    return parse_rates(example["rates"])
