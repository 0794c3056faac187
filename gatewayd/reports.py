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
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from drivers.snmp.anomalies import counter_step
from gatewayd.errors import InvalidValue
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
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _counter(payload: dict[str, Any]) -> dict[str, tuple[int, int | None]]:
    """A meter reading's counters: name -> (value, wraps_at)."""
    return {c["name"]: (int(c["value"]), c.get("wraps_at")) for c in payload.get("counters", [])}


def _reconciled_counter(first: dict[str, Any], last: dict[str, Any]) -> str | None:
    names = set(_counter(first)) & set(_counter(last))
    if "total" in names:
        return "total"
    return min(names) if names else None


def _meters(session: Session, start: datetime, end: datetime) -> dict[str, DeviceLine]:
    lines: dict[str, DeviceLine] = {}
    readings = session.scalars(
        select(DeviceEvent)
        .where(DeviceEvent.kind == "meter_reading", DeviceEvent.occurred_at >= start, DeviceEvent.occurred_at < end)
        .order_by(DeviceEvent.device, DeviceEvent.occurred_at)
    )
    by_device: dict[str, list[DeviceEvent]] = defaultdict(list)
    for row in readings:
        by_device[row.device].append(row)
    for device, rows in by_device.items():
        first, last = rows[0], rows[-1]
        line = lines[device] = DeviceLine(device)
        name = _reconciled_counter(first.payload, last.payload)
        if name is None:
            continue
        (opening, _), (closing, wraps_at) = _counter(first.payload)[name], _counter(last.payload)[name]
        line.counter, line.opening, line.closing = name, opening, closing
        line.opening_at, line.closing_at = first.occurred_at.isoformat(), last.occurred_at.isoformat()
        step = counter_step(opening, closing, wraps_at) if len(rows) > 1 else None
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


def _billed_lines(session: Session, start: datetime, end: datetime) -> Iterable[tuple[ChargeLine, Ticket]]:
    """Charge lines written this month on tickets that were not cancelled."""
    return session.execute(
        select(ChargeLine, Ticket)
        .join(Ticket, ChargeLine.ticket_id == Ticket.id)
        .where(ChargeLine.created_at >= start, ChargeLine.created_at < end,
               Ticket.state != TicketState.CANCELLED.value)
        .order_by(ChargeLine.id)
    ).tuples()


def build(session: Session, month: str, zone: ZoneInfo) -> MonthlyReport:
    start, end = month_bounds(month, zone)
    report = MonthlyReport(month, zone.key)
    devices = _meters(session, start, end)
    event_device = {event_id: device for event_id, device in session.execute(
        select(DeviceEvent.id, DeviceEvent.device).where(DeviceEvent.occurred_at >= start,
                                                         DeviceEvent.occurred_at < end)
    )}

    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    fax: dict[int, FaxDestination] = {}  # by call event
    fax_amounts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line, ticket in _billed_lines(session, start, end):
        revenue[ticket.kind] += line.amount
        if line.rule.startswith("copy.prices") and ticket.device:
            devices.setdefault(ticket.device, DeviceLine(ticket.device)).billed_copy_sides += int(line.quantity)
        elif line.rule.startswith("print.prices") and line.event_id in event_device:
            device = event_device[line.event_id]
            devices.setdefault(device, DeviceLine(device)).billed_print_sides += int(line.quantity)
        if ticket.kind == "fax_out" and line.event_id is not None:
            fax_amounts[line.event_id] += line.amount
            if line.rule.startswith("fax_out.destinations"):
                label = line.description.split(",")[0]
                fax[line.event_id] = FaxDestination(label, 1, int(line.inputs.get("billed_s", 0)))

    destinations: dict[str, FaxDestination] = {}
    for event_id, call in fax.items():
        total = destinations.setdefault(call.destination, FaxDestination(call.destination))
        total.calls += 1
        total.billed_seconds += call.billed_seconds
        total.revenue += fax_amounts[event_id]
    report.fax_out = sorted(destinations.values(), key=lambda d: d.revenue, reverse=True)

    for row in session.scalars(select(DeviceEvent).where(
        DeviceEvent.occurred_at >= start, DeviceEvent.occurred_at < end,
        DeviceEvent.kind.in_(("print_job", "fax_call")),
    )):
        unattributed = row.attribution == Attribution.UNATTRIBUTED
        if unattributed:
            report.unattributed_events[row.kind] = report.unattributed_events.get(row.kind, 0) + 1
        if row.kind == "print_job" and unattributed:
            line_ = devices.setdefault(row.device, DeviceLine(row.device))
            try:
                line_.unattributed_print_sides += PrintedJob.from_payload(row.payload).billed_sides
            except InvalidValue:
                pass  # a hand-entered job without a page count: still counted among the events
        elif row.kind == "fax_call" and row.payload.get("direction") == "incoming":
            report.fax_in_calls += 1
            report.fax_in_pages += sum(1 for p in row.payload.get("pages", []) if p.get("delivered"))

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
</body></html>
"""
