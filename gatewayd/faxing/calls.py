"""A fax call record as the business reads it: the one decoder of a ``fax_call`` payload.

The driver stores its ``drivers.fax.record.FaxCall`` as plain JSON (enums as their values, times
as ISO strings); staff may type one in (``POST /events``). :func:`decode_call` reads either as a
typed record -- :class:`SentFax` for an outgoing call (its job, the outgoing register, billing by
time and destination), :class:`ReceivedFax` for a received one (the incoming register, the notify
command, the pickup billed per page, the monthly report) -- or refuses it with ``InvalidValue``
naming the field. Each field's name, type and limits are decided here; nothing else reads a call's
payload by key.

Every transmission of every page is kept in order, so billing sees a page the receiver rejected
(RTN/PPR, an ErrorPage) and then resent as such, and charges it once per the price list's policy.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from drivers.fax.record import CallStatus, HangupCode, PageStatus
from gatewayd import billing
from gatewayd.errors import InvalidValue

#: Highest page number a record may name (a job has at most ``[documents] max_pages``, 100 by default).
MAX_PAGE = 10_000
#: Longest call a record may claim: a day of line time is no fax call.
MAX_DURATION_S = 86_400

E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True)
class Page:
    """One page of a call: every transmission's answer, and the driver's verdict."""

    page: int  #: 1-based, numbered as the job numbers its pages (a retry sends page 3 as 3)
    delivered: bool  #: the far end has it (or, received, we kept it whole)
    error_page: bool  #: some transmission was an ErrorPage (错页)
    answers: tuple[PageStatus, ...]  #: each transmission's answer, in order


@dataclass(frozen=True)
class SentFax:
    """An outgoing call as its job, the outgoing register (发报记录本) and billing read it."""

    job_id: int | None  #: the job it was made for; None for a call staff typed in without one
    usage: billing.FaxCallUsage  #: what billing rates: dialled number, times, every transmission
    hangup: HangupCode  #: why the call ended: the job's retry decision reads it
    duration_s: Decimal  #: connect to hang-up as recorded (the register's line time)
    remote_station_id: str  #: the far end's CSI
    pages: tuple[Page, ...]

    @property
    def delivered(self) -> frozenset[int]:
        return frozenset(p.page for p in self.pages if p.delivered)

    @property
    def error_pages(self) -> frozenset[int]:
        return frozenset(p.page for p in self.pages if p.error_page)


@dataclass(frozen=True)
class ReceivedFax:
    """A received fax's call record as the incoming register keeps it and its pickup is billed."""

    pages: int  #: pages delivered whole: what the register counts and the pickup is billed for
    error_pages: int  #: pages the driver flagged ErrorPage (a copy we rejected), each once
    called_number: str
    caller_id: str
    remote_station_id: str
    subaddress: str
    status: CallStatus
    hangup_reason: str  #: the driver's words for how the call ended
    document_path: str


def decode_call(payload: dict[str, Any]) -> SentFax | ReceivedFax:
    """A call record as billing, the jobs and the registers read it: an outgoing call, or a
    received fax; ``InvalidValue`` naming what is wrong (a hand-entered record may be anything)."""
    direction = payload.get("direction")
    if direction == "incoming":
        return _received(payload)
    if direction == "outgoing":
        return _sent(payload)
    raise InvalidValue(f"payload.direction must be \"incoming\" or \"outgoing\", got {direction!r}")


def _sent(payload: dict[str, Any]) -> SentFax:
    number = _text(payload, "number")
    if not number:
        raise InvalidValue("payload.number must be the number dialled, as text (e.g. \"9,0085221234567\")")
    started = _time(payload, "dialled_at") or _time(payload, "occurred_at")
    if started is None:
        raise InvalidValue("payload.dialled_at (or payload.occurred_at) must say when the call was made")
    connected = _time(payload, "connected_at")
    duration = _seconds(payload.get("duration_s", 0))
    pages = _pages(payload)
    hangup = _hangup(payload)
    status = _choice(payload.get("status"), CallStatus, "payload.status")
    try:
        usage = billing.FaxCallUsage(
            dialed=number, started_at=started, connected_at=connected,
            # Carriers bill whole seconds; a fraction of one is a second begun.
            duration_s=math.ceil(duration) if connected else 0,
            pages=tuple(billing.PageOutcome(p.page, _outcome(a)) for p in pages for a in p.answers) if connected else (),
            completed=status is CallStatus.COMPLETED,
            hangup_reason=_text(hangup, "reason", "payload.hangup."),
        )
    except billing.InvalidUsage as err:
        raise InvalidValue(f"payload: {err}") from err
    job = payload.get("job_id")
    if job is not None and not (isinstance(job, str) and job.isascii() and job.isdigit() and len(job) <= 18):
        raise InvalidValue(f"payload.job_id must be a fax job's number as text (e.g. \"12\"), got {job!r}")
    return SentFax(
        job_id=int(job) if job is not None else None, usage=usage,
        hangup=_choice(hangup.get("code", HangupCode.MODEM_ERROR.value), HangupCode, "payload.hangup.code"),
        duration_s=duration, remote_station_id=_text(payload, "remote_station_id").strip(), pages=pages)


def _received(payload: dict[str, Any]) -> ReceivedFax:
    pages = _pages(payload)
    hangup = _hangup(payload)
    return ReceivedFax(
        pages=sum(1 for page in pages if page.delivered),
        error_pages=sum(1 for page in pages if page.error_page),
        called_number=_text(payload, "number"), caller_id=_text(payload, "caller_id"),
        remote_station_id=_text(payload, "remote_station_id").strip(), subaddress=_text(payload, "subaddress"),
        status=_choice(payload.get("status"), CallStatus, "payload.status"),
        hangup_reason=_text(hangup, "reason", "payload.hangup."), document_path=_text(payload, "document_path"))


def _pages(payload: dict[str, Any]) -> tuple[Page, ...]:
    found = payload.get("pages", [])
    if not isinstance(found, list) or not all(isinstance(p, dict) for p in found):
        raise InvalidValue("payload.pages must be a list of pages like {\"page\": 1, \"delivered\": true}")
    return tuple(_page(item, f"payload.pages[{i}]") for i, item in enumerate(found))


def _page(item: dict[str, Any], at: str) -> Page:
    number = item.get("page")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PAGE:
        raise InvalidValue(f"{at}.page must be a page number from 1 to {MAX_PAGE}, got {number!r}")
    attempts = item.get("attempts", [])
    if not isinstance(attempts, list) or not all(isinstance(a, dict) for a in attempts):
        raise InvalidValue(f"{at}.attempts must be a list of transmissions like {{\"status\": \"MCF\"}}")
    return Page(page=number, delivered=_flag(item, "delivered", at), error_page=_flag(item, "error_page", at),
                answers=tuple(_choice(a.get("status"), PageStatus, f"{at}.attempts[{j}].status")
                              for j, a in enumerate(attempts)))


def _outcome(answer: PageStatus) -> billing.PageResult:
    """A transmission as billing counts it, by the driver's own reading of the answer."""
    if answer.error_page:
        return billing.PageResult.ERROR_PAGE
    if answer.delivered:
        return billing.PageResult.CONFIRMED
    return billing.PageResult.UNCONFIRMED


def _hangup(payload: dict[str, Any]) -> dict[str, Any]:
    hangup = payload.get("hangup") or {}
    if not isinstance(hangup, dict):
        raise InvalidValue(f"payload.hangup must be like {{\"code\": \"normal\", \"reason\": \"...\"}}, got {hangup!r}")
    return hangup


def _text(payload: dict[str, Any], key: str, at: str = "payload.") -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidValue(f"{at}{key} must be text, got {value!r}")
    return value


def _seconds(value: Any) -> Decimal:
    """A duration as the driver records it (a number) or as the API stores a typed one (exact
    decimal text, "191.4")."""
    seconds = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            seconds = Decimal(str(value))
        except ArithmeticError:
            pass
    if seconds is None or not seconds.is_finite() or not 0 <= seconds <= MAX_DURATION_S:
        raise InvalidValue(f"payload.duration_s must be a number of seconds from 0 to {MAX_DURATION_S}, got {value!r}")
    return seconds


def _flag(item: dict[str, Any], key: str, at: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise InvalidValue(f"{at}.{key} must be true or false, got {value!r}")
    return value


def _time(payload: dict[str, Any], key: str) -> datetime | None:
    value = payload.get(key)
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.utcoffset() is None:
        raise InvalidValue(f"payload.{key} must be a time with its offset (e.g. 2026-11-25T10:00:00+08:00), "
                           f"got {value!r}")
    return when


def _choice(value: Any, kind: type[E], field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidValue(f"{field} must be one of {', '.join(str(m.value) for m in kind)}, got {value!r}") from None
