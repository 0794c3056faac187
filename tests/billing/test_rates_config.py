"""The rates section: the example parses, and each broken section gets its exact message."""

from __future__ import annotations

import textwrap
import tomllib
from datetime import datetime

import pytest

from drivers import ConfigProblems
from gatewayd.billing import format_table, parse_rates, parse_site
from gatewayd.billing.config import parse_rates_section
from gatewayd.billing.money import Rounding
from gatewayd.textwidth import width

from .conftest import SITE

GOOD = """
[[tables]]
version = "v1"
effective = 2025-01-01
[tables.fax_out]
per_page = "1.00"
[[tables.fax_out.destinations]]
prefix = "+852"
per_minute = "8.00"
"""


def problems(toml: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigProblems) as err:
        parse_rates(tomllib.loads(textwrap.dedent(toml)))
    return err.value.problems


def test_example_config_parses(example) -> None:
    book = parse_rates_section(example["rates"], directory=None)  # type: ignore[arg-type]
    assert [t.version for t in book.tables] == ["2025-01", "2025-07"]
    assert book.tables[0].effective == datetime(2025, 1, 1)
    assert book.tables[0].money.rounding is Rounding.HALF_UP
    assert book.tables[1].copy == book.tables[0].copy  # based_on
    assert len(book.tables[0].fax_out.destinations) == 13


def test_example_site(example) -> None:
    site = parse_site(example["site"])
    assert site == SITE


BROKEN = [
    # (what is wrong, the section, [(key, reason)])
    ("float money", GOOD.replace('per_minute = "8.00"', "per_minute = 8.0"),
     [("tables[0].fax_out.destinations[0].per_minute", "must be a decimal string like '8.00', got 8.0 (float)")]),
    ("int money", GOOD.replace('per_page = "1.00"', "per_page = 1"),
     [("tables[0].fax_out.per_page", "must be a decimal string like '8.00', got 1 (int)")]),
    ("comma decimal", GOOD.replace('"8.00"', '"8,00"'),
     [("tables[0].fax_out.destinations[0].per_minute", "must be a decimal string like '8.00', got '8,00'")]),
    ("negative", GOOD.replace('"1.00"', '"-1.00"'),
     [("tables[0].fax_out.per_page", "must not be negative, got '-1.00'")]),
    ("missing rate", GOOD.replace('per_minute = "8.00"', ""),
     [("tables[0].fax_out.destinations[0].per_minute", "required: a decimal string like '8.00'")]),
    ("no tables", "rounding = 'up'\n", [("tables", "required: an array of tables")]),
    ("typo", GOOD.replace("per_page", "per_pgae"),
     [("tables[0].fax_out.per_pgae", ("unknown key; expected one of: connect_fee, destinations, "
       "error_pages, failed_call, first_increment_s, minimum, next_increment_s, per_page, "
       "time_bands, unanswered_fee"))]),
    ("no version", GOOD.replace('version = "v1"', ""),
     [("tables[0].version", "required: a string")]),
    ("quoted date", GOOD.replace("effective = 2025-01-01", 'effective = "2025-01-01"'),
     [("tables[0].effective", ("must be a local date like 2025-01-01 or local date-time like "
       "2025-01-01T08:00:00, got '2025-01-01'"))]),
    ("offset", GOOD.replace("effective = 2025-01-01", "effective = 2025-01-01T00:00:00+08:00"),
     [("tables[0].effective", "must be the site's local time without an offset, got 2025-01-01T00:00:00+08:00")]),
    ("same version twice", GOOD + GOOD.replace("2025-01-01", "2025-07-01"),
     [("tables[1].version", "same as tables[0].version (v1); each table needs its own")]),
    ("same date twice", GOOD + GOOD.replace("v1", "v2"),
     [("tables[1].effective", "same as tables[0].effective (2025-01-01 00:00:00); each table needs its own")]),
    ("two matchers", GOOD.replace('prefix = "+852"', 'prefix = "+852"\nregion = "HK"'),
     [("tables[0].fax_out.destinations[0]", "give exactly one of 'prefix', 'region', 'class'; got 'prefix', 'region'")]),
    ("no matcher", GOOD.replace('prefix = "+852"', ""),
     [("tables[0].fax_out.destinations[0]", "give exactly one of 'prefix', 'region', 'class'; got none")]),
    ("prefix without +", GOOD.replace('"+852"', '"852"'),
     [("tables[0].fax_out.destinations[0].prefix", ("must be '+' and a country calling code, then any "
       "digits, like '+852' or '+1264', got '852'"))]),
    ("unknown calling code", GOOD.replace('"+852"', '"+999"'),
     [("tables[0].fax_out.destinations[0].prefix", ("must be '+' and a country calling code, then any "
       "digits, like '+852' or '+1264', got '+999'"))]),
    ("unknown region", GOOD.replace('prefix = "+852"', 'region = "XX"'),
     [("tables[0].fax_out.destinations[0].region", "must be an ISO 3166 region code like 'CA', got 'XX'")]),
    ("bad class", GOOD.replace('prefix = "+852"', 'class = "abroad"'),
     [("tables[0].fax_out.destinations[0].class", "must be one of 'local', 'national', 'international', got 'abroad'")]),
    ("duplicate prefix", GOOD + '[[tables.fax_out.destinations]]\nprefix = "+852"\nper_minute = "6.00"\n',
     [("tables[0].fax_out.destinations[1].prefix", "same as destinations[0] ('+852')")]),
    ("zero increment", GOOD.replace('per_page = "1.00"', 'per_page = "1.00"\nnext_increment_s = 0'),
     [("tables[0].fax_out.next_increment_s", "must be a whole number >= 1 (seconds), got 0 (int)")]),
    ("bad policy", GOOD.replace('per_page = "1.00"', 'per_page = "1.00"\nerror_pages = "free"'),
     [("tables[0].fax_out.error_pages", "must be one of 'not_charged', 'charged', got 'free'")]),
    ("bad rounding", "rounding = 'bankers'\n" + GOOD,
     [("rounding", "must be one of 'half_up', 'half_even', 'half_down', 'up', 'down', 'ceiling', 'floor', got 'bankers'")]),
    ("quantum not a power of ten", "quantum = '0.05'\n" + GOOD,
     [("quantum", "must be a power of ten like '0.01' or '0.1', got '0.05'")]),
    ("quoted holiday", "holidays = ['2025-10-01']\n" + GOOD,
     [("holidays[0]", "must be a date like 2025-10-01 (unquoted), got '2025-10-01'")]),
    ("half a band", GOOD + '[[tables.fax_out.time_bands]]\nname = "night"\nfrom = "22:00"\nfactor = "0.6"\n',
     [("tables[0].fax_out.time_bands[0]", "give both 'from' and 'until', or neither for the whole day")]),
    ("bad band time", GOOD + '[[tables.fax_out.time_bands]]\nname = "night"\nfrom = "22h"\nuntil = "07:00"\nfactor = "0.6"\n',
     [("tables[0].fax_out.time_bands[0].from", "must be a local time like '22:00', got '22h'")]),
    ("bad band day", GOOD + '[[tables.fax_out.time_bands]]\nname = "sat"\ndays = ["saturday"]\nfactor = "0.6"\n',
     [("tables[0].fax_out.time_bands[0].days", "must be an array of 'weekday', 'weekend', 'holiday', got ['saturday'] (array)")]),
    ("two bands named alike", GOOD + '[[tables.fax_out.time_bands]]\nname = "night"\nfactor = "0.6"\n'
                             '[[tables.fax_out.time_bands]]\nname = "night"\nfactor = "0.5"\n',
     [("tables[0].fax_out.time_bands[1].name", "same as time_bands[0] ('night')")]),
    ("colour typo", GOOD + '[tables.copy]\n[[tables.copy.prices]]\nmedia = "A4"\ncolour = "color"\nsimplex = "0.50"\n',
     [("tables[0].copy.prices[0].colour", "must be one of 'mono', 'colour', got 'color'")]),
    ("duplicate media", GOOD + '[tables.copy]\n[[tables.copy.prices]]\nmedia = "A4"\ncolour = "mono"\nsimplex = "0.50"\n'
                        '[[tables.copy.prices]]\nmedia = "a4"\ncolour = "mono"\nsimplex = "0.40"\n',
     [("tables[0].copy.prices[1]", "same media and colour as prices[0] (a4 mono)")]),
    ("unknown base", GOOD + '[[tables]]\nversion = "v2"\neffective = 2025-07-01\nbased_on = "v0"\n',
     [("tables[1].based_on", "must name a table listed before this one ('v1'), got 'v0'")]),
    ("removing what the base lacks", GOOD + '[[tables]]\nversion = "v2"\neffective = 2025-07-01\nbased_on = "v1"\n'
                                      '[tables.fax_out]\nremove_destinations = ["+853"]\n',
     [("tables[1].fax_out.remove_destinations", "'+853' is not in the table this one is based on")]),
    ("section not a table", GOOD + "[tables.typing]\n" + "per_page = '1.00'\n" + "[[tables]]\nversion='v3'\neffective=2026-01-01\ntyping='cheap'\n",
     [("tables[1].typing", "must be a table, got 'cheap'")]),
]


@pytest.mark.parametrize("toml, expected", [(t, e) for _, t, e in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_broken_section_names_key_and_reason(toml: str, expected: list[tuple[str, str]]) -> None:
    assert problems(toml) == expected


def test_every_problem_is_reported_at_once() -> None:
    toml = GOOD.replace('"8.00"', "8.0").replace('"1.00"', "1.0").replace('version = "v1"', "")
    assert [key for key, _ in problems(toml)] == [
        "tables[0].version", "tables[0].fax_out.destinations[0].per_minute", "tables[0].fax_out.per_page"]


def test_dial_plan_problems_are_keyed_within_site() -> None:
    with pytest.raises(ConfigProblems) as err:
        parse_site({"name": "x", "dial_plan": {"area_code": "021a", "international_prefix": "", "oops": 1}})
    assert err.value.problems == [
        ("dial_plan.area_code", "must be a string of digits (or ''), got '021a'"),
        ("dial_plan.international_prefix", "must be a string of digits like '00', got ''"),
        ("dial_plan.oops", ("unknown key; expected one of: area_code, international_prefix, "
         "outside_line, trunk_prefix")),
    ]


def test_format_table_shows_the_table_in_force(book, site) -> None:
    text = format_table(book.tables[1], site)
    assert text.splitlines()[0] == "Rate table 2025-07, in force from 2025-07-01 00:00 Asia/Shanghai"
    assert "  Hong Kong 香港            prefix +852             6.00     60/60 s     0.00" in text
    assert "Typing: 10.00 per page" in text  # inherited from 2025-01
    rows = [line for line in text.splitlines() if "prefix +" in line or "class " in line]
    assert len({width(line) for line in rows}) == 1  # CJK names do not push columns out


def test_example_2025_07_still_prices_the_usa_and_the_night_band(book, site) -> None:
    """based_on inherits row by row: the 2025-07 table repeats Hong Kong & co. and keeps 2025-01's
    USA, Canada, Anguilla... rows and its night/holiday bands (they used to vanish with it)."""
    from gatewayd.billing import resolve

    table = book.tables[1]
    names = {d.name for d in table.fax_out.destinations}
    assert {"USA 美国", "Canada 加拿大", "Anguilla 安圭拉", "Japan 日本", "Hong Kong 香港"} <= names
    assert {b.name for b in table.fax_out.time_bands} == {b.name for b in book.tables[0].fax_out.time_bands}
    assert table.fax_out.rate_for(resolve(site, "9,001 212 555 0100"), table.version).name == "USA 美国"
    assert book.warnings == ()


def test_a_row_replaced_or_removed_explicitly_and_the_rest_inherited() -> None:
    book = parse_rates(tomllib.loads(GOOD + textwrap.dedent("""
        [[tables.fax_out.destinations]]
        prefix = "+853"
        per_minute = "7.00"
        [[tables]]
        version = "v2"
        effective = 2025-07-01
        based_on = "v1"
        [tables.fax_out]
        remove_destinations = ["+853"]
        [[tables.fax_out.destinations]]
        prefix = "+852"
        per_minute = "5.00"
        """)))
    v2 = book.tables[1].fax_out
    assert [(d.match, d.per_minute) for d in v2.destinations] == [("+852", 5)]
    assert v2.per_page == 1 and book.warnings == ()


def test_a_destination_dropped_by_omission_is_warned_about() -> None:
    book = parse_rates(tomllib.loads(GOOD + textwrap.dedent("""
        [[tables.fax_out.destinations]]
        prefix = "+853"
        per_minute = "7.00"
        [[tables]]
        version = "v2"
        effective = 2025-07-01
        [tables.fax_out]
        [[tables.fax_out.destinations]]
        prefix = "+852"
        per_minute = "5.00"
        """)))
    [warning] = book.warnings
    assert "table v2 has no fax_out destination '+853' (+853) that v1 priced: by omission" in warning
