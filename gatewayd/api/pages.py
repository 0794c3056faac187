"""Keyset pagination, the one way every list route pages its rows.

A list route adds ``**PAGE`` to its query schema and returns ``page(api, call, query, view, *order)``:

- ``query(session)`` gives the filtered ``select`` (with its eager loads), no order, no limit;
- ``order`` is the sort key, the table's unique id last (``Ticket.id``; or ``DeviceEvent.occurred_at,
  DeviceEvent.id``), all descending (newest first) unless ``ascending=True``;
- ``view(*row)`` turns a selected row into the JSON the route shows (or, with ``batch=True``,
  ``view(session, rows)`` the whole page at once).

The body stays a JSON array (one page). When rows remain after it, the response says so: a
``Link: <...&cursor=N>; rel="next"`` header (RFC 8288) and ``X-Total-Count`` with the rows of the
whole list (``X-Total-Count-Over: 10000`` past that: counting further would cost more than the page). The cursor is the id of the page's last row: the next page starts after that row's sort
key, so rows added meanwhile never shift a page and nothing is skipped or shown twice.
"""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlencode

from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlalchemy.orm import Session

from gatewayd.api.app import Api, Call
from gatewayd.api.server import Response
from gatewayd.errors import InvalidValue

DEFAULT_LIMIT = 200
MAX_LIMIT = 5000
COUNT_LIMIT = 10_000  #: beyond this the response says "more than" instead of counting a year of rows
PAGE = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
              "description": f"rows per page (default {DEFAULT_LIMIT}); more are announced by Link: rel=next"},
    "cursor": {"type": "string", "pattern": r"\d{1,18}",
               "description": "where the page starts: the cursor in the previous page's Link: rel=next"},
}


def _after(order: tuple[Any, ...], values: tuple[Any, ...], ascending: bool) -> Any:
    """Rows strictly after ``values`` in ``order``: a row-value comparison, which both SQLite and
    PostgreSQL answer from an index on the same columns. Each value is bound with its column's type
    (UTC times are stored naive on SQLite)."""
    key, start = tuple_(*order), tuple_(*(bindparam(None, v, type_=c.type) for c, v in zip(order, values)))
    return key > start if ascending else key < start


def rows(session: Session, query: Select, order: tuple[Any, ...], *, limit: int, cursor: str | None,
         ascending: bool = False) -> tuple[list[Any], str | None, int]:
    """One page of ``query``: its rows (without the key columns), the next cursor and, when there
    is a next page, the count of the whole list (``COUNT_LIMIT + 1`` for any more than that)."""
    key = order[-1]
    if cursor is not None:
        values = session.execute(select(*order).where(key == int(cursor))).first()
        if values is None:
            raise InvalidValue(f"cursor {cursor} is not a row of this list; start again without a cursor")
        query_page = query.where(_after(order, tuple(values), ascending))
    else:
        query_page = query
    directed = [c.asc() if ascending else c.desc() for c in order]
    found = session.execute(query_page.add_columns(*order).order_by(*directed).limit(limit + 1)).all()
    width = len(order)
    page = [row[:-width] for row in found[:limit]]
    if len(found) <= limit:
        return page, None, len(page)
    # Counted up to a bound: a count of a year of events would cost more than the page itself.
    counted = query.with_only_columns(key).order_by(None).limit(COUNT_LIMIT + 1).subquery()
    total = session.execute(select(func.count()).select_from(counted)).scalar_one()
    return page, str(found[limit - 1][-1]), total


def page(api: Api, call: Call, query: Callable[[Session], Select], view: Callable[..., Any], *order: Any,
         ascending: bool = False, batch: bool = False) -> Response:
    """Run one page of a list route and answer it (see the module's docstring). With ``batch``,
    ``view(session, rows)`` builds the page's views together (a register that sums each row's calls
    in a fixed number of queries)."""
    with api.ledger.transaction() as session:
        found, cursor, total = rows(session, query(session), order, limit=call.query.get("limit", DEFAULT_LIMIT),
                                    cursor=call.query.get("cursor"), ascending=ascending)
        body = view(session, found) if batch else [view(*row) for row in found]
    headers = []
    if cursor is not None:
        following = {k: v for k, v in call.raw_query.items() if k != "cursor"} | {"cursor": cursor}
        counted = ("x-total-count", str(total)) if total <= COUNT_LIMIT else ("x-total-count-over", str(COUNT_LIMIT))
        headers = [("link", f'<{call.path}?{urlencode(following)}>; rel="next"'), counted]
    return Response(200, json.dumps(body, ensure_ascii=False, default=str).encode(), headers=headers)
