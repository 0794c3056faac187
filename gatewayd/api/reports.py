"""The monthly meter reconciliation, as JSON, CSV for accounting, or a readable HTML report."""

from __future__ import annotations

from typing import Any

from gatewayd import reports
from gatewayd.api.app import Api, Call, Route
from gatewayd.api.server import Response

MONTH = {"type": "string", "pattern": r"\d{4}-\d{2}", "description": "a month like 2026-11"}


def _build(api: Api, call: Call) -> reports.MonthlyReport:
    with api.ledger.transaction() as session:
        return reports.build(session, call.params["month"], api.ledger.timezone,
                             api.services.config.desk["room_hours_per_day"])


def monthly(api: Api, call: Call) -> dict[str, Any]:
    return _build(api, call).to_json()


def monthly_csv(api: Api, call: Call) -> Response:
    report = _build(api, call)
    return Response(200, reports.to_csv(report).encode(), "text/csv; charset=utf-8",
                    [("content-disposition", f'attachment; filename="reconciliation-{report.month}.csv"')])


def monthly_html(api: Api, call: Call) -> Response:
    report = _build(api, call)
    return Response(200, reports.to_html(report, api.site.get("name", "")).encode(), "text/html; charset=utf-8")


ROUTES = [
    Route("GET", "/reports/monthly/{month}", "Meters against bills for a month (site's calendar)", monthly),
    Route("GET", "/reports/monthly/{month}/csv", "The monthly reconciliation as CSV for accounting", monthly_csv),
    Route("GET", "/reports/monthly/{month}/html", "The monthly reconciliation as a report with charts",
          monthly_html),
]
