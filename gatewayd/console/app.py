"""The console's web app: Starlette, Jinja2 templates, signed session cookie, CSRF, strict headers.

Every page reads and every form writes through ``Desk.call``: the staff API's own dispatch
(``Api.handle``) run in-process with the session's ``Caller`` — the same routes, schema checks,
staff-only rule and handlers as the Unix socket, audited ``via="console"``.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

import structlog
from asgi_csrf import asgi_csrf
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gatewayd.api.app import Api
from gatewayd.api.server import Request as ApiRequest
from gatewayd.audit import Caller
from gatewayd.console import explain, i18n
from gatewayd.console.logins import Login

log = structlog.get_logger("gatewayd.console")

HERE = Path(__file__).parent
SESSION_COOKIE = "gatewayd_console"

# Only our own files: no inline script or style, no frames, forms post back to us only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # a login link must never leave in a Referer
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


class Refusal(Exception):
    """The API refused what the console asked: its status and its detail, shown beside the field."""

    def __init__(self, status: int, detail: str):
        self.status = status
        self.detail = detail
        super().__init__(detail)


_NEXT = re.compile(r'<([^>]*)>; rel="next"')


class Desk:
    """What every page needs: the API, the templates, the formats, the remembered languages."""

    def __init__(self, console: Any, api: Api):
        self.console = console
        self.api = api
        site = api.services.site if api.services else None
        zone = site.zone if site else i18n.ZoneInfo(api.site.get("timezone", "UTC"))
        self.formats = i18n.Formats(zone, api.site.get("currency", "CNY"))
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        )
        self.templates.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
        self.templates.globals.update(fmt=self.formats, languages=i18n.LANGUAGES, site=api.site, explain=explain)
        self.templates.filters["changes"] = changes
        self.templates.filters["initials"] = i18n.initials
        self._languages_path = console.state_dir / "console-languages.json"

    # -- who is asking -------------------------------------------------------------------------
    @staticmethod
    def login(request: Request) -> Login | None:
        s = request.session
        if "user" not in s:
            return None
        return Login(Caller(s["user"], s.get("uid"), via="console"), s["gid"])

    def language(self, request: Request, login: Login | None) -> str:
        if login is not None:
            chosen = self._languages().get(login.caller.user)
            if chosen in i18n.LANGUAGES:
                return chosen
        return i18n.best_match(request.headers.get("accept-language", ""))

    def _languages(self) -> dict[str, str]:
        try:
            return json.loads(self._languages_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def remember_language(self, user: str, language: str) -> None:
        chosen = {**self._languages(), user: language}
        self._languages_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._languages_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(chosen, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self._languages_path)

    # -- the API, in-process -------------------------------------------------------------------
    async def call(self, login: Login, method: str, path: str, body: dict[str, Any] | None = None,
                   query: dict[str, Any] | None = None) -> Any:
        """One staff-API request as ``login``'s user: JSON back, or ``Refusal`` with the API's detail."""
        query = {k: v for k, v in (query or {}).items() if v not in (None, "")}
        target = path + (f"?{urlencode(query)}" if query else "")
        data = b"" if method == "GET" else json.dumps(body or {}, ensure_ascii=False, default=str).encode()
        response = await self.api.handle(ApiRequest(method, target, {}, data, login.caller, login.gid))
        if response.status >= 400:
            try:
                detail = json.loads(response.body)["detail"]
            except (ValueError, KeyError, TypeError):
                detail = response.body.decode(errors="replace")
            raise Refusal(response.status, detail)
        if response.content_type != "application/json":
            return response
        answer = json.loads(response.body) if response.body else None
        # A list longer than a page (api.pages): the console shows all of it, never a silent cut.
        while following := _NEXT.search(dict(response.headers).get("link", "")):
            response = await self.api.handle(ApiRequest("GET", following.group(1), {}, b"", login.caller, login.gid))
            answer += json.loads(response.body)
        return answer

    def is_staff(self, login: Login) -> bool:
        return self.api.is_staff(login.caller, login.gid)

    # -- pages ---------------------------------------------------------------------------------
    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        login: Login | None = request.scope.get("login")
        html = self.templates.get_template(template).render(
            request=request, login=login, staff=bool(login and self.is_staff(login)),
            language=i18n.current.get(), csrftoken=request.scope["csrftoken"](), path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """An audit entry as what changed: (key, before, after) for each key whose value differs."""
    before, after = before or {}, after or {}
    return [(k, before.get(k), after.get(k)) for k in [*after, *(k for k in before if k not in after)]
            if before.get(k) != after.get(k) and (before.get(k), after.get(k)) != (None, "")]


Page = Callable[[Desk, Request], Awaitable[Response]]


def page(handler: Page, *, public: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """A console page: the language chosen, the session's user required (else the login page), and
    an API refusal the page did not handle itself shown with the API's detail."""

    async def endpoint(request: Request) -> Response:
        desk: Desk = request.app.state.desk
        login = desk.login(request)
        request.scope["login"] = login
        token = i18n.current.set(desk.language(request, login))
        try:
            if login is None and not public:
                return desk.render(request, "login.html", status=401)
            if login is not None:
                structlog.contextvars.bind_contextvars(user=login.caller.user, via="console")
            try:
                return await handler(desk, request)
            except Refusal as err:  # a read the API refused (an unknown ticket...): its detail, not a 500
                return desk.render(request, "error.html", status=err.status, detail=err.detail)
        finally:
            i18n.current.reset(token)

    return endpoint


class SecurityHeaders:
    """The same strict headers on every response, whatever produced it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A page that sets its own policy (the printable report: inline styles, never
                # script) keeps it; every other answer gets ours.
                own = {name.lower() for name, _ in headers}
                message = {**message, "headers": [*headers, *(h for h in SECURITY_HEADERS if h[0] not in own)]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over the API's own limit (``api.max_body_bytes``) before anyone reads them."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > self.limit:
                await Response(f"request body larger than {self.limit} bytes (api.max_body_bytes)\n", 413,
                               media_type="text/plain")(scope, receive, send)
                return
            seen = 0

            async def counted() -> Message:
                nonlocal seen
                message = await receive()
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise ValueError("request body over the limit")  # a body longer than its Content-Length
                return message

            await self.app(scope, counted, send)
            return
        await self.app(scope, receive, send)


async def _csrf_failed(scope: Scope, send: Send, message_id: Any) -> None:
    body = ("The form was refused: its security token is missing or stale (CSRF). "
            "Reload the page and try again. / 表单已过期，请刷新页面后重试。\n").encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body})


def build_app(console: Any, api: Api) -> ASGIApp:
    from gatewayd.console import book_pages, fax_pages, pages

    allowed = sorted({console.host, "127.0.0.1", "localhost", "::1", "[::1]"})
    secret = secrets.token_urlsafe(32)  # per start: a restart logs everyone out, nothing to keep safe on disk
    max_body = api.services.config.api["max_body_bytes"] if api.services else 1 << 20
    app = Starlette(
        routes=[*pages.ROUTES, *fax_pages.ROUTES, *book_pages.ROUTES, Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed),  # DNS rebinding: only our own names
            Middleware(SecurityHeaders),
            Middleware(BodyLimit, limit=max_body),
            Middleware(asgi_csrf, signing_secret=secret, cookie_samesite="Strict", cookie_name="gatewayd_csrf",
                       send_csrf_failed=_csrf_failed),
            Middleware(SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE,
                       max_age=console.session_timeout_s, same_site="strict", https_only=False),
        ],
    )
    app.state.desk = Desk(console, api)
    return app


__all__ = ["Desk", "Refusal", "Route", "build_app", "page"]
