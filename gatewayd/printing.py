"""Print jobs on tickets: which ticket a finished CUPS job belongs to, and what it is billed.

Matching (tried in this order; DESIGN.md, Matching events to tickets):

1. The ticket id the job carries -- its ``job-account-id`` option first, then its name
   (``drivers.cups.marks.ticket_ref``) -- becomes ``EventIn.ticket`` (:func:`event_in`). A job
   naming a ticket that is settled, cancelled or unknown stays *unattributed*: the job said which
   ticket it was for, so no other ticket is guessed.
2. Else the queue's single active ``print`` ticket: one whose ``device`` is the queue's device
   (``[[cups.queues]] device``) or the queue's own name, in state open, in_progress,
   awaiting_meter or awaiting_customer. Two such tickets are ambiguous and match neither.
3. Else *unattributed*; staff attach it later (``POST /events/{id}/attach``), which bills it.

Billing (:class:`PrintJobs.bill`, run once when a job lands on a ticket, by matching or attach):
the desk's print policy lives with the prices (``gatewayd/billing/pages.py``, ``rate_print_job``:
outcome, typing and proofs, copies as sets). Sides are ``billed_sides`` as the driver counted
them (``drivers/cups/pages.py``: selected pages, N-up, every copy); media (PWG name) maps to the
price list's names (A4, A3...); the price is the table in force when the job finished. A job the
price list cannot price gets a 0.00 line naming what is missing, and staff add a manual line.

Charge lines keep the job's identity and CUPS' own figures in their ``inputs`` for the monthly
reconciliation.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from gatewayd import audit, events, tickets
from gatewayd.audit import Caller
from gatewayd.billing import BillingError, Colour, PrintJobUsage, rate
from gatewayd.errors import Conflict, InvalidValue
from gatewayd.models import DeviceEvent, Ticket, TicketKind

log = structlog.get_logger("gatewayd.printing")

KIND = "print_job"
#: ``params.service`` of a print ticket that is a typing job.
TYPING = "typing"

#: Price-list media names and the PWG names CUPS uses for them. B5 is JIS B5 as CUPS' PPD
#: mapping has it; ISO B5 is billed as B5 too (see ``_PWG_ALIASES``).
MEDIA: dict[str, str] = {
    "A3": "iso_a3_297x420mm",
    "A4": "iso_a4_210x297mm",
    "A5": "iso_a5_148x210mm",
    "B5": "jis_b5_182x257mm",
    "Letter": "na_letter_8.5x11in",
    "Legal": "na_legal_8.5x14in",
}
_PWG_ALIASES = {"iso_b5_176x250mm": "B5"}
_PRICE_LIST_MEDIA = {pwg: name for name, pwg in MEDIA.items()} | _PWG_ALIASES


def price_list_media(media: str) -> str:
    """``iso_a4_210x297mm`` -> ``A4``; a name the price list already uses passes through.

    An unknown PWG name passes through unchanged, so "not priced" names exactly what CUPS said.
    """
    if media in _PRICE_LIST_MEDIA:
        return _PRICE_LIST_MEDIA[media]
    by_name = {name.casefold(): name for name in MEDIA}
    return by_name.get(media.casefold(), media)


def pwg_media(media: str) -> str:
    """What staff type (``A4``) -> what CUPS wants (``iso_a4_210x297mm``); PWG names pass."""
    for name, pwg in MEDIA.items():
        if media.casefold() == name.casefold():
            return pwg
    if media in _PRICE_LIST_MEDIA or media.count("_") >= 2:  # PWG 5101.1 self-describing name
        return media
    raise InvalidValue(f"media must be one of {', '.join(MEDIA)} (or a PWG media name), got {media!r}")


def event_in(job: Any) -> events.EventIn:
    """A driver's ``PrintJobFinished`` as the ledger stores it, with the ticket it names."""
    # The CUPS driver's modules load only where printers are configured.
    from drivers.cups.marks import ticket_ref

    record = events.from_driver(job)
    ref = ticket_ref(job)
    return dataclasses.replace(record, ticket=ref, payload={**record.payload, "ticket_ref": ref})


@dataclass(frozen=True)
class PrintedJob:
    """What billing needs from a ``print_job`` payload: the driver's, or one staff typed in.

    Staff entering a job by hand may write the short form ``{"pages": 3, "copies": 2,
    "media": "A4", "colour": "mono", "duplex": false}`` (pages per copy); the driver's payload
    carries ``billed_sides`` for all copies.
    """

    queue: str
    job_id: int | None
    completed: bool
    outcome: str
    purpose: str | None
    media: str  # as the price list names it
    colour: Colour
    duplex: bool
    copies: int
    billed_sides: int
    #: sheets through the device (a duplex sheet once): what a sheet-counting copier's meter saw
    billed_sheets: int

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> PrintedJob:
        copies = _count(payload, "copies", 1, minimum=1)
        if "billed_sides" in payload:
            sides = _count(payload, "billed_sides", 0)
        elif "pages" in payload:
            sides = _count(payload, "pages", 0) * copies
        else:
            raise InvalidValue("a print_job payload needs billed_sides (as the CUPS driver records it) "
                               "or pages (per copy), e.g. {\"pages\": 3, \"copies\": 1, \"media\": \"A4\"}")
        colour = str(payload.get("colour", "mono"))
        if colour not in ("mono", "monochrome", "colour", "color"):
            raise InvalidValue(f"payload.colour must be mono or colour, got {colour!r}")
        duplex = payload.get("duplex")
        if duplex is None:
            duplex = str(payload.get("sides", "one-sided")).startswith("two-sided")
        outcome = str(payload.get("outcome", "completed"))
        return cls(
            queue=str(payload.get("queue", "")),
            job_id=payload.get("job_id") if isinstance(payload.get("job_id"), int) else None,
            completed=outcome == "completed",
            outcome=outcome,
            purpose=payload.get("purpose"),
            # A queue with no media default reports none; the desk's paper is A4.
            media=price_list_media(str(payload.get("media") or "A4")),
            colour=Colour.COLOUR if colour in ("colour", "color") else Colour.MONO,
            duplex=bool(duplex),
            copies=copies,
            billed_sides=sides,
            billed_sheets=_count(payload, "billed_sheets", sides),
        )

    def label(self) -> str:
        return f"job {self.queue}-{self.job_id}" if self.job_id is not None else "print job"


def _count(payload: dict[str, Any], key: str, default: int, minimum: int = 0) -> int:
    value = payload.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidValue(f"payload.{key} must be an integer of at least {minimum}, got {value!r}")
    return value


def _job_inputs(payload: dict[str, Any]) -> dict[str, Any]:
    """The job's identity and CUPS' own figures, kept beside our count on every charge line."""
    keys = ("server", "queue", "job_id", "job_name", "outcome", "purpose", "media", "colour", "sides",
            "copies", "number_up", "page_ranges", "document_pages", "page_count_source", "billed_sides",
            "billed_sheets", "cups", "pages")
    return {k: payload[k] for k in keys if k in payload}


class PrintJobs:
    """Matching and billing of ``print_job`` events, as the ledger's hooks for that kind."""

    kind = KIND
    decode = staticmethod(PrintedJob.from_payload)  # the same reading for the driver's and staff's

    # -- matching ------------------------------------------------------------------------------

    def match(self, session: Session, ctx: events.Context, event: events.EventIn) -> Ticket | None:
        """The queue's single active print ticket (by the queue's device or its name)."""
        names = {event.device, str(event.payload.get("queue") or "")} - {""}
        found = session.scalars(
            select(Ticket).where(
                Ticket.kind == TicketKind.PRINT.value,
                Ticket.state.in_([s.value for s in tickets.ACTIVE]),
                Ticket.device.in_(names),
            ).limit(2)
        ).all()
        if len(found) == 1:
            log.info("print.matched_by_queue", ticket=found[0].number, device=event.device,
                     key=event.natural_key)
            return found[0]
        if found:
            log.info("print.ambiguous_queue", device=event.device, key=event.natural_key,
                     tickets=[t.number for t in found])
        return None

    def stored(self, session: Session, ctx: events.Context, row: DeviceEvent) -> None:
        return None  # a job tells nothing beyond its own record

    # -- billing -------------------------------------------------------------------------------

    def bill(self, session: Session, ctx: events.Context, ticket: Ticket, row: DeviceEvent) -> None:
        caller, now = ctx.caller, ctx.now
        job = self.decode(row.payload)
        bound = log.bind(ticket=ticket.number, event_id=row.id, queue=job.queue, job_id=job.job_id)
        inputs = {"job": _job_inputs(row.payload)}
        usage = PrintJobUsage(
            label=job.label(), outcome=job.outcome, purpose=job.purpose, media=job.media, colour=job.colour,
            duplex=job.duplex, billed_sides=job.billed_sides, copies=job.copies, at=row.occurred_at,
            typing=ticket.params.get("service") == TYPING, typed_pages=_typed_pages(ticket))
        try:
            rating = rate(ctx.services.rates, ctx.services.site, usage)
        except (BillingError, Conflict) as err:  # Conflict: no [rates] section
            detail = str(err)
            tickets.add_charge(
                session, caller, now, ticket, description=f"{job.label()} not priced ({detail}); add a manual line",
                quantity=Decimal(job.billed_sides), unit="side", unit_price=Decimal("0.00"),
                amount=Decimal("0.00"), rule="print.not_priced", inputs=inputs, event_id=row.id, manual=False)
            bound.warning("print.not_priced", reason=detail)
            return
        lines = dataclasses.replace(rating, lines=tuple(dataclasses.replace(line, inputs={**line.inputs, **inputs})
                                                          for line in rating.lines))
        tickets.add_rating(session, caller, now, ticket, lines, event_id=row.id)
        bound.info("print.billed", sides=job.billed_sides, amount=str(lines.total), typing=usage.typing,
                   rule=lines.lines[0].rule)


def _typed_pages(ticket: Ticket) -> int:
    return int(sum((line.quantity for line in ticket.charges if line.rule.startswith("typing.")), Decimal(0)))


# -- submitting (the ticket's side of POST /tickets/{id}/print) ----------------------------------


def print_target(session: Session, number: str, queue: str | None, cups: Any) -> str:
    """Check the ticket can take a print and pick the queue: the one asked for, else the one
    whose device (or name) is the ticket's device, else the site's only queue."""
    ticket = tickets.find(session, number)
    if ticket.state not in tickets.ACTIVE:
        raise Conflict(f"ticket {number} is {ticket.state}; print for an open ticket")
    configured = [q.name for q in cups.queues]
    if queue:
        if queue not in configured:
            raise InvalidValue(f"queue {queue!r} is not configured (configured: {', '.join(configured) or 'none'})")
        return queue
    for q in cups.queues:
        if ticket.device and ticket.device in (q.device, q.name):
            return q.name
    if len(configured) == 1:
        return configured[0]
    raise InvalidValue(f"say which queue to print on (configured: {', '.join(configured) or 'none'}), "
                       f"or open the ticket with --device naming the printer")


def record_submission(session: Session, caller: Caller, now: datetime, number: str,
                      submitted: dict[str, Any]) -> None:
    """The audit trail shows who sent which document to the printer for the ticket."""
    tickets.find(session, number)
    audit.write(session, caller, now, "ticket.print", "ticket", number, None, submitted)
