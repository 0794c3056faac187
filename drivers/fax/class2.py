"""What a Class 2 or Class 2.0 fax modem says, sans-IO: bytes in, typed responses out.

In Class 2 (the SP-2388 draft) and Class 2.0 (ITU-T T.32) the modem runs T.30 itself and tells
the DTE about the call in information lines between the result codes: ``+FCO`` connected, the
far end's id and capabilities, the negotiated session, each page's fate, the reason the call
ended. The two classes say the same things under different names and number bases:

===========================  ==============  ===============
what                         Class 2         Class 2.0
===========================  ==============  ===============
fax connection               ``+FCON``       ``+FCO``
called station id (CSI)      ``+FCSI:``      ``+FCI:``
calling station id (TSI)     ``+FTSI:``      ``+FTI:``
far end's capabilities       ``+FDIS:``      ``+FIS:``
negotiated session (DCS)     ``+FDCS:``      ``+FCS:``
page status                  ``+FPTS:``      ``+FPS:``
call ended, reason           ``+FHNG:`` dec  ``+FHS:`` hex
===========================  ==============  ===============

:class:`ResponseParser` splits the modem's bytes into lines (CR and LF may arrive in separate
reads) and turns each into one response; a line it cannot read becomes :class:`Unreadable`
rather than an exception, so the I/O loop decides what a garbled modem means. Page data after
``CONNECT`` is not for this parser: the loop hands those bytes to :mod:`drivers.fax.dle`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: Longer lines are not a modem talking: refused as :class:`Unreadable`.
MAX_LINE = 256

RESULT_CODES = frozenset({"OK", "ERROR", "CONNECT", "BUSY", "NO CARRIER", "NO ANSWER",
                          "NO DIALTONE", "NO DIAL TONE"})


class FaxClass(enum.Enum):
    CLASS_2 = "2"  #: SP-2388 draft, as USR/Rockwell/Multi-Tech shipped it
    CLASS_2_0 = "2.0"  #: ITU-T T.32


class PageStatus(enum.IntEnum):
    """The far end's answer to a page (``+FPS``/``+FPTS`` first value, T.32 ``ppr``)."""

    MCF = 1  #: page good
    RTN = 2  #: page bad, retrain; the page is an ErrorPage
    RTP = 3  #: page good, retrain
    PIN = 4  #: page bad, operator interrupt
    PIP = 5  #: page good, operator interrupt

    @property
    def good(self) -> bool:
        return self in (PageStatus.MCF, PageStatus.RTP, PageStatus.PIP)


class PostPageMessage(enum.IntEnum):
    """``+FET:`` (what the sender said after a page) and ``AT+FET=`` (what we say)."""

    MPS = 0  #: another page follows
    EOM = 1  #: end of document, another follows after phase B
    EOP = 2  #: end of procedure: the last page


# T.32 hang-up status codes (Class 2.0 hex; Class 2 prints the same digits in decimal, 100-103
# for A0-A3). Reasons in our words; the codes as listed by mgetty's faxhng.c (Gert Doering,
# 1993) for Class 2 and T.32's table for Class 2.0.
HANGUP_REASONS: dict[int, str] = {
    0x00: "normal end of call",
    0x01: "ring detected, but no fax handshake",
    0x02: "call aborted by the DTE (+FK or CAN)",
    0x03: "no loop current (line dropped)",
    0x04: "ringback detected, no answer (timeout)",
    0x05: "ringback detected, answer without CED",
    0x10: "unspecified phase A error",
    0x11: "no answer (T.30 T1 timeout)",
    0x20: "unspecified error sending, phase B",
    0x21: "remote cannot receive or send",
    0x22: "command receive error sending, phase B",
    0x23: "invalid command received sending, phase B",
    0x24: "response receive error sending, phase B",
    0x25: "DCS sent three times without response",
    0x26: "DIS/DTC received three times; DCS not recognised",
    0x27: "failure to train at the lowest speed",
    0x28: "invalid response received sending, phase B",
    0x40: "unspecified error sending, phase C",
    0x43: "DTE to modem data underflow",
    0x50: "unspecified error sending, phase D",
    0x51: "response receive error sending, phase D",
    0x52: "no response to MPS repeated three times",
    0x53: "invalid response to MPS",
    0x54: "no response to EOP repeated three times",
    0x55: "invalid response to EOP",
    0x56: "no response to EOM repeated three times",
    0x57: "invalid response to EOM",
    0x58: "unable to continue after PIN or PIP",
    0x70: "unspecified error receiving, phase B",
    0x71: "response receive error receiving, phase B",
    0x72: "command receive error receiving, phase B",
    0x73: "T.30 T2 timeout: expected page not received",
    0x74: "T.30 T1 timeout after EOM",
    0x90: "unspecified error receiving, phase C",
    0x91: "missing EOL after 5 seconds",
    0x93: "modem to DTE buffer overflow",
    0x94: "bad CRC or frame (ECM)",
    0xA0: "unspecified error receiving, phase D",
    0xA1: "invalid response received, phase D",
    0xA2: "invalid command received, phase D",
    0xA3: "unable to continue after PIN or PIP",
}

_CLASS_OF_CODE = (
    (0x00, "call placement"), (0x10, "calling"), (0x20, "sending, phase B"),
    (0x40, "sending, phase C"), (0x50, "sending, phase D"), (0x70, "receiving, phase B"),
    (0x90, "receiving, phase C"), (0xA0, "receiving, phase D"), (0xB0, "reserved"),
)


def hangup_reason(code: int) -> str:
    """A person's words for a T.32 hang-up code, also for codes outside the table."""
    if code in HANGUP_REASONS:
        return HANGUP_REASONS[code]
    group = [name for start, name in _CLASS_OF_CODE if code >= start][-1]
    return f"unlisted hang-up code {code:02X} ({group})"


# ---------------------------------------------------------------------------- responses


@dataclass(frozen=True)
class ResultCode:
    """A final result code: ``OK``, ``ERROR``, ``CONNECT``, ``BUSY``, ``NO CARRIER`` ..."""

    text: str


@dataclass(frozen=True)
class Ring:
    pass


@dataclass(frozen=True)
class Connected:
    """``+FCO``/``+FCON``: the far end is a fax machine."""


@dataclass(frozen=True)
class RemoteId:
    """The far end's station id: CSI when we called (``+FCI``/``+FCSI``), TSI when it called
    us (``+FTI``/``+FTSI``)."""

    ident: str
    called: bool  #: True for CSI (the called station), False for TSI


@dataclass(frozen=True)
class SessionParameters:
    """T.32's eight session values (``VR,BR,WD,LN,DF,EC,BF,ST``), as numbers."""

    vertical_resolution: int  #: 0 normal (98 lpi), 1 fine (196 lpi)
    bit_rate: int  #: bit/s, from BR 0-5 (2400 ... 14400) and beyond for V.34
    width: int  #: 0 = 1728 pixels (A4), 1 = B4, 2 = A3
    length: int  #: 0 A4, 1 B4, 2 unlimited
    coding: int  #: 0 MH, 1 MR, 2 uncompressed, 3 MMR
    ecm: int  #: 0 none, 1/2 ECM
    bft: int
    scan_time: int  #: ST code 0-7

    @classmethod
    def parse(cls, text: str, base: int) -> SessionParameters:
        fields = [f.strip() for f in text.split(",")]
        if len(fields) < 8:
            raise ValueError(f"{len(fields)} session values, T.32 has 8")
        values = [int(f or "0", base) for f in fields[:8]]
        if not 0 <= values[1] < len(_BIT_RATES):
            raise ValueError(f"bit rate code {values[1]} unknown")
        values[1] = _BIT_RATES[values[1]]
        return cls(*values)


_BIT_RATES = (2400, 4800, 7200, 9600, 12000, 14400, 16800, 19200, 21600, 24000, 26400,
              28800, 31200, 33600)


@dataclass(frozen=True)
class RemoteCapabilities:
    """``+FIS``/``+FDIS`` after dialling: what the far end's DIS offers."""

    params: SessionParameters


@dataclass(frozen=True)
class Session:
    """``+FCS``/``+FDCS``: the negotiated session; page data must be coded as ``params.coding``."""

    params: SessionParameters


@dataclass(frozen=True)
class PageResult:
    """``+FPS``/``+FPTS``: the fate of a page (sending: the far end's answer; receiving: the
    modem's own copy-quality check), with the line counts the modem gives."""

    status: PageStatus
    lines: int | None = None
    bad_lines: int | None = None
    consecutive_bad_lines: int | None = None
    lost_bytes: int | None = None


@dataclass(frozen=True)
class PostPage:
    """``+FET:``: what the sending far end said after the page just received."""

    message: PostPageMessage


@dataclass(frozen=True)
class HangUp:
    """``+FHS``/``+FHNG``: the call is over, and why."""

    code: int  #: T.32 value (hex in Class 2.0; Class 2's decimal 100-103 become A0-A3)
    reason: str

    @property
    def normal(self) -> bool:
        return self.code == 0


@dataclass(frozen=True)
class HdlcFrame:
    """``+FHT:``/``+FHR:``: a T.30 frame the modem sent/received, shown for diagnosis."""

    data: bytes
    sent: bool


@dataclass(frozen=True)
class Information:
    """Any other line: the answer to a query (``AT+FCLASS=?``, ``ATI3``, ``AT+FMI?`` ...)."""

    text: str


@dataclass(frozen=True)
class Unreadable:
    """A line that names a known report but does not parse, or is not a modem line at all."""

    line: str
    why: str


Response = (ResultCode | Ring | Connected | RemoteId | RemoteCapabilities | Session | PageResult
            | PostPage | HangUp | HdlcFrame | Information | Unreadable)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text.strip()


def _hangup_code(text: str, fax_class: FaxClass) -> int:
    text = text.strip()
    if fax_class is FaxClass.CLASS_2:
        code = int(text, 10)
        return 0xA0 + code - 100 if 100 <= code <= 103 else int(f"{code:02d}", 16)
    return int(text, 16)


def parse_line(line: str, fax_class: FaxClass) -> Response:
    """One line from the modem (no CR/LF) as a response. Both classes' names are understood
    (modems mix them); numbers are read in ``fax_class``'s base."""
    base = 16 if fax_class is FaxClass.CLASS_2_0 else 10
    text = line.strip()
    if len(text) > MAX_LINE:
        return Unreadable(text[:MAX_LINE], f"longer than {MAX_LINE} characters")
    if text in RESULT_CODES:
        return ResultCode(text.replace("NO DIAL TONE", "NO DIALTONE"))
    if text == "RING":
        return Ring()
    if text in ("+FCO", "+FCON"):
        return Connected()
    if not text.startswith("+F") or ":" not in text:
        return Information(text)
    name, _, value = text.partition(":")
    try:
        if name in ("+FCI", "+FCSI"):
            return RemoteId(_unquote(value), called=True)
        if name in ("+FTI", "+FTSI"):
            return RemoteId(_unquote(value), called=False)
        if name in ("+FIS", "+FDIS"):
            return RemoteCapabilities(SessionParameters.parse(value, base))
        if name in ("+FCS", "+FDCS"):
            return Session(SessionParameters.parse(value, base))
        if name in ("+FPS", "+FPTS"):
            values = [int(v, base) for v in value.split(",")]
            return PageResult(PageStatus(values[0]), *values[1:5])
        if name == "+FET":
            return PostPage(PostPageMessage(int(value)))
        if name in ("+FHS", "+FHNG"):
            code = _hangup_code(value, fax_class)
            return HangUp(code, hangup_reason(code))
        if name in ("+FHT", "+FHR"):
            return HdlcFrame(bytes.fromhex(value), sent=name == "+FHT")
    except ValueError as err:
        return Unreadable(text, str(err))
    return Information(text)


class ResponseParser:
    """Feed the modem's bytes as they come; take the responses of the complete lines."""

    def __init__(self, fax_class: FaxClass):
        self.fax_class = fax_class
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[Response]:
        self._pending += data
        responses: list[Response] = []
        while True:
            ends = [i for i in (self._pending.find(b"\r"), self._pending.find(b"\n")) if i >= 0]
            if not ends:
                break
            end = min(ends)
            raw = bytes(self._pending[:end])
            del self._pending[:end + 1]
            # XON/XOFF and other controls are flow control, not text.
            line = bytes(b for b in raw if b >= 0x20).decode("latin-1").strip()
            if line:
                responses.append(parse_line(line, self.fax_class))
        if len(self._pending) > MAX_LINE:
            responses.append(Unreadable(self._pending[:MAX_LINE].decode("latin-1"),
                                        f"no line end within {MAX_LINE} bytes"))
            self._pending.clear()
        return responses
