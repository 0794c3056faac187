"""What the engine needs from the page codec, and nothing more.

The T.4 codec (``t4.py``) turns bitmaps into coded lines and back; the engine only asks a
sender's page for its coded bytes once DCS has fixed the session (``documents.FaxPage``), and
asks a receiver's checker (``t4.check_page``) to count a received page's good and bad lines;
``t4.CopyQualityPolicy`` then says MCF or RTN. Both are plain callables so tests can fake them.
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
    end_of_page: bool = True  #: RTC (MH/MR) or EOFB (MMR) seen: the page was not cut short

    @property
    def lines(self) -> int:
        return self.good_lines + self.bad_lines


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
    #: The sender followed it with a post-page command; False: the line dropped in or after it.
    complete: bool = True
    pprs: int = 0  #: ECM: partial page requests we sent before it was whole
