"""Rating what is agreed or booked rather than counted: errands, meeting rooms, manual lines."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from .charges import Charge, priced_line
from .errors import NotPriced
from .money import MoneyRule, format_price
from .rates import RateTable
from .usage import ErrandUsage, ManualLine, MeetingRoomUsage, Service


def rate_errand(table: RateTable, usage: ErrandUsage) -> list[Charge]:
    """The quoted fee passes through; the service charge is the agreed one or the table's."""
    rates = table.errand
    if rates is None:
        raise NotPriced("errands", table.version)
    fee = usage.quoted_fee
    inputs = {"errand": usage.description, "quoted_fee": str(fee), "agreed_service_charge":
              None if usage.service_charge is None else str(usage.service_charge)}
    money, version = table.money, table.version
    lines = [priced_line(money, Service.ERRAND,
                         lambda amount: f"errand: {usage.description}, quoted fee {amount}",
                         1, "errand", fee, "errand.fee", version, inputs)]
    if usage.service_charge is not None:
        charge, how, rule = usage.service_charge, "as agreed", "errand.service_charge.agreed"
    else:
        inputs = {**inputs, "base": str(rates.service_charge), "rate": str(rates.service_rate)}
        charge = rates.service_charge + rates.service_rate * fee
        parts = [format_price(rates.service_charge)] if rates.service_charge else []
        if rates.service_rate:
            parts.append(f"{(rates.service_rate * 100).normalize():f} % of {format_price(fee)}")
        how, rule = " + ".join(parts), "errand.service_charge"
    if charge:
        lines.append(priced_line(money, Service.ERRAND,
                                 lambda amount: f"service charge, {how} = {amount}",
                                 1, "errand", charge, rule, version, inputs))
    return lines


def rate_meeting_room(table: RateTable, usage: MeetingRoomUsage) -> list[Charge]:
    """Booked time in blocks (rounded up) at the room's hourly rate, topped up to the minimum;
    each extra at its unit price. An extra the table does not list cannot be priced."""
    rates = table.meeting_room
    if rates is None:
        raise NotPriced("meeting rooms", table.version)
    per_hour = rates.room_per_hour.get(usage.room, rates.per_hour)
    minutes = Decimal((usage.ends_at - usage.starts_at).total_seconds()) / 60
    block = rates.increment_min
    blocks = (minutes / block).to_integral_value(ROUND_CEILING)
    hours = max(blocks * block / 60, rates.minimum_hours)
    booked = f"{minutes.normalize():f} min"
    how = f"{booked} in {block}-min blocks" + (f", minimum {rates.minimum_hours.normalize():f} h"
                                                  if hours == rates.minimum_hours else "")
    rule = f"meeting_room.room_per_hour[{usage.room}]" if usage.room in rates.room_per_hour else "meeting_room.per_hour"
    inputs = {"room": usage.room, "starts_at": usage.starts_at.isoformat(), "ends_at": usage.ends_at.isoformat(),
              "minutes": str(minutes.normalize()), "extras": dict(usage.extras), "increment_min": block,
              "minimum_hours": str(rates.minimum_hours.normalize())}
    lines = [priced_line(
        table.money, Service.MEETING_ROOM,
        lambda amount: f"meeting room {usage.room}, {how} = {hours.normalize():f} h × {format_price(per_hour)} = {amount}",
        hours.normalize(), "h", per_hour, rule, table.version, inputs)]
    for name, count in usage.extras:
        price = rates.extras.get(name)
        if price is None:
            raise NotPriced(f"meeting-room extra {name!r}", table.version)
        if count:
            lines.append(priced_line(
                table.money, Service.MEETING_ROOM,
                lambda amount, name=name, count=count, price=price: f"{name}, {count} × {format_price(price)} = {amount}",
                count, name, price, f"meeting_room.extras[{name}]", table.version, inputs))
    return lines


def rate_manual(money: MoneyRule, usage: ManualLine) -> Charge:
    """A line staff priced: quantity x their price, rounded by the currency's rule."""
    return priced_line(
        money, usage.service,
        lambda amount: f"{usage.description} (manual), {usage.quantity} {usage.unit} × "
                       f"{format_price(usage.unit_price)} = {amount}",
        usage.quantity, usage.unit, usage.unit_price, "manual", None,
        {"entered_by_staff": True, "description": usage.description}, manual=True)
