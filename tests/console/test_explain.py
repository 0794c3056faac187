"""Charge explanations and due items composed in Chinese from the data billing and the desk send:
every kind of line billing writes is said in Chinese (no English sentence, no fallback to the
stored English), money in the locale's format; English reads the stored sentence unchanged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from gatewayd.billing import (
    Colour,
    ErrandUsage,
    FaxCallUsage,
    FaxInUsage,
    ManualLine,
    PageOutcome,
    PageResult,
    PrintJobUsage,
    PrintUsage,
    Service,
    TypingUsage,
    rate,
)
from gatewayd.billing.usage import MeetingRoomUsage
from gatewayd.console import explain, i18n
from tests.billing.conftest import SITE, book, example, fax_book, local  # noqa: F401 (fixtures)

FMT = i18n.Formats(ZoneInfo("Asia/Shanghai"), "CNY")
MARCH = local(2025, 3, 5, 10, 0)
OK, ERR, LOST = PageResult.CONFIRMED, PageResult.ERROR_PAGE, PageResult.UNCONFIRMED
#: What may stay Latin in a Chinese sentence: names from the price list and the devices, as configured.
LATIN_ALLOWED = {"A4", "A3", "tea", "projector", "Board", "Room", "desk", "laser"}  # data: sizes, extras, rooms, queues


@pytest.fixture
def chinese() -> Iterator[None]:
    token = i18n.current.set("zh_CN")
    yield
    i18n.current.reset(token)


def _lines(rating) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(json.dumps(rating.to_json()))["lines"]  # as the API sends them


def _call(duration: int, *pages: tuple[int, PageResult], connected: bool = True, completed: bool = True,
          reason: str = "") -> FaxCallUsage:
    at = local(2025, 3, 5, 12, 0)
    return FaxCallUsage("9,0085221234567", at, at if connected else None, duration,
                        tuple(PageOutcome(n, r) for n, r in pages), completed, reason)


def _every_kind_of_line(book) -> list[dict]:  # type: ignore[no-untyped-def]
    fax = fax_book(minimum="40.00", connect_fee="2.00", error_pages="charged", failed_call="time",
                   extra='unanswered_fee = "1.00"')
    free_fax = fax_book(error_pages="not_charged")
    room = MeetingRoomUsage("Board Room 董事会议室", local(2025, 3, 5, 14, 0), local(2025, 3, 5, 15, 10),
                            (("tea", 12), ("projector", 1)))
    job = PrintJobUsage("job desk-laser-17", "cancelled", None, "A4", Colour.MONO, False, 3, 1, MARCH)
    lines = [
        *_lines(rate(fax, SITE, _call(192, (1, OK), (2, ERR), (2, OK), (3, LOST)))),  # time, minimum, fee, pages
        *_lines(rate(free_fax, SITE, _call(70, (1, OK), (2, ERR)))),  # ErrorPage not charged
        *_lines(rate(fax, SITE, _call(0, connected=False, completed=False, reason="busy"))),
        *_lines(rate(free_fax, SITE, _call(0, connected=False, completed=False, reason="no answer"))),
        *_lines(rate(fax, SITE, _call(50, (1, LOST), completed=False, reason="carrier lost"))),
        *_lines(rate(book, SITE, FaxInUsage(pages=3, at=MARCH))),
        *_lines(rate(book, SITE, TypingUsage(pages=2, at=MARCH))),
        *_lines(rate(book, SITE, PrintUsage(Service.COPY, "A3", Colour.MONO, False, 5, MARCH, sets=3,
                                            scale_percent=141))),
        *_lines(rate(book, SITE, PrintUsage(Service.PRINT, "A4", Colour.COLOUR, True, 4, MARCH))),
        *_lines(rate(book, SITE, job)),
        *_lines(rate(book, SITE, PrintJobUsage("job desk-laser-18", "completed", "proof", "A4", Colour.MONO, False,
                                               3, 1, MARCH, typing=True))),
        *_lines(rate(book, SITE, MeetingRoomUsage("Room A", local(2025, 3, 5, 9, 0), local(2025, 3, 5, 9, 20)))),
        *_lines(rate(book, SITE, ErrandUsage("快递到浦东机场", Decimal("120.00"), MARCH))),
        *_lines(rate(book, SITE, ErrandUsage("证件照", Decimal("35.00"), MARCH, service_charge=Decimal("5.00")))),
        *_lines(rate(book, SITE, room)),
        *_lines(rate(book, SITE, ManualLine(Service.ERRAND, "装订", Decimal(2), "本", Decimal("3.00"), MARCH))),
        {"rule": "discount", "description": "优惠 Discount: 老客户", "quantity": "1", "unit": "item",
         "unit_price": "-5.00", "amount": "-5.00", "inputs": {"reason": "老客户"}},
    ]
    return lines


def test_every_kind_of_charge_line_is_said_in_chinese(book, chinese) -> None:  # type: ignore[no-untyped-def]
    lines = _every_kind_of_line(book)
    rules = {explain._kind_of(line["rule"]) for line in lines}
    # every composer is exercised below (a print surcharge is said as the copy's: the example list has none)
    assert rules >= set(explain.CHARGES) - {"print.scaling_surcharge"} | {"minimum"}
    for line in lines:
        text = explain.charge(line, FMT)
        assert text != line["description"], line["rule"]  # composed, not the stored English
        assert re.search(r"[\u4e00-\u9fff]", text), text
        words = set(re.findall(r"[A-Za-z]{2,}", text)) - LATIN_ALLOWED
        assert words == set(), (text, words)
        if Decimal(line["amount"]):
            assert FMT.money(line["amount"]) in text or line["rule"] == "discount", text  # ¥32.00, not 32.00


def test_the_issue_example_in_chinese(chinese) -> None:  # type: ignore[no-untyped-def]
    rating = rate(fax_book(), SITE, _call(192, (1, OK), (2, ERR), (2, OK), (3, OK)))
    texts = [explain.charge(line, FMT) for line in _lines(rating)]
    assert texts == ["+852 中国香港特别行政区，通话 3分12秒 → 计 4 × 60秒，每分钟 ¥8.00，共 ¥32.00",
                     "3 页 × ¥2.00 = ¥6.00",
                     "第 2 页已重发（错页），不收费"]
    assert explain.rating(rating.to_json() | {"explain": rating.explain()}, FMT) == "；".join(texts)


def test_error_pages_resent_twice_and_not_resent_are_told_apart(chinese) -> None:  # type: ignore[no-untyped-def]
    usage = _call(300, (1, OK), (2, ERR), (2, ERR), (2, OK), (3, ERR))  # page 3 rejected, then the far end hung up
    lines = _lines(rate(fax_book(error_pages="charged"), SITE, usage))
    [line] = [line for line in lines if line["rule"] == "fax_out.error_pages"]
    assert explain.charge(line, FMT) == ("第 2（2 次） 页已重发；第 3 页被拒收，本次通话未重发（错页），"
                                         "收费：3 × ¥2.00 = ¥6.00")


def test_a_line_staff_added_over_the_api_is_said_with_their_words(chinese) -> None:  # type: ignore[no-untyped-def]
    line = {"rule": "manual", "description": "装订", "quantity": "2", "unit": "item", "unit_price": "3.00",
            "amount": "6.00", "inputs": {}, "manual": True}  # as POST /tickets/{id}/charges stores it
    assert explain.charge(line, FMT) == "装订（手工录入），2 项 × ¥3.00 = ¥6.00"


def test_every_hang_up_the_fax_driver_names_is_said_in_chinese(chinese) -> None:  # type: ignore[no-untyped-def]
    from drivers.fax.record import HangupCode

    for code in HangupCode:
        if code is not HangupCode.NORMAL:
            said = explain._reason(code.value)
            assert re.search(r"[\u4e00-\u9fff]", said) and said != code.value, code


def test_english_reads_the_stored_sentence_and_an_unknown_line_falls_back_to_it(book) -> None:  # type: ignore[no-untyped-def]
    [line] = _lines(rate(book, SITE, FaxInUsage(pages=3, at=MARCH)))
    token = i18n.current.set("en")
    try:
        assert explain.charge(line, FMT) == line["description"]
        assert explain.unit(line["unit"]) == "page"  # the ticket page's unit column as before
    finally:
        i18n.current.reset(token)
    token = i18n.current.set("zh_CN")
    try:
        old = {**line, "rule": "fax_in.per_page", "inputs": {}}  # stored before its inputs were
        assert explain.charge(old, FMT) == line["description"]
        assert explain.charge({**line, "rule": "print.not_priced"}, FMT) == line["description"]
    finally:
        i18n.current.reset(token)


def test_due_items_in_chinese_with_local_times(chinese) -> None:  # type: ignore[no-untyped-def]
    starts = datetime(2026, 11, 30, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    items = [
        {"kind": "booking_task", "ref": "booking 4", "what": "room set up: Room A, meeting 2026-11-30 09:30",
         "who": "housekeeping", "due_at": "2026-11-29T01:30:00+00:00",
         "args": {"id": 4, "item": "setup", "room": "Room A", "starts_at": starts.isoformat()}},
        {"kind": "complaint_reply", "ref": "complaint 3", "what": "reply to 王女士: 空调太冷", "who": "工程部",
         "due_at": "2026-11-29T01:30:00+00:00",
         "args": {"id": 3, "complainant": "王女士", "subject": "空调太冷"}},
        {"kind": "mail_return", "ref": "mail 7", "what": "return registered for 李四 (查无此人) to the post office",
         "who": "", "due_at": "2026-11-29T01:30:00+00:00",
         "args": {"id": 7, "mail_kind": "registered", "addressee": "李四"}},
    ]
    said = [explain.due(item, FMT) for item in items]
    assert said[0] == {"what": "布置会议室：Room A，会议 2026年11月30日 09:30 开始", "ref": "预订 4", "who": "保洁部"}
    assert said[1] == {"what": "答复 王女士：空调太冷", "ref": "投诉 3", "who": "工程部"}
    assert said[2] == {"what": "将给 李四 的挂号信（查无此人）退回邮局", "ref": "信件 7", "who": ""}
