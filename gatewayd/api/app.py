"""The staff API's machinery: routes with their schemas, dispatch, and the generated OpenAPI document.

The route tables live beside their domain (``core.py``, ...) and are joined in ``routes()``; what the
OpenAPI document shows is exactly what dispatch checks. Handlers are plain blocking functions run on
the daemon's single database thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import os
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import structlog
from sqlalchemy.exc import DBAPIError

import gatewayd
from gatewayd import storage
from gatewayd.api.schema import LARGEST_INT, check_object, check_query, decode
from gatewayd.api.server import Request, Response, problem
from gatewayd.audit import Caller
from gatewayd.checkup import Checkup
from gatewayd.errors import Forbidden, LedgerError, NotFound
from gatewayd.ledger import Ledger

log = structlog.get_logger("gatewayd.api")

TICKET_ID = {"type": "string", "pattern": r"T-\d{4}-\d{6}", "description": "a ticket id like T-2026-000123"}
MONEY = {"type": "string", "format": "decimal", "description": "decimal amount as a string, e.g. \"12.50\""}


def obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: who, which path parameters, typed query and body."""

    caller: Caller
    gid: int
    params: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]
    path: str = ""  #: the request's path, for links to the next page (``api.pages``)
    raw_query: dict[str, str] = field(default_factory=dict)  #: the query string as sent


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    handler: Callable[[Api, Call], Any]
    body: dict[str, Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    staff_only: bool = False  # manual entries that bypass the devices

    @property
    def segments(self) -> list[str]:
        return self.path.strip("/").split("/")


class Api:
    def __init__(
        self,
        ledger: Ledger,
        executor: Executor,
        routes: list[Route],
        *,
        staff_group_gid: int | None = None,
        device_status: Callable[[], list[dict[str, Any]]] = list,
        site: dict[str, Any] | None = None,
        services: Any = None,
        console: Any = None,
        checkup: Checkup | None = None,
    ):
        self.ledger = ledger
        #: what /status reports of the storage, spool and deadlines, checked by the daemon
        self.checkup = checkup or Checkup(ledger, services)
        self.routes = routes
        self.site = site or {}
        self.services = services  # gatewayd.services.Services: config and drivers, for device routes
        self.console = console  # gatewayd.console.server.Console when [console] listen is set
        self.executor = executor
        self.staff_group_gid = staff_group_gid
        self.device_status = device_status
        self.started = time.monotonic()

    async def db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking ledger work on the single database thread."""
        # Carry the request's bound log ids (ticket, device...) into the database thread.
        context = contextvars.copy_context()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, context.run, fn, *args)
        except DBAPIError as err:  # the storage under the database, said as such (503), or a bug (500)
            cause = storage.cause_of(err, self.ledger.sessions.kw["bind"])
            if cause is None:
                raise
            if self.checkup.storage.set(cause, str(err.orig), self.ledger.clock()):
                log.error("storage.problem", problem=cause, detail=str(err.orig))
            raise storage.unavailable(err, cause) from err

    def is_staff(self, caller: Caller, gid: int) -> bool:
        if caller.uid in (0, os.getuid()) or self.staff_group_gid is None:
            return True
        groups = os.getgrouplist(caller.user, gid) if not caller.user.startswith("uid:") else [gid]
        return self.staff_group_gid in groups

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        # Each connection is its own task (its own context): start every request with a clean slate.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(user=request.caller.user, via=request.caller.via)
        try:
            response = await self._dispatch(request)
        except LedgerError as err:
            response = problem(err.status, err.detail, err.title)
        except Exception:  # noqa: BLE001 - the request edge: a bug answers 500 and is logged, the daemon lives on
            log.exception("api.internal_error", method=request.method, path=request.target)
            response = problem(500, "internal error in gatewayd; the details are in its log")
        log.info(
            "api.request", method=request.method, path=request.target, status=response.status,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return response

    async def _dispatch(self, request: Request) -> Response:
        url = urlsplit(request.target)
        route, params = _find(self.routes, request.method, url.path)
        structlog.contextvars.bind_contextvars(**_log_ids(route, params))
        raw_query = dict(parse_qsl(url.query, keep_blank_values=True))
        query = check_query(raw_query, route.query)
        call = Call(request.caller, request.gid, params, query, {}, url.path, raw_query)
        # Who may ask comes before what they sent: a stranger learns nothing from our validation.
        if route.staff_only and not self.is_staff(call.caller, call.gid):
            raise Forbidden(f"{request.method} {route.path} is for staff (members of the api.group group)")
        if route.body is not None:
            call = replace(call, body=check_object(decode(request.body), route.body))
        elif request.body:
            return problem(400, f"{request.method} {route.path} takes no body", "Unexpected body")
        if inspect.iscoroutinefunction(route.handler):
            result = await route.handler(self, call)  # talks to a device first, then uses self.db()
        else:
            result = await self.db(route.handler, self, call)
        if isinstance(result, Response):
            return result
        return Response(route.status, json.dumps(result, ensure_ascii=False, default=str).encode())


def _log_ids(route: Route, params: dict[str, str]) -> dict[str, str]:
    """Path parameters named for logs by what they identify: /tickets/{id} binds ticket=..."""
    names = {}
    for before, segment in zip(route.segments, route.segments[1:]):
        if segment.startswith("{"):
            names[before.removesuffix("s")] = params[segment.strip("{}").partition(":")[0]]
    return names


def _find(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]]:
    segments = path.strip("/").split("/")
    path_known = False
    for route in routes:
        pattern = route.segments
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        for n, (want, got) in enumerate(zip(pattern, segments)):
            if want.startswith("{"):
                name, _, kind = want.strip("{}").partition(":")
                what = pattern[n - 1].removesuffix("s") if n else name
                if kind == "int" and not (got.isascii() and got.isdigit()):  # "{id:int}": a row id, never a name
                    raise NotFound(f"no {what} {got!r} ({what} ids are numbers)")
                if kind == "int" and int(got) > LARGEST_INT:
                    raise NotFound(f"no {what} {got!r} ({what} ids are below {LARGEST_INT + 1})")
                params[name] = got
            elif want != got:
                break
        else:
            path_known = True
            if route.method == method:
                return route, params
    if path_known:
        raise MethodNotAllowed(f"{method} is not allowed on {path}")
    raise NotFound(f"no such endpoint {path} (see /openapi.json)")


class MethodNotAllowed(LedgerError):
    status = 405
    title = "Method not allowed"


def openapi_document(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    problem_ref = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": f"{route.method.lower()}_{route.handler.__name__}",
            "summary": route.summary,
            "responses": {
                str(route.status): {"description": "OK", "content": {"application/json": {}}},
                "default": {"description": "An error, as RFC 9457 problem details", **problem_ref},
            },
        }
        params = [{"name": p.strip("{}").partition(":")[0], "in": "path", "required": True,
                   "schema": {"type": "integer" if p.endswith(":int}") else "string"}}
                  for p in route.segments if p.startswith("{")]
        params += [{"name": name, "in": "query", "schema": spec} for name, spec in route.query.items()]
        if params:
            operation["parameters"] = params
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "gatewayd staff API", "version": gatewayd.__version__},
        "paths": paths,
        "components": {
            "schemas": {
                "Problem": obj(
                    ["status", "detail"], type={"type": "string"}, title={"type": "string"},
                    status={"type": "integer"}, detail={"type": "string"},
                )
            }
        },
    }
