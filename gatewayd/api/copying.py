"""Copy tickets in the staff API: the front desk's usual flow, with the copier read at each end.

Staff open and finish a copy ticket as any other (``gatewayctl ticket open copy --device X``,
``ticket start``, ``ticket finish``). For a copy ticket on a copier, ``EXTENDS`` wraps those two
core routes: opening takes the opening billing read (refused, naming the copier and the reason,
when it does not answer -- ``params.meter = "manual"`` opens it without one); finishing takes the
closing read and bills the delta, or parks the ticket in ``awaiting_meter``. Every other ticket
passes through to the core handler unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import structlog

from drivers.snmp.errors import CountersNotSettled, NoReading
from drivers.snmp.reading import MeterReading
from gatewayd import tickets
from gatewayd.api.app import Api, Call, Route, obj
from gatewayd.copying import metering
from gatewayd.errors import Conflict, InvalidValue, LedgerError
from gatewayd.models import Ticket

SIDES = {"type": "integer", "minimum": 0, "maximum": 1_000_000}

log = structlog.get_logger("gatewayd.copying")


class CopierNotAnswering(LedgerError):
    """The copier gave no reading a bill can start from."""

    status = 503
    title = "Copier not answering"


def _with_meter(session: Any, ticket: Ticket) -> dict[str, Any]:
    return {**tickets.view(ticket), "meter": metering.view(session, ticket)}


def _copiers(api: Api, device: str) -> Any:
    copiers = api.services.drivers.get("snmp") if api.services else None
    if copiers is None:
        raise Conflict(f"copier {device!r} cannot be read: no [snmp] section in the configuration; "
                       "open the ticket with params.meter = \"manual\" and count the pages")
    if not copiers.has(device):
        raise InvalidValue(f"device {device!r} is not a copier in [snmp] (known: {', '.join(copiers.names())}); "
                           "or open with params.meter = \"manual\"")
    return copiers


async def _pass_on(route: Route, api: Api, call: Call) -> Any:
    if inspect.iscoroutinefunction(route.handler):
        return await route.handler(api, call)
    return await api.db(route.handler, api, call)


# -- open -----------------------------------------------------------------------------------------

def _check_free(api: Api, device: str) -> None:
    with api.ledger.transaction() as s:
        metering.check_free(s, device)


def _open(api: Api, call: Call, reading: MeterReading | None) -> dict[str, Any]:
    device = call.body.get("device")

    def before(s: Any) -> None:
        if device:
            metering.check_free(s, device)  # again: another desk may have opened one meanwhile

    def after(s: Any, ticket: Ticket) -> dict[str, Any]:
        metering.start_meter(s, call.caller, ticket.created_at, ticket, reading, api.services)
        return _with_meter(s, ticket)

    return api.ledger.open_ticket(call.caller, before=before, after=after, **call.body)


def extend_open(route: Route) -> Route:
    async def open_ticket(api: Api, call: Call) -> Any:
        body = call.body
        if not metering.is_metered(body["kind"], body.get("device", ""), body.get("params")):
            return await _pass_on(route, api, call)
        form = metering.CopyForm.of(body.get("params") or {})
        device = body.get("device", "")
        bound = log.bind(device=device)  # a local binding: nothing leaks into the connection's next request
        if form.manual:
            opened = await api.db(_open, api, call, None)
            bound.info("copy.opened", ticket=opened["id"], meter=metering.MANUAL)
            return opened
        copiers = _copiers(api, device)
        await api.db(_check_free, api, device)  # before the read: a busy copier is refused at once
        try:
            reading = await copiers.desk_read(device)
        except NoReading as err:
            bound.warning("copy.open_refused", error=err.detail)
            raise CopierNotAnswering(
                f"copier {device} gave no opening meter reading: {err.detail}. Try again when it is awake, "
                f"or open the ticket with params.meter = \"manual\" (gatewayctl: --param meter=manual) and "
                f"count the pages at the end"
            ) from err
        except CountersNotSettled as err:
            bound.warning("copy.open_refused", error=str(err))
            raise CopierNotAnswering(
                f"copier {device} is still busy: {err.reason} after {err.waited_s:.0f} s. Wait for it to finish "
                f"the job in progress and try again, or open with params.meter = \"manual\""
            ) from err
        opened = await api.db(_open, api, call, reading)
        bound.info("copy.opened", ticket=opened["id"], meter=metering.AUTO, reading=opened["meter"]["opening"]["event"])
        return opened

    return dataclasses.replace(
        route, handler=open_ticket,
        summary=f"{route.summary}; a copy ticket on a copier (device) takes its opening meter reading",
    )


# -- finish ---------------------------------------------------------------------------------------

def _finish_plan(api: Api, number: str, version: int | None) -> tuple[str, str] | None:
    """(mode, device) when this finish is a metered copy ticket's; None hands it to the core."""
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, number)
        mode = metering.metering(ticket).get("mode")
        stale = version is not None and version != ticket.version
        if not mode or ticket.state != metering.S.IN_PROGRESS or stale:
            return None  # the core refuses a wrong state or version with its own words
        return mode, ticket.device


def _wait(api: Api, call: Call, reason: str, needs_count: bool) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, call.params["id"], lock=True)
        metering.await_meter(s, call.caller, api.ledger.clock(), ticket, reason,
                             version=call.body.get("version"), needs_count=needs_count)
        return _with_meter(s, ticket)


def _close(api: Api, call: Call, reading: MeterReading) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, call.params["id"], lock=True)
        metering.close(s, call.caller, api.ledger.clock(), ticket, reading, api.services, action="finish",
                       version=call.body.get("version"))
        return _with_meter(s, ticket)


def extend_finish(route: Route) -> Route:
    async def finish(api: Api, call: Call) -> Any:
        plan = await api.db(_finish_plan, api, call.params["id"], call.body.get("version"))
        if plan is None:
            return await _pass_on(route, api, call)
        mode, device = plan
        bound = log.bind(device=device)  # a local binding: nothing leaks into the connection's next request
        if mode == metering.MANUAL:
            return await api.db(_wait, api, call, "count the copied sides and enter them (gatewayctl copy count)", True)
        copiers = _copiers(api, device)
        try:
            reading = await copiers.desk_read(device)
        except NoReading as err:
            reason = f"copier {device} gave no closing reading: {err.detail}"
            bound.warning("copy.awaiting_meter", error=err.detail)
            return await api.db(_wait, api, call, f"{reason}; retried until it answers, or enter a count", False)
        except CountersNotSettled as err:
            reason = f"copier {device} counters not settled: {err.reason} after {err.waited_s:.0f} s"
            bound.warning("copy.awaiting_meter", error=str(err))
            return await api.db(_wait, api, call, f"{reason}; retried until they settle, or enter a count", False)
        closed = await api.db(_close, api, call, reading)
        bound.info("copy.finished", state=closed["state"], sides=(closed["meter"]["count"] or {}).get("sides"),
                 total=closed["total"])
        return closed

    return dataclasses.replace(
        route, handler=finish,
        summary=f"{route.summary}; a copy ticket on a copier takes its closing reading and is billed the "
                "delta (→ awaiting_meter when the copier does not answer)",
    )


#: Core routes this module extends for metered copy tickets: (method, path) -> wrapper.
EXTENDS: dict[tuple[str, str], Callable[[Route], Route]] = {
    ("POST", "/tickets"): extend_open,
    ("POST", "/tickets/{id}/finish"): extend_finish,
}


# -- counts ---------------------------------------------------------------------------------------

def manual_count(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, call.params["id"], lock=True)
        metering.manual_count(s, call.caller, api.ledger.clock(), ticket,
                              {"mono": b.get("mono", 0), "colour": b.get("colour", 0)}, api.services,
                              media=b.get("media"), note=b.get("note", ""))
        return _with_meter(s, ticket)


def customer_count(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, call.params["id"], lock=True)
        metering.customer_count(s, call.caller, api.ledger.clock(), ticket, call.body["sides"],
                                call.body.get("note", ""))
        return _with_meter(s, ticket)


def meter(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, call.params["id"])
        return metering.view(s, ticket)


ROUTES: list[Route] = [
    Route("GET", "/tickets/{id}/meter", "A copy ticket's meter: readings, the count billed, the customer's count",
          meter),
    Route(
        "POST", "/tickets/{id}/meter",
        "Settle a copy ticket awaiting its meter with sides counted by staff (audited as manual)", manual_count,
        staff_only=True,
        body=obj(mono=SIDES, colour=SIDES, media={"type": "string", "minLength": 1, "maxLength": 32},
                 note={"type": "string", "maxLength": 500}),
    ),
    Route(
        "POST", "/tickets/{id}/customer-count",
        "Record the sides the customer counted, beside the meter's count (the bill does not change)",
        customer_count, body=obj(["sides"], sides=SIDES, note={"type": "string", "maxLength": 500}),
    ),
]
