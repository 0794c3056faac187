"""The zh-CN catalog covers every message the console shows, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import gatewayd.console
from gatewayd.console import i18n

CONSOLE = Path(gatewayd.console.__file__).parent
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[sd%]|%")


def _messages() -> set[str]:
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(CONSOLE, method_map, options):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_console_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    with (CONSOLE / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_CN")
    messages = _messages()
    assert len(messages) > 100
    missing = [m for m in messages if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == []
    for message in messages:
        translated = catalog.get(message).string
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message)), message
        if "%(" in message:
            names = dict.fromkeys(re.findall(r"%\((\w+)\)", message), "x")
            translated % names  # raises on a stray % the translator typed  # noqa: B018


def test_the_catalog_is_read_at_start_without_a_build_step() -> None:
    i18n.current.set("zh_CN")
    assert i18n.gettext("Open ticket") == "开单"
    i18n.current.set("en")
    assert i18n.gettext("Open ticket") == "Open ticket"


def test_english_dates_are_unambiguous_day_month_name_year() -> None:
    """A desk in China reading English must not guess whether 11/3 is March or November."""
    from zoneinfo import ZoneInfo

    formats = i18n.Formats(ZoneInfo("Asia/Shanghai"), "CNY")
    moment = "2026-11-03T07:04:00+00:00"  # 15:04 in Shanghai, a day of the month below 13
    token = i18n.current.set("en")
    try:
        assert (formats.when(moment), formats.day(moment), formats.time(moment)) == (
            "3 Nov 2026, 15:04", "3 Nov 2026", "15:04")
    finally:
        i18n.current.reset(token)
    token = i18n.current.set("zh_CN")
    try:
        assert (formats.when(moment), formats.day(moment)) == ("2026年11月3日 15:04", "2026年11月3日")
    finally:
        i18n.current.reset(token)
