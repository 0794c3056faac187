"""The console's HTTP server: uvicorn, serving the Starlette app inside the daemon's own event loop.

uvicorn's ``Server.serve()`` would take over SIGTERM/SIGINT (the daemon's to handle), so the
daemon drives its two halves itself: ``startup()`` on a socket we bound (a busy port is our clear
error, not uvicorn's ``sys.exit``) and ``shutdown()`` when the daemon stops.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from pathlib import Path
from typing import Any

import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from gatewayd.api.server import Throttled, connection_cap
from gatewayd.console import ConsoleError
from gatewayd.console.logins import LoginLinks

log = structlog.get_logger("gatewayd.console")


def _bind(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except OSError as err:
        sock.close()
        raise ConsoleError(f"console.listen {listen}: cannot listen there ({err.strerror})") from err
    sock.listen(64)
    sock.setblocking(False)
    return sock


def _refuse(transport: asyncio.BaseTransport, status: int, reason: str, detail: str) -> None:
    body = detail.encode()
    transport.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"  # type: ignore[attr-defined]
                    f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
    transport.close()


class LimitedH11(H11Protocol):
    """uvicorn's HTTP/1.1 connection with the limits the Unix-socket API has: past ``cap``
    connections a new one gets a 503 and is closed (descriptors stay for the daemon), and a
    request must arrive whole -- head and body -- within ``request_timeout`` of its first byte
    (or of the connect), else a 408 and the connection is closed. uvicorn alone bounds only the
    wait between requests (``timeout_keep_alive``): a client trickling a header would hold its
    connection for ever."""

    def __init__(self, *args: Any, cap: int, request_timeout: float, log: Throttled, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cap = cap
        self.request_timeout = request_timeout
        self.throttled = log
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.cap:
            self.throttled.warning("console.connections_refused", limit=self.cap)
            _refuse(transport, 503, "Service Unavailable",
                    f"more than {self.cap} console connections at once; try again shortly\n")
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.deadline is not None and self.cycle is not None and not self.cycle.more_body \
                and not self.cycle.response_complete:
            self._disarm()  # the whole request is in: the handler's time is not the client's

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self.deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _too_slow(self) -> None:
        self.deadline = None
        if not self.transport.is_closing():
            self.throttled.warning("console.request_timeout", seconds=self.request_timeout)
            _refuse(self.transport, 408, "Request Timeout",
                    f"the request did not arrive within {self.request_timeout:g} s\n")


class Console:
    """What the API's login-link route and the console pages share: the links and the address."""

    def __init__(self, listen: str, *, session_timeout_s: int, state_dir: Path, max_connections: int = 64,
                 request_timeout: float = 10.0, idle_timeout: float = 60.0):
        self.sock = _bind(listen)
        host, port = self.sock.getsockname()[:2]
        self.host = host
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        self.links = LoginLinks()
        self.session_timeout_s = session_timeout_s
        self.state_dir = state_dir
        self.max_connections = min(max_connections, connection_cap())  # below the descriptor limit
        self.request_timeout = request_timeout
        self.idle_timeout = idle_timeout
        self._server: uvicorn.Server | None = None

    async def start(self, api: Any) -> None:
        from gatewayd.console.app import build_app  # Starlette and Jinja2 only when the console is on

        config = uvicorn.Config(
            build_app(self, api), lifespan="off", log_config=None, access_log=False, server_header=False,
            timeout_graceful_shutdown=5, proxy_headers=False,
            http=functools.partial(LimitedH11, cap=self.max_connections, request_timeout=self.request_timeout,
                                   log=Throttled()),
            # uvicorn counts the asking connection too: past our cap it never gets that far.
            limit_concurrency=self.max_connections + 1, timeout_keep_alive=int(self.idle_timeout),
            h11_max_incomplete_event_size=64 * 1024,  # a request head, as on the socket
        )
        config.load()
        self._server = uvicorn.Server(config)
        self._server.lifespan = config.lifespan_class(config)
        await self._server.startup(sockets=[self.sock])
        log.info("console.listening", url=self.url)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown(sockets=[self.sock])
        else:
            self.sock.close()
