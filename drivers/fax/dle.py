"""DLE shielding of Class 1 data (T.31 clause 4.5.1 / V.250 data mode), sans-IO.

Between ``CONNECT`` and the end of a data transfer the modem and the DTE exchange raw bytes in
which DLE (0x10) is an escape: ``DLE DLE`` is one data DLE and ``DLE ETX`` ends the stream.
T.31 also lets the modem send ``DLE SUB`` for two data DLEs; other ``DLE x`` pairs are in-band
signals we ignore (they carry no data).

The decoder follows the pymodbus framer shape: :func:`unstuff` is a pure function that says how
many bytes it used and what data they held, so the caller can keep the rest (a lone DLE at the end
of a read, the result code after DLE ETX) and call again with more bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

DLE = 0x10
ETX = 0x03
SUB = 0x1A

#: What the DTE sends to end a transmission (T.31 clause 8.3.3).
END_OF_DATA = bytes((DLE, ETX))


def stuff(data: bytes) -> bytes:
    """Double every DLE so the modem reads ``data`` as data."""
    return data.replace(b"\x10", b"\x10\x10")


@dataclass(frozen=True)
class Unstuffed:
    #: Bytes of the input consumed; the caller drops these and keeps the rest.
    used: int
    #: The data they carried, DLE shielding removed.
    data: bytes
    #: True when ``DLE ETX`` was consumed: the stream is over and what follows is result codes.
    ended: bool


def unstuff(buf: bytes | bytearray) -> Unstuffed:
    """Decode as much of ``buf`` as is complete.

    A trailing lone DLE is left unused ("need more"), so any split of the stream into chunks
    decodes to the same data.
    """
    out = bytearray()
    i = 0
    n = len(buf)
    while i < n:
        j = buf.find(DLE, i)
        if j < 0:
            out += buf[i:]
            i = n
            break
        out += buf[i:j]
        if j + 1 >= n:
            i = j  # lone DLE: need the next byte to know what it means
            break
        code = buf[j + 1]
        i = j + 2
        if code == ETX:
            return Unstuffed(i, bytes(out), True)
        if code == DLE:
            out.append(DLE)
        elif code == SUB:
            out += b"\x10\x10"
        # any other DLE pair is an in-band signal (T.31 Table 5) and carries no data
    return Unstuffed(i, bytes(out), False)


class Unstuffer:
    """Stateful convenience wrapper: feed chunks, collect data until ``DLE ETX``."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self.data = bytearray()
        self.ended = False

    def feed(self, chunk: bytes) -> bytes:
        """Take ``chunk``; return the bytes after ``DLE ETX`` (not ours to decode) once ended."""
        if self.ended:
            return chunk
        self._pending += chunk
        result = unstuff(self._pending)
        self.data += result.data
        del self._pending[: result.used]
        if result.ended:
            self.ended = True
            rest = bytes(self._pending)
            self._pending.clear()
            return rest
        return b""
