"""HTTP/1.1 on a Unix socket (h11 does the protocol; this file only moves bytes).

The caller is whoever the kernel says is on the other end (SO_PEERCRED), never what a header
claims. A request in flight when the daemon is told to stop is finished before the socket closes.
"""

from __future__ import annotations

import asyncio
import grp
import json
import os
import pwd
import resource
import socket
import stat
import struct
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Awaitable, Callable

import h11
import structlog

from gatewayd.audit import Caller

log = structlog.get_logger("gatewayd.api")

_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    caller: Caller
    gid: int
    head_only: bool = False  #: a HEAD request: answered as GET, without the body


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response]]


class SocketInUse(Exception):
    """Another live process answers on our socket path."""


def peer(sock: socket.socket) -> tuple[Caller, int]:
    _pid, uid, gid = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"uid:{uid}"  # a container user without a passwd entry is still someone
    return Caller(user=name, uid=uid), gid


def claim_socket_path(path: Path) -> None:
    """Remove a stale socket left by a dead daemon; refuse if a live one still answers there,
    and never remove anything that is not a socket (``--socket`` naming the database, say)."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketInUse(f"{path} exists and is not a socket; refusing to remove it (choose another --socket)")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        log.info("api.stale_socket_removed", path=str(path))
        path.unlink(missing_ok=True)
        return
    except OSError as err:
        raise SocketInUse(f"{path} exists and cannot be probed ({err.strerror}); remove it if no daemon runs") from err
    finally:
        probe.close()
    raise SocketInUse(f"{path} is held by a running gatewayd; stop it first or use another --socket")


class Throttled:
    """One log line per condition per interval, however often it happens: a flood of slow
    clients must not become a flood of log lines (the count of the quiet ones comes with the
    next line)."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def warning(self, event: str, condition: str = "", **fields: object) -> None:
        key = f"{event} {condition}"
        now = self.clock()
        if now - self._last.get(key, -self.interval) < self.interval:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return
        self._last[key] = now
        log.warning(event, **({"condition": condition} if condition else {}), **fields,
                    suppressed=self._quiet.pop(key, 0))

    def asyncio_handler(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """For ``loop.set_exception_handler``: asyncio's own complaints (an accept() that ran out
        of descriptors, a transport's error) throttled like ours, without a traceback each."""
        self.warning("asyncio.error", str(context.get("message", "")), error=repr(context.get("exception")))


def connection_cap(reserve: int = 128) -> int:
    """Connections at once, below the descriptor limit (systemd's default soft limit is 1,024)
    by a reserve for the database, the drivers' devices and the renderers' pipes."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(8, soft - reserve)


class ApiServer:
    #: Pending connects the kernel queues for us (the listen backlog); the kernel caps it at
    #: net.core.somaxconn (4,096 on Debian 12).
    BACKLOG = 4096

    def __init__(self, path: Path, handler: Handler, *, mode: int = 0o660, group: str = "", max_body: int = 1 << 20,
                 max_connections: int | None = None, request_timeout: float = 10.0, idle_timeout: float = 60.0):
        self.path = path
        self.handler = handler
        self.mode = mode
        self.group = group
        self.max_body = max_body
        self.max_connections = max_connections or connection_cap()
        self.request_timeout = request_timeout  #: a request's first byte to its last (head and body)
        self.idle_timeout = idle_timeout  #: a kept-alive connection waiting for its next request
        self.log = Throttled()
        self._server: asyncio.AbstractServer | None = None
        self._open = 0
        self._idle: set[asyncio.Task] = set()
        self._busy: set[asyncio.Task] = set()
        self._stopping = False

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        claim_socket_path(self.path)
        self._server = await asyncio.start_unix_server(self._connection, path=str(self.path), backlog=self.BACKLOG)
        os.chmod(self.path, self.mode)
        if self.group:
            os.chown(self.path, -1, grp.getgrnam(self.group).gr_gid)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, drop idle connections, let requests in flight finish."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for task in list(self._idle):
            task.cancel()
        if self._busy:
            await asyncio.wait(list(self._busy), timeout=grace)
        self.path.unlink(missing_ok=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._open += 1
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            if self._open > self.max_connections:
                self.log.warning("api.connections_refused", limit=self.max_connections)
                await self._send(conn, writer, _closing(problem(
                    503, f"more than {self.max_connections} connections at once; try again shortly")))
                return
            caller, gid = peer(writer.get_extra_info("socket"))
            while not self._stopping:
                self._idle.add(task)
                try:
                    request = await self._read_request(conn, reader, caller, gid)
                finally:
                    self._idle.discard(task)
                if request is None:
                    break
                self._busy.add(task)
                try:
                    if isinstance(request, Response):  # refused while reading (413, 400, 408)
                        response = request
                    else:
                        response = await self.handler(request)
                    await self._send(conn, writer, response, head_only=getattr(request, "head_only", False))
                    if isinstance(request, Response):
                        await _linger(reader)
                finally:
                    self._busy.discard(task)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (asyncio.CancelledError, ConnectionError, h11.LocalProtocolError):
            pass
        finally:
            self._open -= 1
            writer.close()

    async def _receive(self, conn: h11.Connection, reader: asyncio.StreamReader, deadline: float | None) -> bool:
        """More bytes for h11: False on a timeout (idle before a request, slow within one)."""
        wait = self.idle_timeout if deadline is None else deadline - time.monotonic()
        try:
            data = await asyncio.wait_for(reader.read(65536), max(wait, 0))
        except asyncio.TimeoutError:
            return False
        conn.receive_data(data)
        return True

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader, caller: Caller, gid: int
    ) -> Request | Response | None:
        head: h11.Request | None = None
        body = bytearray()
        deadline: float | None = None  # set by the request's first byte
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as err:
                return _closing(problem(400, f"malformed HTTP request: {err}"))
            if event is h11.NEED_DATA:
                if deadline is None and conn.trailing_data[0]:
                    deadline = time.monotonic() + self.request_timeout
                if not await self._receive(conn, reader, deadline):
                    if deadline is None and not conn.trailing_data[0]:
                        return None  # idle: close quietly
                    self.log.warning("api.request_timeout", seconds=self.request_timeout)
                    return _closing(problem(408, f"the request did not arrive within {self.request_timeout:g} s"))
                if deadline is None:
                    deadline = time.monotonic() + self.request_timeout
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            if isinstance(event, h11.Request):
                head = event
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
                if "transfer-encoding" in headers and "content-length" in headers:
                    # RFC 9112 6.1: the message is ambiguous (request smuggling); answer and close.
                    return _closing(problem(400, "both Content-Length and Transfer-Encoding: send one"))
                length = headers.get("content-length")
                if length is not None and length.isdigit() and int(length) > self.max_body:
                    return _too_large(self.max_body)
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.max_body:
                    return _too_large(self.max_body)
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in head.headers}
                method = head.method.decode("latin-1")
                # HEAD is GET without the body (RFC 9110 9.3.2): same status and headers.
                return Request("GET" if method == "HEAD" else method, head.target.decode("latin-1"), headers,
                               bytes(body), caller, gid, head_only=method == "HEAD")

    async def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, response: Response,
                    head_only: bool = False) -> None:
        headers = [
            ("content-type", response.content_type),
            ("content-length", str(len(response.body))),
            *response.headers,
        ]
        if self._stopping:
            headers.append(("connection", "close"))
        if conn.our_state is h11.SEND_RESPONSE:
            data = conn.send(h11.Response(status_code=response.status, headers=headers))
            data += conn.send(h11.Data(data=response.body)) if response.body and not head_only else b""
            data += conn.send(h11.EndOfMessage())
        else:  # refused before a request head was read (too many connections, too slow): h11 has
            # nothing to answer, but the client still deserves to know why, then the connection ends
            lines = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}",
                     *(f"{k}: {v}" for k, v in headers if k != "connection"), "connection: close"]
            data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body
        writer.write(data)
        await writer.drain()


async def _linger(reader: asyncio.StreamReader, limit: int = 64 << 20, seconds: float = 5.0) -> None:
    """Read and drop the rest of a refused upload, so the client gets to read our 413 instead of
    a broken pipe; bounded in bytes and time."""
    async def drain() -> None:
        seen = 0
        while seen < limit and (chunk := await reader.read(65536)):
            seen += len(chunk)

    try:
        await asyncio.wait_for(drain(), seconds)
    except asyncio.TimeoutError:
        pass


def problem(status: int, detail: str, title: str | None = None) -> Response:
    """An RFC 9457 problem document, the only shape an error leaves the API in."""
    body = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail}
    # backslashreplace: a detail quoting a caller's lone surrogate still leaves as UTF-8.
    return Response(status, json.dumps(body, ensure_ascii=False).encode("utf-8", "backslashreplace"),
                    "application/problem+json")


def _closing(response: Response) -> Response:
    """The connection is closed after this answer: what else the client sent cannot be trusted."""
    response.headers.append(("connection", "close"))
    return response


def _too_large(limit: int) -> Response:
    return problem(413, f"request body larger than {limit} bytes (api.max_body_bytes)")
