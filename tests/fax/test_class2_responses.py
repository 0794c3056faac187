"""The Class 2 / 2.0 response parser on real modems' words (HylaFAX session logs) and on any
chunking of the byte stream."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivers.fax.class2 import (
    HANGUP_REASONS,
    Connected,
    FaxClass,
    HangUp,
    HdlcFrame,
    Information,
    PageResult,
    PageStatus,
    PostPage,
    PostPageMessage,
    RemoteCapabilities,
    RemoteId,
    ResponseParser,
    ResultCode,
    Ring,
    Session,
    SessionParameters,
    Unreadable,
    hangup_reason,
    parse_line,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "fax" / "class2"
MODEM_SAID = re.compile(r"--> \[(\d+):(.*)\]\s*$")


def modem_lines(name: str) -> list[str]:
    """What the modem said in a HylaFAX log (``--> [len:text]``), length-checked."""
    lines = []
    for raw in (DATA / name).read_text().splitlines():
        if raw.startswith("#") or not (match := MODEM_SAID.search(raw)):
            continue
        length, text = int(match.group(1)), match.group(2)
        assert len(text) == length, raw  # the log's own length: the line is complete
        lines.append(text)
    return lines


def parse_stream(lines: list[str], fax_class: FaxClass, chunk: int) -> list:
    stream = b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines)
    parser = ResponseParser(fax_class)
    out = []
    for i in range(0, len(stream), chunk):
        out += parser.feed(stream[i:i + chunk])
    return out


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096])
def test_class2_receive_with_a_bad_page(chunk):
    """FlexFax/Multi-Tech: a page the modem judged bad (+FPTS:2) and the sender's MPS."""
    responses = parse_stream(modem_lines("class2_recv_rtn_fpts2_flexfax.log"), FaxClass.CLASS_2,
                             chunk)

    assert responses == [
        ResultCode("OK"),
        HdlcFrame(bytes([0xFF, 0x13, 0x8C]), sent=True),  # the MCF the modem sent
        ResultCode("CONNECT"),
        PageResult(PageStatus.RTN, lines=2113, bad_lines=105, consecutive_bad_lines=45,
                   lost_bytes=1960),
        HdlcFrame(bytes([0xFF, 0x13, 0x4F]), sent=False),  # the sender's MPS
        PostPage(PostPageMessage.MPS),
    ]
    assert not responses[3].status.good  # an ErrorPage


def test_class2_send_refused_page_then_abort():
    """+FPTS:2 is RTN (page bad); after AT+FK the modem says +FHNG:02, "aborted"."""
    responses = parse_stream(modem_lines("class2_send_rtn_fpts2_giveup.log"), FaxClass.CLASS_2,
                             5)

    assert responses[0] == PageResult(PageStatus.RTN)
    assert responses[1] == ResultCode("OK")
    hangup = responses[2]
    assert isinstance(hangup, HangUp) and hangup.code == 0x02 and not hangup.normal
    assert "aborted" in hangup.reason
    assert responses[3:] == [ResultCode("OK")]


def test_a_bare_error_after_page_data_is_not_a_page_status():
    """HylaFAQ Q427: HylaFAX logged a modem's ERROR as RTN. Here it stays an ERROR."""
    responses = parse_stream(modem_lines("send_error_logged_as_rtn_usr.log"), FaxClass.CLASS_2,
                             1)

    assert responses == [ResultCode("ERROR")]
    assert not any(isinstance(r, PageResult) for r in responses)


def test_class_2_0_session_as_the_lab_modem_reports_it():
    lines = ["+FCO", '+FCI:"+1 555 0100"', "+FIS:1,5,0,1,3,1,0,7", "OK",
             "+FCS:1,5,0,0,0,0,0,0", "CONNECT", "+FPS:1", "OK", "+FPS:2", "ERROR", "+FHS:00",
             "OK", "RING"]
    responses = parse_stream(lines, FaxClass.CLASS_2_0, 3)

    assert responses[0] == Connected()
    assert responses[1] == RemoteId("+1 555 0100", called=True)
    assert responses[2] == RemoteCapabilities(SessionParameters(1, 14400, 0, 1, 3, 1, 0, 7))
    assert responses[4] == Session(SessionParameters(1, 14400, 0, 0, 0, 0, 0, 0))
    assert responses[6] == PageResult(PageStatus.MCF)
    assert responses[8] == PageResult(PageStatus.RTN)
    assert responses[10] == HangUp(0, "normal end of call")
    assert responses[-1] == Ring()


def test_received_page_counts_are_hex_in_class_2_0_and_decimal_in_class_2():
    assert parse_line("+FPS:1,1F4,0,0,0", FaxClass.CLASS_2_0) == PageResult(
        PageStatus.MCF, 500, 0, 0, 0)
    assert parse_line("+FPTS:1,500,0,0,0", FaxClass.CLASS_2) == PageResult(
        PageStatus.MCF, 500, 0, 0, 0)
    assert parse_line('+FTSI: "  +44 20 7946 0000 "', FaxClass.CLASS_2) == RemoteId(
        "+44 20 7946 0000", called=False)


@pytest.mark.parametrize("line, fax_class, code", [
    ("+FHNG:0", FaxClass.CLASS_2, 0x00),
    ("+FHNG:52", FaxClass.CLASS_2, 0x52),
    ("+FHNG:100", FaxClass.CLASS_2, 0xA0),
    ("+FHNG:103", FaxClass.CLASS_2, 0xA3),
    ("+FHS:52", FaxClass.CLASS_2_0, 0x52),
    ("+FHS:A1", FaxClass.CLASS_2_0, 0xA1),
])
def test_hangup_codes_in_both_bases(line, fax_class, code):
    hangup = parse_line(line, fax_class)
    assert hangup == HangUp(code, HANGUP_REASONS[code])


def test_every_hangup_code_has_a_readable_reason():
    for code in range(0x100):
        reason = hangup_reason(code)
        assert reason and (code in HANGUP_REASONS or "unlisted" in reason)
    assert hangup_reason(0x11) == "no answer (T.30 T1 timeout)"
    assert "receiving, phase C" in hangup_reason(0x95)


@pytest.mark.parametrize("line", [
    "+FPS:9", "+FPS:", "+FCS:1,5", "+FCS:1,99,0,0,0,0,0,0", "+FHS:zz", "+FHT:F", "+FET:7",
])
def test_a_garbled_report_is_unreadable_not_an_exception(line):
    response = parse_line(line, FaxClass.CLASS_2_0)
    assert isinstance(response, Unreadable) and response.line == line and response.why


def test_hostile_streams():
    parser = ResponseParser(FaxClass.CLASS_2_0)
    # No line end for ever: cut off and reported, then the parser goes on.
    flood = parser.feed(b"A" * 10_000)
    assert len(flood) == 1 and isinstance(flood[0], Unreadable)
    assert parser.feed(b"\r\nOK\r\n") == [ResultCode("OK")]
    # Flow control bytes and NULs inside lines are dropped; a lone LF ends a line too.
    assert parser.feed(b"\x11\x13O\x00K\n") == [ResultCode("OK")]
    assert parser.feed(b"+FMI?\r\n") == [Information("+FMI?")]
    assert parser.feed("\r\n+FCI:\"é\"\r\n".encode()) == [RemoteId("Ã©", called=True)]
