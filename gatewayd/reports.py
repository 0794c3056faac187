"""The monthly meter reconciliation: what each device counted against what the desk billed.

For a calendar month of the site (local time), per copier/printer: the opening and closing meter
readings, the pages metered between them, the sides billed on copy tickets and print jobs for
that device, and the difference -- usage nobody was billed for (staff's own copies, jams, test
pages, or a job that escaped a ticket). Beside it: unattributed device events, fax minutes and
revenue by destination, incoming faxes, and revenue by service. Everything comes from the ledger
(events and charge lines), so the report can be re-run for any past month and says the same.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Float, case, cast, func, select
from sqlalchemy.orm import Session, aliased

from drivers.snmp.anomalies import counter_step
from drivers.snmp.reading import Counter
from gatewayd.copying import readings
from gatewayd.desk import report as desk_report
from gatewayd.errors import InvalidValue
from gatewayd.faxing.calls import ReceivedFax, decode_call
from gatewayd.models import (
    Attribution,
    ChargeLine,
    DeviceAnomaly,
    DeviceEvent,
    Ticket,
    TicketState,
)
from gatewayd.printing import PrintedJob

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass
class DeviceLine:
    device: str
    counter: str = ""  #: the meter counter reconciled ("total" where the device has one)
    opening: int | None = None
    opening_at: str = ""
    closing: int | None = None
    closing_at: str = ""
    metered: int | None = None  #: None: fewer than two readings this month, or a reset
    billed_copy_sides: int = 0
    billed_print_sides: int = 0
    unattributed_print_sides: int = 0
    anomalies: int = 0

    @property
    def unbilled(self) -> int | None:
        """Metered pages no ticket paid for (negative: billed more than the meter saw)."""
        return None if self.metered is None else self.metered - self.billed_copy_sides - self.billed_print_sides


@dataclass
class FaxDestination:
    destination: str
    calls: int = 0
    billed_seconds: int = 0
    revenue: Decimal = ZERO


@dataclass
class MonthlyReport:
    month: str
    timezone: str
    devices: list[DeviceLine] = field(default_factory=list)
    fax_out: list[FaxDestination] = field(default_factory=list)
    fax_in_calls: int = 0
    fax_in_pages: int = 0
    unattributed_events: dict[str, int] = field(default_factory=dict)
    revenue_by_service: dict[str, Decimal] = field(default_factory=dict)
    desk: dict[str, Any] = field(default_factory=dict)  #: meeting rooms, mail, complaints (gatewayd.desk.report)

    @property
    def revenue(self) -> Decimal:
        return sum(self.revenue_by_service.values(), ZERO)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for line, device in zip(data["devices"], self.devices):
            line["unbilled"] = device.unbilled
        for row in data["fax_out"]:
            row["revenue"] = str(row["revenue"])
        data["revenue_by_service"] = {k: str(v) for k, v in self.revenue_by_service.items()}
        data["revenue"] = str(self.revenue)
        return data


def month_bounds(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``2026-11`` -> its first instant and the next month's, in UTC, by the site's calendar."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=zone)
    except ValueError as err:
        raise InvalidValue(f"month must look like 2026-11, got {month!r}") from err
    if not 1900 <= start.year <= 9998:  # the next month and UTC must still be dates
        raise InvalidValue(f"month must be between 1900-01 and 9998-12, got {month!r}")
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _counters(payload: dict[str, Any]) -> dict[str, Counter]:
    """A stored reading's counters by name; one stored before readings were decoded on entry
    and unreadable has none (the line shows no counter rather than the report failing)."""
    try:
        return {c.name: c for c in readings.counters_of(payload)}
    except InvalidValue:
        return {}


def _reconciled_counter(first: dict[str, Counter], last: dict[str, Counter]) -> str | None:
    names = set(first) & set(last)
    if "total" in names:
        return "total"
    return min(names) if names else None


METER = "meter_reading"


def _metered_devices(session: Session) -> list[str]:
    """Every device that ever sent a reading, by a loose index scan: one seek per device on
    ``(kind, device, occurred_at)`` instead of reading a year of readings (neither SQLite
    without statistics nor PostgreSQL skip through an index by themselves)."""
    e = aliased(DeviceEvent)
    devices = select(func.min(DeviceEvent.device).label("device")).where(DeviceEvent.kind == METER).cte(
        "devices", recursive=True)
    following = select(func.min(e.device)).where(e.kind == METER, e.device > devices.c.device).scalar_subquery()
    devices = devices.union_all(select(following).where(devices.c.device.is_not(None)))
    return list(session.scalars(select(devices.c.device).where(devices.c.device.is_not(None))))


def _reading(session: Session, device: str, start: datetime, end: datetime, *, last: bool) -> Any:
    """The device's first (or last) reading of [start, end): one index look-up, two columns."""
    order = (DeviceEvent.occurred_at.desc(), DeviceEvent.id.desc()) if last else (DeviceEvent.occurred_at,
                                                                                  DeviceEvent.id)
    return session.execute(
        select(DeviceEvent.id, DeviceEvent.occurred_at, DeviceEvent.payload)
        .where(DeviceEvent.kind == METER, DeviceEvent.device == device, DeviceEvent.occurred_at >= start,
               DeviceEvent.occurred_at < end)
        .order_by(*order).limit(1)
    ).first()


def _meters(session: Session, start: datetime, end: datetime) -> dict[str, DeviceLine]:
    lines: dict[str, DeviceLine] = {}
    for device in _metered_devices(session):
        first = _reading(session, device, start, end, last=False)
        if first is None:
            continue
        last = _reading(session, device, start, end, last=True)
        line = lines[device] = DeviceLine(device)
        opened, closed = _counters(first.payload), _counters(last.payload)
        name = _reconciled_counter(opened, closed)
        if name is None:
            continue
        opening, closing, wraps_at = opened[name].value, closed[name].value, closed[name].wraps_at
        line.counter, line.opening, line.closing = name, opening, closing
        line.opening_at, line.closing_at = first.occurred_at.isoformat(), last.occurred_at.isoformat()
        step = counter_step(opening, closing, wraps_at) if last.id != first.id else None
        # A counter that wrapped once still gives the pages; a reset leaves them unknown (None)
        # and shows among the device's anomalies.
        line.metered = step[0] if step is not None else None
    for device, count in session.execute(
        select(DeviceAnomaly.device, func.count())
        .where(DeviceAnomaly.observed_at >= start, DeviceAnomaly.observed_at < end)
        .group_by(DeviceAnomaly.device)
    ):
        lines.setdefault(device, DeviceLine(device)).anomalies = count
    return lines


#: Money has at most 4 decimal places (the API refuses more). SQLite keeps it as text, whose SUM
#: would be a float: there each amount is summed as an exact integer of ten-thousandths.
MONEY_SCALE = 10_000


def _money_sum(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.sum(column)  # NUMERIC: exact
    return func.sum(cast(func.round(cast(column, Float) * MONEY_SCALE), BigInteger))


def _money(session: Session, value: Any) -> Decimal:
    if value is None:
        return ZERO
    if session.get_bind().dialect.name == "postgresql":
        return Decimal(value)
    amount = Decimal(value).scaleb(-4)
    return amount.quantize(CENT) if amount == amount.quantize(CENT) else amount.normalize()


def _whole(session: Session, column: Any) -> Any:
    """A quantity as whole sides (truncated, as ``int(Decimal)``) on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.trunc(column), BigInteger)
    return cast(column, BigInteger)


def _billed(session: Session, start: datetime, end: datetime) -> Any:
    """The month's charge lines on tickets not cancelled, summed by service and by the device
    whose sides they bill (a copy ticket's copier; a print job's printer)."""
    printed = DeviceEvent.device
    billed_as = case((ChargeLine.rule.like("copy.prices%"), "copy"), (ChargeLine.rule.like("print.prices%"), "print"),
                     else_="")
    device = case((billed_as == "copy", Ticket.device), (billed_as == "print", printed), else_="")
    return session.execute(
        select(Ticket.kind, billed_as, device, _money_sum(session, ChargeLine.amount),
               func.sum(_whole(session, ChargeLine.quantity)))
        .join(Ticket, ChargeLine.ticket_id == Ticket.id)
        .outerjoin(DeviceEvent, ChargeLine.event_id == DeviceEvent.id)
        .where(ChargeLine.created_at >= start, ChargeLine.created_at < end,
               Ticket.state != TicketState.CANCELLED.value)
        .group_by(Ticket.kind, billed_as, device)
    ).all()


def _fax_out(session: Session, start: datetime, end: datetime) -> list[FaxDestination]:
    """Fax calls billed this month by destination: one pass over the month's fax lines, summed per
    call in SQL with the call's destination line (label before the comma, billed seconds) beside."""
    destination = ChargeLine.rule.like("fax_out.destinations%")
    calls = session.execute(
        select(func.max(case((destination, ChargeLine.description))),
               func.max(case((destination, ChargeLine.inputs["billed_s"].as_integer()))),
               _money_sum(session, ChargeLine.amount))
        .join(Ticket, ChargeLine.ticket_id == Ticket.id)
        .where(ChargeLine.created_at >= start, ChargeLine.created_at < end, ChargeLine.event_id.is_not(None),
               Ticket.kind == "fax_out", Ticket.state != TicketState.CANCELLED.value)
        .group_by(ChargeLine.event_id)
    )
    destinations: dict[str, FaxDestination] = {}
    for description, billed_s, amount in calls:
        if description is None:
            continue  # a call with no destination line (busy, refused): not a call by destination
        label = description.split(",")[0]
        total = destinations.setdefault(label, FaxDestination(label))
        total.calls += 1
        total.billed_seconds += billed_s or 0
        total.revenue += _money(session, amount)
    return sorted(destinations.values(), key=lambda d: d.revenue, reverse=True)


def build(session: Session, month: str, zone: ZoneInfo, room_hours_per_day: int = 10) -> MonthlyReport:
    start, end = month_bounds(month, zone)
    report = MonthlyReport(month, zone.key)
    report.desk = desk_report.monthly(session, start, end, room_hours_per_day)
    devices = _meters(session, start, end)

    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for kind, billed_as, device, amount, sides in _billed(session, start, end):
        revenue[kind] += _money(session, amount)
        if billed_as and device:
            line = devices.setdefault(device, DeviceLine(device))
            if billed_as == "copy":
                line.billed_copy_sides += int(sides)
            else:
                line.billed_print_sides += int(sides)
    report.fax_out = _fax_out(session, start, end)

    in_month = (DeviceEvent.occurred_at >= start, DeviceEvent.occurred_at < end)
    unattributed = (*in_month, DeviceEvent.attribution == Attribution.UNATTRIBUTED.value)
    report.unattributed_events = dict(session.execute(
        select(DeviceEvent.kind, func.count()).where(*unattributed, DeviceEvent.kind.in_(("print_job", "fax_call")))
        .group_by(DeviceEvent.kind).order_by(DeviceEvent.kind)
    ).all())
    for device, payload in session.execute(
        select(DeviceEvent.device, DeviceEvent.payload).where(*unattributed, DeviceEvent.kind == "print_job")
    ):
        try:
            sides = PrintedJob.from_payload(payload).billed_sides
        except InvalidValue:
            continue  # a hand-entered job without a page count: still counted among the events
        devices.setdefault(device, DeviceLine(device)).unattributed_print_sides += sides
    for (payload,) in session.execute(
        select(DeviceEvent.payload).where(
            *in_month, DeviceEvent.kind == "fax_call", DeviceEvent.payload["direction"].as_string() == "incoming")
    ):
        report.fax_in_calls += 1
        try:
            received = decode_call(payload)
        except InvalidValue:
            continue  # stored before calls were decoded on entry: a call, its pages unknown
        report.fax_in_pages += received.pages if isinstance(received, ReceivedFax) else 0

    report.devices = sorted(devices.values(), key=lambda d: d.device)
    report.revenue_by_service = dict(sorted(revenue.items()))
    return report


CSV_HEADER = ("section", "device_or_item", "metric", "value")


def to_csv(report: MonthlyReport) -> str:
    """One long table (section, item, metric, value): easy to pivot in a spreadsheet."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_HEADER)
    for d in report.devices:
        for metric in ("counter", "opening", "opening_at", "closing", "closing_at", "metered",
                       "billed_copy_sides", "billed_print_sides", "unattributed_print_sides", "anomalies"):
            w.writerow(("device", d.device, metric, getattr(d, metric)))
        w.writerow(("device", d.device, "unbilled", d.unbilled))
    for f in report.fax_out:
        w.writerow(("fax_out", f.destination, "calls", f.calls))
        w.writerow(("fax_out", f.destination, "minutes", f"{Decimal(f.billed_seconds) / 60:.2f}"))
        w.writerow(("fax_out", f.destination, "revenue", f.revenue))
    w.writerow(("fax_in", "", "calls", report.fax_in_calls))
    w.writerow(("fax_in", "", "pages", report.fax_in_pages))
    for kind, count in sorted(report.unattributed_events.items()):
        w.writerow(("unattributed", kind, "events", count))
    for service, amount in report.revenue_by_service.items():
        w.writerow(("revenue", service, "amount", amount))
    w.writerow(("revenue", "total", "amount", report.revenue))
    w.writerows(desk_report.csv_rows(report.desk))
    return out.getvalue()


def _bars(title: str, rows: list[tuple[str, list[float]]], series: list[str]) -> str:
    """A horizontal grouped bar chart as inline SVG: no plotting library, prints anywhere."""
    colours = ["#4c78a8", "#f58518", "#54a24b", "#e45756"]
    peak = max((v for _, values in rows for v in values), default=0) or 1
    bar, gap, left, width = 14, 10, 200, 420
    height = len(rows) * (bar * len(series) + gap) + 40
    parts = [f'<svg width="{left + width + 80}" height="{height}" role="img" aria-label="{escape(title)}">']
    y = 30
    for i, name in enumerate(series):
        parts.append(f'<rect x="{left + i * 140}" y="5" width="10" height="10" fill="{colours[i]}"/>'
                     f'<text x="{left + i * 140 + 14}" y="14" font-size="11">{escape(name)}</text>')
    for label, values in rows:
        parts.append(f'<text x="{left - 6}" y="{y + bar}" font-size="12" text-anchor="end">{escape(label)}</text>')
        for i, value in enumerate(values):
            w = max(0.0, value) / peak * width
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 2}" fill="{colours[i]}"/>'
                         f'<text x="{left + w + 4}" y="{y + bar - 4}" font-size="11">{value:g}</text>')
            y += bar
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: MonthlyReport, site_name: str) -> str:
    devices = [[d.device, d.counter, d.opening, d.closing, d.metered, d.billed_copy_sides, d.billed_print_sides,
                d.unbilled, d.unattributed_print_sides, d.anomalies] for d in report.devices]
    meter_chart = _bars("Metered against billed pages",
                        [(d.device, [float(d.metered or 0), float(d.billed_copy_sides + d.billed_print_sides)])
                         for d in report.devices], ["metered", "billed"])
    fax_rows = [[f.destination, f.calls, f"{Decimal(f.billed_seconds) / 60:.1f}", f.revenue] for f in report.fax_out]
    fax_chart = _bars("Fax revenue by destination", [(f.destination, [float(f.revenue)]) for f in report.fax_out],
                      ["revenue"])
    revenue_rows = [[k, v] for k, v in report.revenue_by_service.items()] + [["total", report.revenue]]
    unattributed = [[k, v] for k, v in sorted(report.unattributed_events.items())]
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(site_name)} — 月度抄表对账 Monthly reconciliation {report.month}</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #bbb;padding:.2em .6em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}h2{{margin-top:1.6em}}</style></head><body>
<h1>{escape(site_name)}<br>月度抄表对账 Monthly meter reconciliation — {report.month}</h1>
<p>Times are local ({escape(report.timezone)}). <em>Unbilled</em> = metered − billed copy sides − billed print
sides: usage no ticket paid for (negative when more was billed than metered).</p>
<h2>设备 Devices</h2>
{_table(["device", "counter", "opening", "closing", "metered", "billed copies", "billed prints", "unbilled",
         "unattributed print sides", "anomalies"], devices)}
{meter_chart}
<h2>发报 Faxes sent, by destination</h2>
{_table(["destination", "calls", "minutes", "revenue"], fax_rows)}
{fax_chart}
<h2>收报 Faxes received</h2>
<p>{report.fax_in_calls} calls, {report.fax_in_pages} pages.</p>
<h2>未归属 Unattributed device events</h2>
{_table(["kind", "events"], unattributed)}
<h2>收入 Revenue by service</h2>
{_table(["service", "amount"], revenue_rows)}
{desk_report.html(report.desk, _table)}</body></html>
"""
