"""A copy ticket's meter: opening and closing readings, the billed delta, and the counts beside it.

A *metered* copy ticket is a ``copy`` ticket with a ``device`` (read over SNMP), or with
``params.meter = "manual"`` (staff count the pages). Its state lives in ``params["metering"]``:

* ``mode`` -- ``"auto"`` or ``"manual"``;
* ``opening`` / ``closing`` -- ids of the ``meter_reading`` events (on the ticket);
* ``count`` -- what was billed: sides by media and colour, the counters' deltas, the CUPS sides
  deducted, and whether the count came off the meter or from staff;
* ``waiting`` -- why the ticket is in ``awaiting_meter``; ``needs_count`` when only a manual count
  can settle it (the counters cannot be subtracted: reset, serial change);
* ``customer_count`` -- what the customer counted, kept beside the meter's count, never billed.

Billing (``bill``): the delta of the reading's ``copy_counters`` -- ``copy.mono``/``copy.colour``
where the device splits copy from print, else ``total`` less the ``billed_sides`` of the
``print_job`` events on that device between the two readings (a total counter counts prints
too). Per-media copy counters (``copy.a4``...) split the sides by media when they account for
every side. A device counting sheets counts a duplex sheet once: its sides are doubled. The
sides of the ticket's ``sets`` are rated as ``sides / sets`` per set when they divide evenly.

Only ``open``, ``in_progress`` and ``awaiting_meter`` hold the copier (``METER_WINDOW``): once
the closing reading is in, the next customer may copy while this one checks the pages.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from drivers.snmp.anomalies import billable_deltas
from drivers.snmp.errors import DeltaRefused
from drivers.snmp.reading import MeterReading, Unit
from gatewayd import audit, events, tickets
from gatewayd.audit import Caller
from gatewayd.billing import BillingError, Colour, Rating, rate
from gatewayd.billing.pages import CopiedSides, copy_usage, split_copied
from gatewayd.copying import readings
from gatewayd.errors import Conflict, InvalidValue
from gatewayd.models import DeviceEvent, Ticket, TicketKind, TicketState
from gatewayd.printing import PrintedJob

S = TicketState
METER_WINDOW = frozenset({S.OPEN, S.IN_PROGRESS, S.AWAITING_METER})
AUTO, MANUAL = "auto", "manual"
_TRUE, _FALSE = {"true", "yes", "1", "duplex", "on"}, {"false", "no", "0", "simplex", "off", ""}
_COLOUR_OF_COUNTER = {"copy.mono": Colour.MONO, "copy.colour": Colour.COLOUR}


@dataclass(frozen=True)
class CopyForm:
    """The service form's copy fields (``ticket.params``), checked when the ticket opens."""

    media: str = "A4"
    colour: Colour = Colour.MONO  #: what a device without colour counters is billed as
    duplex: bool = False
    sets: int = 1
    scale_percent: int = 100
    manual: bool = False

    @classmethod
    def of(cls, params: dict[str, Any]) -> CopyForm:
        """Values may be strings (``gatewayctl --param sets=2``); each mistake names its param."""
        meter = str(params.get("meter", AUTO))
        if meter not in (AUTO, MANUAL):
            raise InvalidValue(f"params.meter must be \"auto\" or \"manual\", got {meter!r}")
        colour = str(params.get("colour", Colour.MONO.value))
        if colour not in {c.value for c in Colour}:
            raise InvalidValue(f"params.colour must be mono or colour, got {colour!r}")
        duplex = str(params.get("duplex", "false")).strip().lower()
        if duplex not in _TRUE | _FALSE:
            raise InvalidValue(f"params.duplex must be yes or no, got {params['duplex']!r}")
        scale = params.get("scale_percent", params.get("scale", 100))
        return cls(
            media=str(params.get("media", "A4")) or "A4",
            colour=Colour(colour),
            duplex=duplex in _TRUE,
            sets=_whole(params, "sets", 1, 1, 10_000),
            scale_percent=_whole({"scale_percent": scale}, "scale_percent", 100, 25, 400),
            manual=meter == MANUAL,
        )


def _whole(params: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    try:
        number = int(str(value).strip().rstrip("%"))
    except ValueError:
        raise InvalidValue(f"params.{key} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidValue(f"params.{key} must be between {low} and {high}, got {number}")
    return number


def is_metered(kind: str, device: str, params: dict[str, Any] | None) -> bool:
    return kind == TicketKind.COPY and (bool(device) or (params or {}).get("meter") == MANUAL)


def metering(ticket: Ticket) -> dict[str, Any]:
    return dict(ticket.params.get("metering") or {})


def _remember(ticket: Ticket, **changes: Any) -> None:
    # A new dict each time: SQLAlchemy does not see changes made inside a JSON value.
    ticket.params = {**ticket.params, "metering": {**metering(ticket), **changes}}


def holder(session: Session, device: str) -> Ticket | None:
    """The copy ticket whose meter window holds ``device``, if any."""
    return session.scalars(
        select(Ticket).where(Ticket.kind == TicketKind.COPY.value, Ticket.device == device,
                             Ticket.state.in_([s.value for s in METER_WINDOW])).order_by(Ticket.id).limit(1)
    ).first()


def check_free(session: Session, device: str) -> None:
    """Refuse a second copy ticket on a copier. Called in the transaction that opens the ticket;
    on PostgreSQL (several sites, several writers) a transaction-scoped advisory lock per copier
    makes the check and the insert one step, so two desks cannot both take it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:device))"), {"device": f"copier:{device}"})
    taken = holder(session, device)
    if taken is not None:
        raise Conflict(
            f"copier {device} is in use by copy ticket {taken.number} ({taken.state}); finish or cancel "
            f"it first, so each ticket is billed only its own pages"
        )


def start_meter(session: Session, caller: Caller, now: datetime, ticket: Ticket, reading: MeterReading | None,
                services: Any) -> None:
    """Right after opening: remember the mode and store the opening reading on the ticket."""
    if reading is None:
        _remember(ticket, mode=MANUAL)
        audit.write(session, caller, now, "copy.meter_open", "ticket", ticket.number, None,
                    {"mode": MANUAL, "device": ticket.device}, manual=True)
        return
    row, _ = readings.store(session, events.Context(caller, now, services), reading, ticket=ticket.number)
    _remember(ticket, mode=AUTO, opening=row.id)
    audit.write(session, caller, now, "copy.meter_open", "ticket", ticket.number, None,
                {"mode": AUTO, "device": ticket.device, "reading": row.id, **_counters(reading)})


def _counters(reading: MeterReading) -> dict[str, int]:
    return {c.name: c.value for c in reading.counters if c.name in reading.copy_counters}


# -- what the meter says was copied ---------------------------------------------------------------

def _media_name(counter: str) -> str:
    """``copy.a4`` -> ``A4``, ``copy.letter`` -> ``Letter``: the price list's spelling."""
    name = counter.removeprefix("copy.")
    return name.upper() if len(name) <= 3 and name[0].isalpha() and name[1:].isdigit() else name.capitalize()


def printed_between(session: Session, device: str, opened: datetime, closed: datetime, unit: Unit) -> int:
    """CUPS sides (sheets on a sheet-counting device) printed on ``device`` in the window."""
    jobs = session.scalars(
        select(DeviceEvent).where(DeviceEvent.kind == "print_job", DeviceEvent.device == device,
                                  DeviceEvent.occurred_at > opened, DeviceEvent.occurred_at <= closed)
    )
    total = 0
    for job in jobs:
        try:
            printed = PrintedJob.from_payload(job.payload)
        except InvalidValue:
            continue  # stored before jobs were decoded on entry and unreadable: no sides known
        total += printed.billed_sheets if unit is Unit.SHEETS else printed.billed_sides
    return total


def copied(session: Session, opened: MeterReading, closed: MeterReading, form: CopyForm
           ) -> tuple[list[CopiedSides], dict[str, Any]]:
    """Sides copied between two readings, by media and colour, and how they were worked out.

    Raises DeltaRefused when the readings cannot be subtracted (the driver says why).
    """
    names = tuple(n for n in closed.copy_counters)
    deltas = billable_deltas(opened, closed, names)
    facts: dict[str, Any] = {"counters": {d.name: d.delta for d in deltas},
                             "wrapped": [d.name for d in deltas if d.wrapped]}
    by_colour: dict[Colour, int] = {}
    for d in deltas:
        colour = _COLOUR_OF_COUNTER.get(d.name, form.colour)
        by_colour[colour] = by_colour.get(colour, 0) + d.delta
    unit = deltas[0].unit if deltas else Unit.IMPRESSIONS
    if names == ("total",):
        printed = printed_between(session, closed.device, opened.occurred_at, closed.occurred_at, unit)
        facts["printed_deducted"] = printed
        by_colour[form.colour] = max(by_colour.get(form.colour, 0) - printed, 0)
    if unit is Unit.SHEETS and form.duplex:
        facts["sheets_doubled"] = True  # a duplex sheet is two sides; the counter saw it once
        by_colour = {c: n * 2 for c, n in by_colour.items()}
    media = _by_media(opened, closed, sum(by_colour.values()) if unit is not Unit.SHEETS else None)
    if media:
        facts["media_counters"] = media
    return split_copied(by_colour, media, form.media, form.colour), facts


def _by_media(opened: MeterReading, closed: MeterReading, total: int | None) -> dict[str, int]:
    """Per-media copy deltas, only when they account for exactly the sides counted."""
    names = tuple(c.name for c in closed.counters if c.name.startswith("copy.")
                  and c.name not in _COLOUR_OF_COUNTER and opened.counter(c.name) is not None)
    try:
        moved = {_media_name(d.name): d.delta for d in billable_deltas(opened, closed, names) if d.delta}
    except DeltaRefused:
        return {}
    return moved if moved and sum(moved.values()) == total else {}


# -- charge lines ---------------------------------------------------------------------------------

def _ratings(rates: Any, site: Any, parts: list[CopiedSides], form: CopyForm, at: datetime) -> list[Rating]:
    ratings = []
    for part in parts:
        usage = copy_usage(part, duplex=form.duplex, sets=form.sets, scale_percent=form.scale_percent, at=at)
        try:
            ratings.append(rate(rates, site, usage))
        except BillingError as err:
            raise InvalidValue(
                f"cannot price {part.sides} copied sides: {err}; add the price to [rates] and reload "
                f"(SIGHUP), or cancel the ticket and charge it by hand"
            ) from err
    return ratings


def _bill(session: Session, caller: Caller, now: datetime, ticket: Ticket, parts: list[CopiedSides], form: CopyForm,
          at: datetime, services: Any, *, event_id: int | None, manual: bool) -> None:
    for rating in _ratings(services.rates, services.site, parts, form, at):
        if manual:
            # Priced by the table, but the quantity is what staff typed: the lines say so.
            rating = dataclasses.replace(rating, lines=tuple(dataclasses.replace(line, manual=True)
                                                             for line in rating.lines))
        tickets.add_rating(session, caller, now, ticket, rating, event_id=event_id)


def _count(parts: list[CopiedSides], source: str, **facts: Any) -> dict[str, Any]:
    return {"source": source, "sides": sum(p.sides for p in parts),
            "by": [{"media": p.media, "colour": p.colour.value, "sides": p.sides} for p in parts], **facts}


# -- the transitions that take a reading or a count -----------------------------------------------

def close(session: Session, caller: Caller, now: datetime, ticket: Ticket, reading: MeterReading, services: Any,
          *, action: str, version: int | None = None) -> None:
    """The closing reading arrived: bill the delta and move on (``finish`` or ``metered``).

    When the delta is refused (reset, another device), the reading is kept, the ticket waits in
    ``awaiting_meter`` and only a manual count settles it.
    """
    form = CopyForm.of(ticket.params)
    ctx = events.Context(caller, now, services)
    opening = session.get(DeviceEvent, metering(ticket)["opening"])
    assert opening is not None  # foreign-key-like: written by start_meter in the opening transaction
    try:
        parts, facts = copied(session, readings.reading_of(opening), reading, form)
    except DeltaRefused as err:
        if action == "finish":
            tickets.transition(session, caller, now, ticket, "await_meter", version=version)
        row, _ = readings.store(session, ctx, reading, ticket=ticket.number)
        wait(session, caller, now, ticket, f"{err}", needs_count=True, closing=row.id)
        return
    tickets.transition(session, caller, now, ticket, action, version=version)
    row, _ = readings.store(session, ctx, reading, ticket=ticket.number)
    _bill(session, caller, now, ticket, parts, form, reading.occurred_at, services, event_id=row.id, manual=False)
    _remember(ticket, closing=row.id, count=_count(parts, "meter", **facts), waiting=None, needs_count=False)
    audit.write(session, caller, now, "copy.meter_close", "ticket", ticket.number, None,
                {"reading": row.id, "sides": sum(p.sides for p in parts), **facts["counters"]})


def wait(session: Session, caller: Caller, now: datetime, ticket: Ticket, reason: str, *,
         needs_count: bool = False, closing: int | None = None) -> None:
    """Record why the ticket waits for its meter (the state moved already)."""
    extra = {"closing": closing} if closing is not None else {}
    _remember(ticket, waiting=reason, needs_count=needs_count, **extra)
    audit.write(session, caller, now, "copy.meter_wait", "ticket", ticket.number, None,
                {"reason": reason, "needs_count": needs_count})


def await_meter(session: Session, caller: Caller, now: datetime, ticket: Ticket, reason: str, *,
                version: int | None = None, needs_count: bool = False) -> None:
    tickets.transition(session, caller, now, ticket, "await_meter", version=version)
    wait(session, caller, now, ticket, reason, needs_count=needs_count)


def manual_count(session: Session, caller: Caller, now: datetime, ticket: Ticket, counts: dict[str, int],
                 services: Any, *, media: str | None = None, note: str = "") -> None:
    """Staff counted the sides (the copier slept, was reset, or the ticket is manual)."""
    if ticket.kind != TicketKind.COPY or not metering(ticket):
        raise Conflict(f"ticket {ticket.number} is not a metered copy ticket; add a charge line instead")
    if ticket.state != S.AWAITING_METER:
        raise Conflict(
            f"ticket {ticket.number} is {ticket.state}: a manual count settles a copy ticket awaiting its meter "
            f"(finish it first{'; its meter count is in already' if ticket.state != S.IN_PROGRESS else ''})"
        )
    form = CopyForm.of(ticket.params)
    parts = [CopiedSides(media or form.media, Colour(colour), n) for colour, n in counts.items() if n]
    tickets.transition(session, caller, now, ticket, "metered")
    _bill(session, caller, now, ticket, parts, form, now, services, event_id=None, manual=True)
    _remember(ticket, count=_count(parts, "manual", note=note, counted_by=caller.user), waiting=None,
              needs_count=False)
    audit.write(session, caller, now, "copy.manual_count", "ticket", ticket.number, None,
                {**{f"sides.{c}": n for c, n in counts.items()}, "media": media or form.media, "note": note},
                manual=True)


def customer_count(session: Session, caller: Caller, now: datetime, ticket: Ticket, sides: int,
                   note: str = "") -> None:
    """What the customer counted: kept beside the meter's count; the bill does not change."""
    if ticket.kind != TicketKind.COPY:
        raise Conflict(f"ticket {ticket.number} is a {ticket.kind} ticket; customer counts are for copies")
    if ticket.state not in tickets.EDITABLE:
        raise Conflict(f"ticket {ticket.number} is {ticket.state} and can no longer be changed")
    entry = {"sides": sides, "note": note, "by": caller.user, "at": now.isoformat()}
    _remember(ticket, customer_count=entry)
    ticket.updated_at = now
    audit.write(session, caller, now, "copy.customer_count", "ticket", ticket.number, None,
                {"sides": sides, "note": note}, manual=True)


def awaiting(session: Session) -> list[tuple[str, str]]:
    """(ticket, device) of copy tickets a fresh reading could still complete."""
    rows = session.scalars(select(Ticket).where(Ticket.kind == TicketKind.COPY.value,
                                                Ticket.state == S.AWAITING_METER.value).order_by(Ticket.id))
    return [(t.number, t.device) for t in rows
            if metering(t).get("mode") == AUTO and not metering(t).get("needs_count") and t.device]


def view(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The meter beside the ticket: readings, the count billed, the customer's count."""
    state = metering(ticket)
    out: dict[str, Any] = {
        "ticket": ticket.number, "state": ticket.state, "device": ticket.device, "mode": state.get("mode"),
        "opening": None, "closing": None, "count": state.get("count"), "waiting": state.get("waiting"),
        "needs_count": bool(state.get("needs_count")), "customer_count": state.get("customer_count"),
        "difference": None,
    }
    for end in ("opening", "closing"):
        row = session.get(DeviceEvent, state[end]) if state.get(end) else None
        if row is not None:
            out[end] = {"event": row.id, **readings.summary(readings.reading_of(row))}
    if out["count"] and out["customer_count"]:
        out["difference"] = out["customer_count"]["sides"] - out["count"]["sides"]
    return out
