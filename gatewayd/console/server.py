"""The console's HTTP server: uvicorn, serving the Starlette app inside the daemon's own event loop.

uvicorn's ``Server.serve()`` would take over SIGTERM/SIGINT (the daemon's to handle), so the
daemon drives its two halves itself: ``startup()`` on a socket we bound (a busy port is our clear
error, not uvicorn's ``sys.exit``) and ``shutdown()`` when the daemon stops.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import structlog
import uvicorn

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


class Console:
    """What the API's login-link route and the console pages share: the links and the address."""

    def __init__(self, listen: str, *, session_timeout_s: int, state_dir: Path):
        self.sock = _bind(listen)
        host, port = self.sock.getsockname()[:2]
        self.host = host
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        self.links = LoginLinks()
        self.session_timeout_s = session_timeout_s
        self.state_dir = state_dir
        self._server: uvicorn.Server | None = None

    async def start(self, api: Any) -> None:
        from gatewayd.console.app import build_app  # Starlette and Jinja2 only when the console is on

        config = uvicorn.Config(
            build_app(self, api), lifespan="off", log_config=None, access_log=False, server_header=False,
            timeout_graceful_shutdown=5, proxy_headers=False,
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
