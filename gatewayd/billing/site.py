"""The site: where the business centre is, and how its phone line dials out.

Filled by gatewayd's config loader from ``[site]`` and ``[site.dial_plan]`` (``parse_site``)::

    [site]
    country = "CN"               # ISO 3166 region of the site's phone line
    time_zone = "Asia/Shanghai"  # IANA zone: time bands and effective dates are local time
    currency = "CNY"             # ISO 4217 code printed on charges and receipts
    area_code = "21"             # the site's own area code, without the trunk prefix

    [site.dial_plan]
    outside_line = "9"           # digit(s) a PBX needs for an outside line; "" on a direct line
    international_prefix = "00"  # what precedes a country code ("011" in NANP)
    trunk_prefix = "0"           # what precedes an area code in national calls ("1" in NANP)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from drivers import ConfigProblems

from ._config import Reader


@dataclass(frozen=True, slots=True)
class DialPlan:
    """How staff dial from the site's line. Defaults are a Chinese PBX with 9 for outside."""

    outside_line: str = ""
    international_prefix: str = "00"
    trunk_prefix: str = "0"


@dataclass(frozen=True, slots=True)
class Site:
    country: str  #: ISO 3166 region, "CN"
    time_zone: str  #: IANA name, "Asia/Shanghai"
    currency: str  #: ISO 4217, "CNY"
    area_code: str  #: "21" for Shanghai, without the trunk prefix
    dial_plan: DialPlan = DialPlan()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # ZoneInfo caches instances, so this is cheap

    @property
    def calling_code(self) -> int:
        return phonenumbers.country_code_for_region(self.country)


_DIGITS = re.compile(r"\d*")


def parse_site(section: dict[str, Any]) -> Site:
    """Build a ``Site`` from the config's ``[site]`` table; raises ``ConfigProblems``.

    Keys it does not know are left alone: ``[site]`` also holds the lead's keys (name, address).
    """
    problems: list[tuple[str, str]] = []
    r = Reader(section, "", problems, strict=False)
    country = r.text("country", default="CN")
    if country is not None and phonenumbers.country_code_for_region(country) == 0:
        r.problem("country", f"must be an ISO 3166 region code like 'CN', got {country!r}")
    time_zone = r.text("time_zone", default="Asia/Shanghai")
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            r.problem("time_zone", f"must be an IANA time zone like 'Asia/Shanghai', got {time_zone!r}")
    currency = r.text("currency", default="CNY")
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        r.problem("currency", f"must be an ISO 4217 code like 'CNY', got {currency!r}")
    area_code = r.text("area_code")
    plan = DialPlan()
    dp = r.table("dial_plan")
    if dp is not None:
        plan = DialPlan(
            outside_line=dp.digits("outside_line", default=""),
            international_prefix=dp.digits("international_prefix", default="00", nonempty=True),
            trunk_prefix=dp.digits("trunk_prefix", default="0"),
        )
        dp.done()
    if area_code is not None and not _DIGITS.fullmatch(area_code):
        r.problem("area_code", f"must be digits without the trunk prefix, like '21', got {area_code!r}")
    if problems:
        raise ConfigProblems(problems)
    assert country and time_zone and currency and area_code is not None
    return Site(country, time_zone, currency, area_code, plan)
