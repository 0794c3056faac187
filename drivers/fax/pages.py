"""What the engine needs from the page codec, and nothing more.

The T.4 codec (``t4.py``) turns bitmaps into coded lines and back; the engine only asks a
sender's page for its coded bytes once DCS has fixed the session (``documents.FaxPage``), and
asks a receiver's checker (``t4.check_page``) to count a received page's good and bad lines;
``t4.CopyQualityPolicy`` then says MCF or RTN. Both are plain callables so tests can fake them.
A receiver's copies become pages here, for Class 1 and Class 2 alike: a resend after our RTN is
the same page again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .frames import Session
from .record import PageAttempt, PageResult, PageStatus


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


def received_transmissions(received: Sequence[ReceivedPage],
                           rtn_answered: Collection[int]) -> list[list[ReceivedPage]]:
    """Received images grouped by page (``rtn_answered``: the indexes in ``received`` we
    answered RTN). After our RTN the sender may send the page again (spandsp, HylaFAX's
    "retransmit") or go on to the next one ("ignore"); T.30 does not say which, so an image
    after an RTN is the same page again when it looks like it. Class 1 and Class 2 alike."""
    pages: list[list[ReceivedPage]] = []
    for i, copy in enumerate(received):
        if i - 1 in rtn_answered and _same_image(received[i - 1], copy):
            pages[-1].append(copy)
        else:
            pages.append([copy])
    return pages


def received_page_results(transmissions: Sequence[Sequence[ReceivedPage]]) -> tuple[PageResult, ...]:
    """One result per page however often it came, so it is counted (and billed) once; rejected
    (RTN) or cut short, it is an ErrorPage. A page got whole through ECM retransmission is not:
    its copy is exact. What is stored is each page's last copy (a resend replaces the copy we
    rejected)."""
    return tuple(
        PageResult(n + 1, _numbered(a for copy in copies for a in _received_attempts(copy)),
                   delivered=copies[-1].complete, error_page=not all(c.good for c in copies))
        for n, copies in enumerate(transmissions))


def _received_attempts(page: ReceivedPage) -> tuple[PageAttempt, ...]:
    """A received page's PPRs (ECM: we asked for frames again), then how it ended."""
    rate, resolution, ecm_ = page.session.speed.bit_rate, page.session.resolution.value, \
        page.session.ecm
    pprs = tuple(PageAttempt(n + 1, PageStatus.PARTIAL_PAGE_REQUEST, rate, resolution, ecm_)
                 for n in range(page.pprs))
    return pprs + (PageAttempt(page.pprs + 1, _received_status(page), rate, resolution, ecm_,
                               good_lines=page.quality.good_lines,
                               bad_lines=page.quality.bad_lines),)


def _numbered(attempts: Iterable[PageAttempt]) -> tuple[PageAttempt, ...]:
    return tuple(dataclasses.replace(a, attempt=n + 1) for n, a in enumerate(attempts))


def _same_image(rejected: ReceivedPage, copy: ReceivedPage) -> bool:
    """Is ``copy`` the sender's resend of the page we ``rejected``? Most of its inked rows are
    also in the rejected copy: noise spoils some rows of a page, another page shares few."""
    from . import t4  # t4 imports this module

    def inked(page: ReceivedPage) -> list[bytes]:
        bitmap = t4.decode(page.data, page.session.coding, page.session.width.value[0]).bitmap
        return [row for row in bitmap.rows() if any(row)]

    before, after = set(inked(rejected)), inked(copy)
    if not after:
        return not before
    return 2 * sum(row in before for row in after) >= len(after)


def _received_status(page: ReceivedPage) -> PageStatus:
    if not page.complete:
        return PageStatus.INTERRUPTED  # kept (and stored) as far as it came, not delivered
    return PageStatus.RECEIVED_GOOD if page.good else PageStatus.RECEIVED_BAD
