"""Rating by the page and the side: received faxes, typing, prints and copies.

Beside the per-page and per-side prices, the desk's policies for what a job is billed as:

* a print job (``rate_print_job``): only completed jobs are charged (a cancelled or aborted one
  gets a 0.00 line saying so); copies are sets; on a typing ticket proofs are free, a final is
  charged typing per page for one copy -- the typing price includes that print -- and its
  further copies as prints, typing once per page per ticket; on any other ticket every completed
  job is a print, proofs too (paper and toner were used at the customer's request);
* a copy ticket's sides (``split_copied``, ``copy_usage``): split by colour and paper size as the
  copier's counters allow, and the ticket's sets when the sides divide evenly among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .charges import Charge, plural, priced_line
from .errors import InvalidUsage, NotPriced
from .money import format_price
from .rates import PerPage, RateTable
from .usage import Colour, FaxInUsage, PrintJobUsage, PrintUsage, Service, TypingUsage


def _per_page(table: RateTable, section: PerPage | None, service: Service, what: str,
              pages: int) -> list[Charge]:
    if section is None:
        raise NotPriced(what, table.version)
    price = section.per_page
    return [priced_line(
        table.money, service,
        lambda amount: f"{what}, {plural(pages, 'page')} × {format_price(price)} = {amount}",
        pages, "page", price, f"{service.value}.per_page", table.version, {"pages": pages})]


def rate_fax_in(table: RateTable, usage: FaxInUsage) -> list[Charge]:
    return _per_page(table, table.fax_in, Service.FAX_IN, "fax received", usage.pages)


def rate_typing(table: RateTable, usage: TypingUsage) -> list[Charge]:
    return _per_page(table, table.typing, Service.TYPING, "typing", usage.pages)


def rate_print(table: RateTable, usage: PrintUsage) -> list[Charge]:
    """Per side by media, colour and duplex; sets multiply; a scaled copy may add a surcharge."""
    service = usage.service
    rates = table.print if service is Service.PRINT else table.copy
    price_row = rates.price_for(usage.media, usage.colour) if rates else None
    if rates is None or price_row is None:
        raise NotPriced(f"{service.value} {usage.media} {usage.colour.value}", table.version)
    what = f"{service.value} {price_row.media} {usage.colour.value}"
    side = "duplex" if usage.duplex else "simplex"
    price = price_row.duplex if usage.duplex else price_row.simplex
    total = usage.sides * usage.sets
    count = plural(usage.sides, "side") + (f" × {usage.sets} sets = {total} sides" if usage.sets != 1 else "")
    inputs = {"media": usage.media, "colour": usage.colour.value, "duplex": usage.duplex,
              "sides": usage.sides, "sets": usage.sets, "scale_percent": usage.scale_percent}
    rule = f"{service.value}.prices[{price_row.media} {price_row.colour.value}]"
    lines = [priced_line(
        table.money, service,
        lambda amount: f"{what} {side}, {count} × {format_price(price)} = {amount}",
        total, "side", price, f"{rule}.{side}", table.version, inputs)]
    surcharge = rates.scaling_surcharge
    if usage.scale_percent != 100 and surcharge:
        lines.append(priced_line(
            table.money, service,
            lambda amount: (f"scaled to {usage.scale_percent} %, {plural(total, 'side')} × "
                            f"{format_price(surcharge)} = {amount}"),
            total, "side", surcharge, f"{service.value}.scaling_surcharge", table.version, inputs))
    return lines


def sets_of(billed_sides: int, copies: int) -> tuple[int, int]:
    """(sides per set, sets): copies are sets when the sides divide evenly among them.

    They do unless the driver fell back to CUPS' impressions (which pad duplex copies); then
    the sides already cover every copy and count as one set.
    """
    if copies > 0 and billed_sides % copies == 0:
        return billed_sides // copies, copies
    return billed_sides, 1


def rate_print_job(table: RateTable, job: PrintJobUsage) -> list[Charge]:
    """A finished print job by the desk's policy (module docstring); NotPriced when the table
    has no price for it."""
    def free(why: str, rule: str) -> list[Charge]:
        zero = table.money.round(Decimal(0))
        return [Charge(Service.PRINT, f"{job.label} {why}: not charged", Decimal(job.billed_sides), "side",
                       zero, zero, rule, table.version, {"label": job.label, "outcome": job.outcome})]

    if job.outcome != "completed":
        return free(job.outcome, "print.not_charged.outcome")
    if job.typing and job.purpose == "proof":
        return free("proof for typing", "print.not_charged.proof")
    per_set, sets = sets_of(job.billed_sides, job.copies)
    lines: list[Charge] = []
    if job.typing:
        new_pages = max(0, per_set - job.typed_pages)
        if new_pages:
            lines += rate_typing(table, TypingUsage(pages=new_pages, at=job.at))
            sets -= 1  # the typing price includes one print of the final
    if sets and per_set:
        lines += rate_print(table, PrintUsage(service=Service.PRINT, media=job.media, colour=job.colour,
                                              duplex=job.duplex, sides=per_set, sets=sets, at=job.at))
    if not lines:
        raise InvalidUsage("no printed sides")  # a blank job: nothing to rate
    return lines


@dataclass(frozen=True, slots=True)
class CopiedSides:
    media: str
    colour: Colour
    sides: int


def split_copied(by_colour: dict[Colour, int], by_media: dict[str, int], media: str, colour: Colour
                 ) -> list[CopiedSides]:
    """A copy ticket's sides by paper size and colour, from the copier's colour and per-media
    counters (``by_media`` only when they account for every side) and the form's defaults."""
    colours = {c: n for c, n in by_colour.items() if n}
    if len(by_media) == 1 or (by_media and len(colours) > 1):
        # One size, or sizes and colours both mixed (the device does not cross them): the
        # colours at the ticket's media, or at the one size that moved.
        size = next(iter(by_media)) if len(by_media) == 1 else media
        return [CopiedSides(size, c, n) for c, n in colours.items()]
    if by_media:
        (only,) = colours or {colour: 0}
        return [CopiedSides(m, only, n) for m, n in by_media.items()]
    return [CopiedSides(media, c, n) for c, n in colours.items()]


def copy_usage(part: CopiedSides, *, duplex: bool, sets: int, scale_percent: int, at: datetime) -> PrintUsage:
    """The sides of ``sets`` sets, or of one set when they do not divide evenly among them."""
    sets = sets if sets > 0 and part.sides % sets == 0 else 1
    return PrintUsage(service=Service.COPY, media=part.media, colour=part.colour, duplex=duplex,
                      sides=part.sides // sets, at=at, sets=sets, scale_percent=scale_percent)
