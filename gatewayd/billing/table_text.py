"""The price list as text, for ``gatewayd rates check`` and ``gatewayctl rates show``."""

from __future__ import annotations

from .money import format_price
from .rates import FaxOutRates, RateTable, SideRates
from .site import Site
from gatewayd.textwidth import columns, fit_widths


def format_table(table: RateTable, site: Site) -> str:
    money = table.money
    out = [
        (f"Rate table {table.version}, in force from "
        f"{table.effective:%Y-%m-%d %H:%M} {site.timezone}"),
        f"Money: {site.currency}, rounded {money.rounding.value} to {money.quantum}",
    ]
    if table.fax_out:
        out += ["", *_fax_out(table.fax_out)]
    if table.fax_in:
        out += ["", f"Fax in: {format_price(table.fax_in.per_page)} per page"]
    for name, sides in (("Print", table.print), ("Copy", table.copy)):
        if sides:
            out += ["", *_sides(name, sides)]
    if table.typing:
        out += ["", f"Typing: {format_price(table.typing.per_page)} per page"]
    if table.errand:
        e = table.errand
        rate = f"{(e.service_rate * 100).normalize():f} %"
        out += ["", (f"Errands: quoted fee + service charge {format_price(e.service_charge)} "
                    f"+ {rate} of the fee (unless agreed otherwise)")]
    if table.meeting_room:
        m = table.meeting_room
        rooms = "".join(f", {name} {format_price(price)}" for name, price in m.room_per_hour.items())
        extras = ", ".join(f"{name} {format_price(price)}" for name, price in m.extras.items()) or "none"
        out += ["", (f"Meeting rooms: {format_price(m.per_hour)} per hour{rooms}; {m.increment_min}-min blocks, "
                     f"minimum {m.minimum_hours.normalize():f} h; extras: {extras}")]
    return "\n".join(out) + "\n"


def _fax_out(rates: FaxOutRates) -> list[str]:
    unanswered = "not charged" if rates.unanswered_fee is None else format_price(rates.unanswered_fee)
    out = [
        (f"Fax out: connect fee {format_price(rates.connect_fee)}, "
        f"per page {format_price(rates.per_page)}"),
        (f"  busy/no answer: {unanswered}; ErrorPages: {rates.error_pages.value}; "
        f"failed calls: {rates.failed_call.value}"),
    ]
    rows = [["Destination", "Match", "Per min", "Increments", "Minimum"]]
    for d in rates.destinations:
        rows.append([d.name, f"{d.kind.value} {d.match}", format_price(d.per_minute),
                     f"{d.first_increment_s}/{d.next_increment_s} s", format_price(d.minimum)])
    out += ["  " + line for line in columns(rows, fit_widths(rows), "<<>>>", gap="  ")]
    for band in rates.time_bands:
        out.append(f"  Time band {band.describe()}")
    return out


def _sides(name: str, rates: SideRates) -> list[str]:
    surcharge = (f", scaling surcharge {format_price(rates.scaling_surcharge)} per side"
                 if rates.scaling_surcharge else "")
    rows = [["Media", "Colour", "Simplex", "Duplex"]]
    rows += [[p.media, p.colour.value, format_price(p.simplex), format_price(p.duplex)]
             for p in rates.prices]
    lines = columns(rows, fit_widths(rows), "<<>>", gap="  ")
    return [f"{name}: per side{surcharge}", *("  " + line for line in lines)]
