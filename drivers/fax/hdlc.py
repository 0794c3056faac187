"""HDLC framing at the bit level (ISO 13239 as used by T.30 Annex A), sans-IO.

A Class 1 modem frames V.21 control frames itself, but spandsp's T.31 (like most real modems)
offers ``+FTH/+FRH`` only at 300 bit/s, so ECM image frames travel over ``+FTM/+FRM`` and the DTE
must add flags, FCS and zero-bit insertion itself -- as HylaFAX does. Bits go on the line LSB
first, and Class 1 carries them LSB first in each byte (T.31 clause 8.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from .frames import crc16, fcs

FLAG = 0x7E


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._n = 0

    def bit(self, b: int) -> None:
        self._acc |= b << self._n
        self._n += 1
        if self._n == 8:
            self.out.append(self._acc)
            self._acc = 0
            self._n = 0

    def flag(self) -> None:
        for i in range(8):
            self.bit((FLAG >> i) & 1)

    def pad_with_flags(self) -> None:
        # Finish the last byte with flag bits; a receiver sees them as (part of) idle flags.
        i = 0
        while self._n:
            self.bit((FLAG >> (i % 8)) & 1)
            i += 1


def encode_frames(frames: list[bytes], preamble_flags: int = 1, closing_flags: int = 2) -> bytes:
    """Flags, each frame with its FCS and zero-bit insertion, flags between and after."""
    w = _BitWriter()
    for _ in range(preamble_flags):
        w.flag()
    for frame in frames:
        ones = 0
        for byte in bytes(frame) + fcs(frame):
            for i in range(8):
                b = (byte >> i) & 1
                w.bit(b)
                if b:
                    ones += 1
                    if ones == 5:  # five ones in a row: insert a zero so data never looks like a flag
                        w.bit(0)
                        ones = 0
                else:
                    ones = 0
        w.flag()
    for _ in range(closing_flags - 1):
        w.flag()
    w.pad_with_flags()
    return bytes(w.out)


@dataclass(frozen=True)
class ReceivedFrame:
    data: bytes  #: without FCS
    fcs_ok: bool


class HdlcDecoder:
    """Feed bytes as +FRM delivers them; collect frames between flags."""

    #: Shortest frame worth reporting: address, control, FCF/type and FCS.
    MIN_LEN = 4

    def __init__(self) -> None:
        self.frames: list[ReceivedFrame] = []
        self._ones = 0
        self._bits: list[int] = []
        self._in_frame = False

    def feed(self, data: bytes) -> list[ReceivedFrame]:
        start = len(self.frames)
        for byte in data:
            for i in range(8):
                self._bit((byte >> i) & 1)
        return self.frames[start:]

    def _bit(self, b: int) -> None:
        # Ones are held back until the next zero says whether they were data, a flag or an abort.
        if b:
            self._ones += 1
            if self._ones >= 7:  # abort / idle ones: drop any frame in progress
                self._in_frame = False
                self._bits.clear()
            return
        ones = self._ones
        self._ones = 0
        if ones == 6:  # 0111111 + this 0 = flag; its leading 0 is already in _bits
            if self._bits:
                self._bits.pop()
            self._end_frame()
            self._in_frame = True
            self._bits.clear()
            return
        if not self._in_frame:
            return
        self._bits.extend([1] * ones)
        if ones != 5:  # after five ones a zero is stuffing, not data
            self._bits.append(0)

    def _end_frame(self) -> None:
        bits = self._bits
        if not self._in_frame or len(bits) % 8 or len(bits) < 8 * self.MIN_LEN:
            return
        body = bytes(
            sum(bits[i + k] << k for k in range(8)) for i in range(0, len(bits), 8)
        )
        # The residue of a good frame run through the CRC with its FCS (ISO 13239 4.2.5.2).
        ok = crc16(body) == 0xF0B8
        self.frames.append(ReceivedFrame(body[:-2], ok))
