"""T.4/T.6 page coding: MH, MR and MMR, sans-IO, pure Python.

A page is a :class:`Bitmap` (rows of pels, 1 = black). :func:`encode` turns it into the bytes a
Class 1 modem sends; :func:`decode` turns received bytes back into a bitmap and counts good and
bad lines, and :class:`CopyQualityPolicy` decides from those counts whether a receiver answers
MCF or RTN.

**Bit order.** T.4 data leaves the modem in the order the codes are written (EOL is eleven 0s
then a 1). Over Class 1 each octet is sent least significant bit first (T.31 8.5: the modem
sends "the low-order bit first"; spandsp's T.31 shifts ``current_byte & 1`` out first), so the
first code bit of a page sits in bit 0 of the first octet. This module always produces and
consumes that *line order*. It is the reverse of TIFF's default FillOrder=1 (MSB first): a TIFF
holding line-order data says FillOrder=2, which is what spandsp and HylaFAX write for received
faxes, and what :mod:`drivers.fax.tiff` writes too. :func:`reverse_bits` converts.

**Speed.** No numpy: rows become bit strings through ``int``/``format`` (C speed), runs are
found with regular expressions, codes are looked up in precomputed tables, and the output bit
string becomes bytes through one ``int(..., 2)``. Received data is split at EOLs with one
regular expression (T.4's codes are built so that no sequence of them contains eleven 0s, so an
EOL is unambiguous), which also makes each line an independent unit for error counting.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import FaxError
from .frames import FCF, Coding, Session
from .pages import PageQuality

if TYPE_CHECKING:  # Pillow is a dependency of the daemon, but the codec does not need it
    from PIL import Image

A4_WIDTH = 1728  #: pels per line at 8 pels/mm on 215 mm (T.4 2.2)

# ---- Code tables -----------------------------------------------------------------------------
# Transcribed from ITU-T T.4 (07/2003): Table 1 (terminating codes), Table 2 (make-up codes),
# Table 3 (extended make-up codes, shared by both colours) and Table 4 (two-dimensional codes).
# The tests check the tables are prefix-free and agree with libtiff both ways.

_WHITE_TERMINATING = (
    "00110101", "000111", "0111", "1000", "1011", "1100", "1110", "1111", "10011", "10100",
    "00111", "01000", "001000", "000011", "110100", "110101", "101010", "101011", "0100111",
    "0001100", "0001000", "0010111", "0000011", "0000100", "0101000", "0101011", "0010011",
    "0100100", "0011000", "00000010", "00000011", "00011010", "00011011", "00010010", "00010011",
    "00010100", "00010101", "00010110", "00010111", "00101000", "00101001", "00101010", "00101011",
    "00101100", "00101101", "00000100", "00000101", "00001010", "00001011", "01010010", "01010011",
    "01010100", "01010101", "00100100", "00100101", "01011000", "01011001", "01011010", "01011011",
    "01001010", "01001011", "00110010", "00110011", "00110100",
)
_BLACK_TERMINATING = (
    "0000110111", "010", "11", "10", "011", "0011", "0010", "00011", "000101", "000100", "0000100",
    "0000101", "0000111", "00000100", "00000111", "000011000", "0000010111", "0000011000",
    "0000001000", "00001100111", "00001101000", "00001101100", "00000110111", "00000101000",
    "00000010111", "00000011000", "000011001010", "000011001011", "000011001100", "000011001101",
    "000001101000", "000001101001", "000001101010", "000001101011", "000011010010", "000011010011",
    "000011010100", "000011010101", "000011010110", "000011010111", "000001101100", "000001101101",
    "000011011010", "000011011011", "000001010100", "000001010101", "000001010110", "000001010111",
    "000001100100", "000001100101", "000001010010", "000001010011", "000000100100", "000000110111",
    "000000111000", "000000100111", "000000101000", "000001011000", "000001011001", "000000101011",
    "000000101100", "000001011010", "000001100110", "000001100111",
)
# Make-up codes for 64, 128, ... 1728.
_WHITE_MAKEUP = (
    "11011", "10010", "010111", "0110111", "00110110", "00110111", "01100100", "01100101",
    "01101000", "01100111", "011001100", "011001101", "011010010", "011010011", "011010100",
    "011010101", "011010110", "011010111", "011011000", "011011001", "011011010", "011011011",
    "010011000", "010011001", "010011010", "011000", "010011011",
)
_BLACK_MAKEUP = (
    "0000001111", "000011001000", "000011001001", "000001011011", "000000110011", "000000110100",
    "000000110101", "0000001101100", "0000001101101", "0000001001010", "0000001001011",
    "0000001001100", "0000001001101", "0000001110010", "0000001110011", "0000001110100",
    "0000001110101", "0000001110110", "0000001110111", "0000001010010", "0000001010011",
    "0000001010100", "0000001010101", "0000001011010", "0000001011011", "0000001100100",
    "0000001100101",
)
# Extended make-up codes for 1792, 1856, ... 2560 (wider pages; either colour).
_EXTENDED_MAKEUP = (
    "00000001000", "00000001100", "00000001101", "000000010010", "000000010011", "000000010100",
    "000000010101", "000000010110", "000000010111", "000000011100", "000000011101", "000000011110",
    "000000011111",
)

EOL = "000000000001"
_PASS, _HORIZONTAL = "0001", "001"
# Vertical mode: a1 - b1 -> code.
_VERTICAL = {0: "1", 1: "011", 2: "000011", 3: "0000011", -1: "010", -2: "000010", -3: "0000010"}
_MAX_RUN = 2560  # the longest single make-up; longer runs repeat it (T.4 4.1.1.1)


def _run_codes(terminating: tuple[str, ...], makeup: tuple[str, ...]) -> dict[int, str]:
    codes = {n: code for n, code in enumerate(terminating)}
    codes |= {64 * (i + 1): code for i, code in enumerate(makeup)}
    codes |= {1792 + 64 * i: code for i, code in enumerate(_EXTENDED_MAKEUP)}
    return codes


WHITE_CODES = _run_codes(_WHITE_TERMINATING, _WHITE_MAKEUP)  #: run length -> code, white
BLACK_CODES = _run_codes(_BLACK_TERMINATING, _BLACK_MAKEUP)  #: run length -> code, black


def _full_run_table(codes: dict[int, str]) -> list[str]:
    """Every run 0..2560 as its complete code: make-up (if >= 64) then terminating."""
    table = []
    for run in range(_MAX_RUN + 1):
        makeup, rest = divmod(run, 64)
        table.append((codes[64 * makeup] if makeup else "") + codes[rest])
    return table


_RUN_CODE = (_full_run_table(WHITE_CODES), _full_run_table(BLACK_CODES))  # [colour][run]


def _run(colour: int, run: int) -> str:
    if run <= _MAX_RUN:
        return _RUN_CODE[colour][run]
    whole, rest = divmod(run, _MAX_RUN)
    return (WHITE_CODES if colour == 0 else BLACK_CODES)[_MAX_RUN] * whole + _RUN_CODE[colour][rest]


# Decoding tables: the next PEEK bits as an integer -> (run, code length); run -1 = not a code.
_PEEK = 13


def _peek_table(codes: dict[int, str], width: int) -> list[tuple[int, int]]:
    table = [(-1, 0)] * (1 << width)
    for value, code in codes.items():
        spare = width - len(code)
        base = int(code, 2) << spare
        for low in range(1 << spare):
            table[base | low] = (value, len(code))
    return table


_RUN_PEEK = (_peek_table(WHITE_CODES, _PEEK), _peek_table(BLACK_CODES, _PEEK))

# 2-D modes: 0..6 = vertical a1-b1 of -3..3, 7 = pass, 8 = horizontal.
_MODE_PEEK_BITS = 7
_MODE_CODES = {d + 3: code for d, code in _VERTICAL.items()} | {7: _PASS, 8: _HORIZONTAL}
_MODE_PEEK = _peek_table(_MODE_CODES, _MODE_PEEK_BITS)
_PASS_MODE, _HORIZONTAL_MODE = 7, 8

# ---- Bit order -------------------------------------------------------------------------------

_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))
_INVERTED = bytes(255 - b for b in range(256))
_LINE_ORDER_BITS = [f"{b:08b}"[::-1] for b in range(256)]  # octet -> its bits as sent


def reverse_bits(data: bytes) -> bytes:
    """Swap line order (LSB first) and TIFF FillOrder=1 (MSB first) octet by octet."""
    return data.translate(_REVERSED)


def _to_line_bits(data: bytes) -> str:
    return "".join([_LINE_ORDER_BITS[b] for b in data])


def _from_line_bits(bits: str) -> bytes:
    """A '0'/'1' string in line order -> octets, first bit in bit 0, zero-padded at the end."""
    if not bits:
        return b""
    nbytes = (len(bits) + 7) // 8
    return int(bits[::-1], 2).to_bytes(nbytes, "little")


# ---- Bitmaps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bitmap:
    """A page image: ``height`` rows of ``width`` pels, each row ``stride`` octets, the first
    pel in the most significant bit, 1 = black (TIFF PhotometricInterpretation min-is-white)."""

    width: int
    height: int
    data: bytes

    def __post_init__(self) -> None:
        if len(self.data) != self.stride * self.height:
            raise ValueError(f"{len(self.data)} octets for {self.height} rows of {self.stride}")

    @property
    def stride(self) -> int:
        return (self.width + 7) // 8

    def row(self, index: int) -> bytes:
        return self.data[index * self.stride : (index + 1) * self.stride]

    def rows(self) -> Iterator[bytes]:
        stride = self.stride
        for start in range(0, len(self.data), stride):
            yield self.data[start : start + stride]

    @classmethod
    def from_rows(cls, width: int, rows: Iterable[bytes]) -> Bitmap:
        rows = list(rows)
        return cls(width, len(rows), b"".join(rows))

    @classmethod
    def blank(cls, height: int, width: int = A4_WIDTH) -> Bitmap:
        return cls(width, height, bytes((width + 7) // 8 * height))

    @classmethod
    def from_image(cls, image: Image.Image) -> Bitmap:
        """From a Pillow image of any mode (dithered to 1 bit if needed); Pillow's "1" mode is
        0 = black, so the octets are inverted."""
        if image.mode != "1":
            image = image.convert("1")
        return cls(image.width, image.height, image.tobytes().translate(_INVERTED))

    def to_image(self) -> Image.Image:
        from PIL import Image

        return Image.frombytes("1", (self.width, self.height), self.data.translate(_INVERTED))

    def black_pels(self) -> int:
        return int.from_bytes(self.data).bit_count()


def _changes(row: bytes, width: int) -> list[int]:
    """Changing elements of a row (T.4 4.2.1.3.1): positions whose colour differs from the
    pel before; the line starts with an imaginary white pel. Even index = turns black."""
    if row.count(0) == len(row):
        return []  # most of a page is white: skip the conversion
    bits = format(int.from_bytes(row, "big"), f"0{len(row) * 8}b")[:width]
    out: list[int] = []
    for match in _BLACK_RUN.finditer(bits):
        out.append(match.start())
        if match.end() < width:
            out.append(match.end())
    return out


_BLACK_RUN = re.compile("1+")


def _row_from_changes(changes: list[int], width: int) -> bytes:
    parts = []
    previous = 0
    colour = "0"
    for position in changes:
        parts.append(colour * (position - previous))
        previous = position
        colour = "1" if colour == "0" else "0"
    parts.append(colour * (width - previous))
    stride = (width + 7) // 8
    bits = "".join(parts) + "0" * (stride * 8 - width)
    return int(bits, 2).to_bytes(stride, "big")


# ---- Encoding --------------------------------------------------------------------------------


def min_line_bits(bit_rate: int, scan_ms: int) -> int:
    """Bits a coded line must last for a minimum scan line time (T.30 DIS bits 21-23)."""
    return -(-bit_rate * scan_ms // 1000)


@dataclass(frozen=True)
class EncodeOptions:
    coding: Coding = Coding.MH
    #: MR: one 1-D line then k-1 2-D lines (T.4 4.2.1: k=2 at 3.85 l/mm, 4 at 7.7 l/mm), so an
    #: error spoils at most k lines.
    k: int = 2
    #: Minimum bits per coded line, EOL included (T.4 4.1.3 FILL); see :func:`min_line_bits`.
    min_line_bits: int = 0
    #: Pad so each EOL ends on an octet boundary (T.4 4.1.3, TIFF T4Options bit 2).
    align_eol: bool = False
    #: End with RTC (T.4 4.1.4) / EOFB (T.6 2.4.1.1). TIFF strips omit it.
    end_of_page: bool = True


def _code_1d(changes: list[int], width: int) -> str:
    parts = []
    previous = 0
    colour = 0
    for position in changes:
        parts.append(_run(colour, position - previous))
        previous = position
        colour ^= 1
    parts.append(_run(colour, width - previous))
    return "".join(parts)


def _code_2d(changes: list[int], reference: list[int], width: int) -> str:
    """T.4 4.2.1.3 coding procedure (flowchart Figure 7), one line against its reference."""
    parts = []
    coding = changes + [width, width]
    ref = reference + [width, width, width]  # b2 of a b1 moved past the end still exists
    a0, colour = -1, 0
    while a0 < width:
        i = bisect_right(coding, a0) if a0 >= 0 else 0
        a1 = coding[i]
        # b1: first changing element on the reference line right of a0 and of the opposite
        # colour to a0's, i.e. turning to colour^1: even index turns black.
        j = bisect_right(ref, a0) if a0 >= 0 else 0
        if j % 2 != colour:
            j += 1
        b1, b2 = ref[j], ref[j + 1]
        if b2 < a1:
            parts.append(_PASS)
            a0 = b2
        elif -3 <= a1 - b1 <= 3:
            parts.append(_VERTICAL[a1 - b1])
            a0 = a1
            colour ^= 1
        else:
            a2 = coding[i + 1]
            parts.append(_HORIZONTAL + _run(colour, a1 - max(a0, 0)) + _run(colour ^ 1, a2 - a1))
            a0 = a2
    return "".join(parts)


def encode(bitmap: Bitmap, options: EncodeOptions = EncodeOptions()) -> bytes:
    """Code a page; returns line-order octets (see the module's note on bit order)."""
    width = bitmap.width
    coded = [_changes(row, width) for row in bitmap.rows()]
    if options.coding is Coding.MMR:
        return _from_line_bits(_encode_mmr(coded, width, options))
    parts: list[str] = []
    length = 0

    def eol(tag: str) -> None:
        nonlocal length
        if options.align_eol:
            fill = (-(length + len(EOL))) % 8
            parts.append("0" * fill)
            length += fill
        parts.append(EOL + tag)
        length += len(EOL) + len(tag)

    two_d = options.coding is Coding.MR
    reference: list[int] = []
    for index, changes in enumerate(coded):
        one_d = not two_d or index % options.k == 0
        tag = ("1" if one_d else "0") if two_d else ""
        eol(tag)
        line = _code_1d(changes, width) if one_d else _code_2d(changes, reference, width)
        # FILL goes between a line's data and the next EOL (T.4 4.1.3).
        fill = options.min_line_bits - len(line) - len(EOL) - len(tag)
        parts.append(line + "0" * fill if fill > 0 else line)
        length += len(parts[-1])
        reference = changes
    if options.end_of_page:
        for _ in range(6):  # RTC: six EOLs, each with tag bit 1 in MR (T.4 4.1.4, 4.2.4)
            eol("1" if two_d else "")
    return _from_line_bits("".join(parts))


def _encode_mmr(coded: list[list[int]], width: int, options: EncodeOptions) -> str:
    # T.6: every line 2-D against the one above, the first against an imaginary white line;
    # no EOL, no fill; EOFB (two EOLs) ends the page, then padding to an octet.
    parts = []
    reference: list[int] = []
    for changes in coded:
        parts.append(_code_2d(changes, reference, width))
        reference = changes
    if options.end_of_page:
        parts.append(EOL + EOL)
    return "".join(parts)


# ---- Decoding --------------------------------------------------------------------------------


class LineError(FaxError):
    """One coded line could not be decoded (internal: it becomes a bad line)."""


@dataclass(frozen=True)
class DecodedPage:
    """A received page: its image (each bad line replaced by the line above it, as fax
    machines print them) and the counts a copy-quality check needs."""

    bitmap: Bitmap
    good_lines: int
    bad_lines: int
    longest_bad_run: int  #: most consecutive bad lines
    end_of_page: bool  #: RTC (or EOFB) was seen: the page was not cut short

    @property
    def lines(self) -> int:
        return self.good_lines + self.bad_lines


_EOL_RE = re.compile("0{11,}1")
#: EOLs in a row that end a page (T.4 4.1.4: RTC is six; fewer here survive a hit EOL).
RTC_EOLS = 4
_PAD = "0" * 32  # so a peek past the end reads zeros, as FILL would


def _read_run(bits: str, pos: int, colour: int) -> tuple[int, int]:
    """A complete run (make-ups then a terminating code) of ``colour`` at ``pos``."""
    table = _RUN_PEEK[colour]
    total = 0
    while True:
        run, size = table[int(bits[pos : pos + _PEEK], 2)]
        if run < 0:
            raise LineError(f"no {'black' if colour else 'white'} code at bit {pos}")
        pos += size
        total += run
        if run < 64:
            return total, pos


def _decode_1d(bits: str, pos: int, width: int) -> tuple[list[int], int]:
    changes: list[int] = []
    a0 = 0
    colour = 0
    while a0 < width:
        run, pos = _read_run(bits, pos, colour)
        a0 += run
        if a0 > width:
            raise LineError(f"runs add up to {a0} pels, more than {width}")
        if a0 < width:
            if changes and changes[-1] == a0:
                changes.pop()  # a zero-length run: the two changes cancel
            else:
                changes.append(a0)
        colour ^= 1
    return changes, pos


def _decode_2d(bits: str, pos: int, reference: list[int], width: int) -> tuple[list[int], int]:
    changes: list[int] = []
    ref = reference + [width, width, width]  # b2 of a b1 moved past the end still exists
    a0, colour = -1, 0
    while a0 < width:
        mode, size = _MODE_PEEK[int(bits[pos : pos + _MODE_PEEK_BITS], 2)]
        if mode < 0:
            raise LineError(f"no 2-D mode code at bit {pos}")
        pos += size
        j = bisect_right(ref, a0) if a0 >= 0 else 0
        if j % 2 != colour:
            j += 1
        b1 = ref[j]
        if mode == _PASS_MODE:
            if ref[j + 1] >= width:
                raise LineError("pass mode beyond the end of the line")
            a0 = ref[j + 1]
        elif mode == _HORIZONTAL_MODE:
            run1, pos = _read_run(bits, pos, colour)
            run2, pos = _read_run(bits, pos, colour ^ 1)
            a1 = max(a0, 0) + run1
            a2 = a1 + run2
            # a1 must lie right of a0 (except at the line's start) and a2 right of a1.
            if a2 > width or (run1 == 0 and a0 >= 0) or (run2 == 0 and a1 < width):
                raise LineError(f"horizontal mode runs {run1}, {run2} from {a0}")
            changes += [a1, a2] if a2 < width else [a1] if a1 < width else []
            a0 = a2
        else:
            a1 = b1 + mode - 3
            if a1 > width or a1 < 0 or a1 <= a0:
                raise LineError(f"vertical mode to {a1} from {a0}")
            if a1 < width:
                changes.append(a1)
            a0 = a1
            colour ^= 1
    return changes, pos


def decode(data: bytes, coding: Coding = Coding.MH, width: int = A4_WIDTH,
           max_lines: int = 10_000) -> DecodedPage:
    """Decode one page of line-order octets, counting good and bad lines.

    MH/MR: the data is cut at EOLs (with any FILL before them), each line decoded on its own;
    a line that does not decode to exactly ``width`` pels is bad and replaced by the line above.
    The page ends at RTC: :data:`RTC_EOLS` EOLs in a row (RTC is six; spandsp waits for all six).
    A shorter run of EOLs inside the page is damage, one bad line: noise makes "EOL EOL" often
    enough that ending the page there silently dropped the rest of it (seen in the lab).
    MMR (T.6) has no EOLs to resynchronise on: after an error the rest of the page is lost.
    """
    bits = _to_line_bits(data)
    if coding is Coding.MMR:
        return _decode_mmr(bits, width, max_lines)
    builder = _PageBuilder(width)
    segments = _EOL_RE.split(bits)
    # segments[0] precedes the first EOL: leading fill or noise before the page, not a line.
    reference: list[int] = []
    empty_run = 0  # segments with no data since the last line: EOLs in a row, less one
    for segment in segments[1:]:
        if len(builder.rows) >= max_lines:
            break
        if coding is Coding.MR:
            tag, segment = segment[:1], segment[1:]
        if "1" not in segment:  # nothing (or zeros short of an EOL) between two EOLs
            empty_run += 1
            if empty_run >= RTC_EOLS - 1 and (builder.rows or builder.bad_lines):
                builder.end_of_page = True
                break
            continue
        if empty_run and (builder.rows or builder.bad_lines):
            reference = builder.bad_line()  # EOLs in a row mid-page: a line was lost there
        empty_run = 0
        try:
            if coding is Coding.MR and tag == "0":
                if not builder.rows:
                    raise LineError("a 2-D line with no line above it")
                changes, pos = _decode_2d(segment + _PAD, 0, reference, width)
            else:
                changes, pos = _decode_1d(segment + _PAD, 0, width)
            if "1" in segment[pos:]:
                raise LineError(f"{len(segment) - pos} stray bits after the line")
        except LineError:
            reference = builder.bad_line()
            continue
        builder.good_line(changes)
        reference = changes
    if empty_run >= 2 and (builder.rows or builder.bad_lines):
        builder.end_of_page = True  # an RTC the data ends in, shortened by the modem or noise
    return builder.page()


def _decode_mmr(bits: str, width: int, max_lines: int) -> DecodedPage:
    builder = _PageBuilder(width)
    bits += _PAD
    end = len(bits) - len(_PAD)
    pos = 0
    reference: list[int] = []
    while pos < end and len(builder.rows) < max_lines:
        if bits.startswith(EOL + EOL, pos):
            builder.end_of_page = True
            break
        try:
            reference, pos = _decode_2d(bits, pos, reference, width)
        except LineError:
            builder.bad_line()
            break
        builder.good_line(reference)
    return builder.page()


class _PageBuilder:
    """Collects decoded rows; a bad line repeats the last good one (or is white at the top)."""

    def __init__(self, width: int):
        self.width = width
        self.rows: list[bytes] = []
        self.changes: list[int] = []
        self.good_lines = self.bad_lines = self.run = self.longest_run = 0
        self.end_of_page = False

    def good_line(self, changes: list[int]) -> None:
        self.rows.append(_row_from_changes(changes, self.width))
        self.changes = changes
        self.good_lines += 1
        self.run = 0

    def bad_line(self) -> list[int]:
        self.rows.append(self.rows[-1] if self.rows else bytes((self.width + 7) // 8))
        self.bad_lines += 1
        self.run += 1
        self.longest_run = max(self.longest_run, self.run)
        return self.changes  # the next 2-D line is decoded against what was printed

    def page(self) -> DecodedPage:
        bitmap = Bitmap.from_rows(self.width, self.rows)
        return DecodedPage(bitmap, self.good_lines, self.bad_lines, self.longest_run,
                           self.end_of_page)


# ---- Copy quality ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyQualityPolicy:
    """A receiver's copy-quality criteria, named as HylaFAX names them (``PercentGoodLines``,
    ``MaxConsecutiveBadLines``); T.30 5.3.6.2.5 leaves the criteria to the receiver."""

    percent_good_lines: float = 95.0
    max_consecutive_bad_lines: int = 5

    def acceptable(self, page: DecodedPage | PageQuality) -> bool:
        if page.lines == 0:
            return False  # nothing decodable at all: an empty or all-garbage page
        if not page.end_of_page:
            # No RTC: the carrier dropped or noise ate the page's end. The lines that never came
            # are in no count (measured in the lab: 185 of 1100 rows, 5 bad, would pass).
            return False
        return (100.0 * page.good_lines / page.lines >= self.percent_good_lines
                and page.longest_bad_run <= self.max_consecutive_bad_lines)

    def response(self, page: DecodedPage | PageQuality) -> FCF:
        """The post-message response a non-ECM receiver sends: MCF, or RTN to get it again."""
        return FCF.MCF if self.acceptable(page) else FCF.RTN


def check_page(data: bytes, session: Session) -> PageQuality:
    """The T.30 engine's ``PageChecker``: decode a received page in its session's coding."""
    page = decode(data, session.coding, session.width.value[0])
    return PageQuality(page.good_lines, page.bad_lines, page.longest_bad_run, page.end_of_page)
