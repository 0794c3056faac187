"""zh-CN and English: the gettext catalogs (Babel's .po files, compiled in memory at start) and the
language-aware formatting of money, numbers and times.

The catalogs are the .po files under ``locale/`` — extracted from the templates and code with
``pybabel extract -F gatewayd/console/babel.cfg`` and kept in the repository; reading them here
with Babel means no build step can be forgotten before the daemon starts.
"""

from __future__ import annotations

import contextvars
import io
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"  # the desk of a Chinese office tower; a user's choice is remembered

current: contextvars.ContextVar[str] = contextvars.ContextVar("console_language", default=DEFAULT)


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():  # English is the source language: its catalog is the identity
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    mo = io.BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo)


def gettext(message: str) -> str:
    return translations(current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current.get()).ngettext(singular, plural, n)


def initials(text: str) -> str:
    """The pinyin initials of the Chinese in ``text`` ("上海浦东贸易" -> "shpdmy"), "" if it has none:
    how the desk types a tenant's name fast."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return ""
    from pypinyin import Style, lazy_pinyin

    return "".join(p for p in lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore") if p.isalnum()).lower()


def best_match(accept_language: str) -> str:
    """The language of a browser's Accept-Language header we have, else the default."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("-", "_").lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


#: The locale that formats each language. English is British English: its dates read day, month
#: name, year ("29 Nov 2026"), never the US "11/29/26" a reader in China could take either way.
FORMAT_LOCALES = {"zh_CN": "zh_CN", "en": "en_GB"}


class Formats:
    """Money, numbers and times for the current language, in the site's time zone and currency.
    Dates are Babel's "medium" (a month name or 年月日, the year in full), times 24-hour."""

    def __init__(self, zone: ZoneInfo, currency: str):
        self.zone = zone
        self.currency = currency

    @staticmethod
    def _locale() -> Locale:
        return Locale.parse(FORMAT_LOCALES[current.get()])

    def money(self, amount: str | Decimal | None) -> str:
        if amount in (None, ""):
            return ""
        return numbers.format_currency(Decimal(str(amount)), self.currency, locale=self._locale())

    def number(self, value: str | Decimal | int | None) -> str:
        if value in (None, ""):
            return ""
        return numbers.format_decimal(Decimal(str(value)), locale=self._locale())

    def _local(self, value: str | datetime) -> datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(self.zone)

    def when(self, value: str | datetime | None) -> str:
        if not value:
            return ""
        pattern = self._locale().datetime_formats["medium"]  # how the language joins a date and a time
        return pattern.format(self.time(value), self.day(value))

    def time(self, value: str | datetime | None) -> str:
        if not value:
            return ""
        return dates.format_time(self._local(value), "short", tzinfo=self.zone, locale=self._locale())

    def day(self, value: str | datetime | None) -> str:
        if not value:
            return ""
        return dates.format_date(self._local(value), "medium", locale=self._locale())
