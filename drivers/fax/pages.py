"""What the engine needs from the page codec, and nothing more.

The T.4 codec (``t4.py``, the lab engineer's) turns bitmaps into coded lines and back; the
engine only asks a sender's page for its coded bytes once DCS has fixed the session, and asks a
receiver's checker how good a received page is. Both are plain callables so tests can fake them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .frames import Session


class OutgoingPage(Protocol):
    """One page to send; coded only when the session (resolution, coding, scan time) is known."""

    def encode(self, session: Session) -> bytes:
        """T.4 data as the modem sends it (first bit in the LSB), with EOLs, fill and RTC."""
        ...


@dataclass(frozen=True)
class PageQuality:
    """A receiver's copy-quality check of one page (T.30 5.3.6.2.5 leaves the criteria to us)."""

    good_lines: int
    bad_lines: int
    longest_bad_run: int = 0

    def acceptable(self, min_good_fraction: float = 0.95, max_bad_run: int = 20) -> bool:
        total = self.good_lines + self.bad_lines
        if total == 0:
            return False  # nothing decodable at all: an empty or all-garbage page
        return self.good_lines / total >= min_good_fraction and self.longest_bad_run <= max_bad_run


PageChecker = Callable[[bytes, Session], PageQuality]


@dataclass(frozen=True)
class CodedPage:
    """A page already coded (tests, or a spool that stores T.4); the session is not consulted."""

    data: bytes

    def encode(self, session: Session) -> bytes:
        return self.data


@dataclass(frozen=True)
class ReceivedPage:
    """A page the receiver kept, with what the checker said and the session it came in."""

    data: bytes
    session: Session
    quality: PageQuality
    good: bool


def _eol_positions(bits: str) -> list[int]:
    out = []
    start = 0
    while (i := bits.find("000000000001", start)) >= 0:
        out.append(i + 12)
        start = i + 12
    return out


def eol_line_checker(data: bytes, session: Session) -> PageQuality:
    """An interim, structural copy-quality check, until ``t4.py``'s decoder is wired in.

    It splits the MH/MR stream at EOLs and calls a line bad when its code cannot describe one
    1728-pel row: shorter than the shortest such code (2 bits, MR "V0" for an all-white row
    under MR; 17 for MH) or longer than the longest (every pel a 2-pel run, ~10 bits each).
    Noise that keeps EOLs intact slips through; a real decode is the better judge.
    """
    bits = "".join(f"{byte:08b}"[::-1] for byte in data)  # first bit in the LSB (T.31 8.5)
    eols = _eol_positions(bits)
    good = bad = run = longest = 0
    shortest = 2 if session.coding.value == "MR" else 17
    for start, end in zip(eols, eols[1:]):
        length = len(bits[start:end - 12].strip("0")) if end - 12 > start else 0
        if length == 0:
            continue  # consecutive EOLs: RTC, or fill between EOLs
        if shortest <= length + 1 and length <= 1728 * 10:
            good += 1
            run = 0
        else:
            bad += 1
            run += 1
            longest = max(longest, run)
    return PageQuality(good, bad, longest)
