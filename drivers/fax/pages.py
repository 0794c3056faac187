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
