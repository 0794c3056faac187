"""The desk's books in the console: the typing, copy, mail and meeting-room registers per day, the
complaints, and the monthly reconciliation with its CSV and its printable report with charts."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatewayd.console.app import Desk, page

#: register -> (API route, its columns in order, whether the route takes a day): what the books show.
REGISTERS = {
    "typing": ("/registers/typing", ["opened_at", "ticket", "customer", "room", "pages", "printed_sides", "state",
                                     "signed_by", "charged", "keep_until", "opened_by"], True),
    "copy": ("/registers/copy", ["opened_at", "ticket", "customer", "room", "device", "media", "duplex", "sets",
                                 "scale_percent", "sides", "customer_count", "state", "signed_by", "charged",
                                 "opened_by"], True),
    "mail": ("/mail", ["received_at", "kind", "count", "addressee", "addressed_company", "addressed_room", "tracking",
                       "state", "called_at", "picked_up_at", "logged_by"], True),
    "bookings": ("/bookings", ["starts_at", "ends_at", "room", "customer", "purpose", "attendees", "state", "ticket",
                               "booked_by"], True),
    "complaints": ("/complaints", ["received_at", "complainant", "tenant", "subject", "department", "reply_due_at",
                                   "replied_at", "state"], False),
}
# The printable report is a document we generated (inline styles and SVG charts, no script at all).
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"


def _day(desk: Desk, request: Request) -> str:
    return request.query_params.get("date") or datetime.now(desk.formats.zone).date().isoformat()


async def register(desk: Desk, request: Request) -> Response:
    name = request.path_params["name"]
    if name not in REGISTERS:
        return desk.render(request, "error.html", status=404,
                           detail=f"no register {name!r} ({', '.join(REGISTERS)}; the fax registers are under /fax/register)")
    path, columns, dated = REGISTERS[name]
    day = _day(desk, request)
    rows = await desk.call(request.scope["login"], "GET", path, query={"date": day} if dated else {})
    return desk.render(request, "register.html", which=name, day=day, rows=rows, columns=columns, dated=dated)


async def monthly(desk: Desk, request: Request) -> Response:
    month = request.query_params.get("month") or datetime.now(desk.formats.zone).strftime("%Y-%m")
    report = await desk.call(request.scope["login"], "GET", f"/reports/monthly/{month}")
    return desk.render(request, "monthly.html", month=month, report=report)


async def monthly_file(desk: Desk, request: Request) -> Response:
    month, fmt = request.path_params["month"], request.path_params["fmt"]
    if fmt not in ("csv", "html"):
        return desk.render(request, "error.html", status=404, detail=f"no {fmt!r} report (csv or html)")
    answer = await desk.call(request.scope["login"], "GET", f"/reports/monthly/{month}/{fmt}")
    if fmt == "csv":
        return Response(answer.body, media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="reconciliation-{month}.csv"'})
    return Response(answer.body, media_type="text/html; charset=utf-8",
                    headers={"content-security-policy": REPORT_CSP})


ROUTES = [
    Route("/registers/{name}", page(register)),
    Route("/reports/monthly", page(monthly)),
    Route("/reports/monthly/{month}.{fmt}", page(monthly_file)),
]
