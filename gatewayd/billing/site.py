"""The site: where the business centre is, and how its phone line dials out.

Built by ``parse_site`` from the config's ``[site]`` table (gatewayd's loader checks ``name``,
``country``, ``timezone`` and ``currency``; ``dial_plan`` is billing's)::

    [site]
    country = "CN"               # ISO 3166 region of the site's phone line
    timezone = "Asia/Shanghai"   # IANA zone: time bands and effective dates are local time
    currency = "CNY"             # ISO 4217 code printed on charges and receipts

    [site.dial_plan]
    area_code = "21"             # the site's own area code, without the trunk prefix
    outside_line = "9"           # digit(s) a PBX needs for an outside line; "" on a direct line
    international_prefix = "00"  # what precedes a country code ("011" in NANP)
    trunk_prefix = "0"           # what precedes an area code in national calls ("1" in NANP)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from drivers import ConfigProblems

from ._config import Reader


@dataclass(frozen=True, slots=True)
class DialPlan:
    """How staff dial from the site's line. Defaults: a Chinese line with no PBX."""

    area_code: str = ""  #: "21" for Shanghai; "" where a country has no area codes
    outside_line: str = ""
    international_prefix: str = "00"
    trunk_prefix: str = "0"


@dataclass(frozen=True, slots=True)
class Site:
    country: str = "CN"  #: ISO 3166 region
    timezone: str = "Asia/Shanghai"  #: IANA name
    currency: str = "CNY"  #: ISO 4217
    dial_plan: DialPlan = DialPlan()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances, so this is cheap

    @property
    def calling_code(self) -> int:
        return phonenumbers.country_code_for_region(self.country)


def parse_site(section: dict[str, Any]) -> Site:
    """A ``Site`` from the config's ``[site]`` table; raises ``ConfigProblems`` with keys
    relative to ``site`` (``dial_plan.area_code``).

    Only ``dial_plan`` is checked here key by key: the other keys are the loader's to check
    (and ``[site]`` holds the lead's own keys, such as ``name``).
    """
    problems: list[tuple[str, str]] = []
    site = Reader(section, "", problems, strict=False)
    plan = DialPlan()
    r = site.table("dial_plan")
    if r is not None:
        plan = DialPlan(
            area_code=r.digits("area_code", default=""),
            outside_line=r.digits("outside_line", default=""),
            international_prefix=r.digits("international_prefix", default="00", nonempty=True),
            trunk_prefix=r.digits("trunk_prefix", default="0"),
        )
        r.done()
    if problems:
        raise ConfigProblems(problems)
    return Site(
        country=section.get("country", "CN"),
        timezone=section.get("timezone", "Asia/Shanghai"),
        currency=section.get("currency", "CNY"),
        dial_plan=plan,
    )
