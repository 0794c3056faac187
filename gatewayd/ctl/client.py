"""The staff API's client: one keep-alive HTTP connection over the daemon's Unix socket."""

from __future__ import annotations

import http.client
import json
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


class Unreachable(Exception):
    pass


class Refused(Exception):
    def __init__(self, status: int, detail: str):
        self.status = status
        self.detail = detail
        super().__init__(detail)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


class Client:
    """One keep-alive connection to the daemon's socket."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.path = path
        self.conn = _UnixConnection(path, timeout)

    def request(self, method: str, target: str, body: dict[str, Any] | None = None) -> Any:
        payload = self.request_bytes(method, target, body)
        return json.loads(payload) if payload else None

    def request_bytes(self, method: str, target: str, body: dict[str, Any] | None = None) -> bytes:
        return self._exchange(method, target, body)[0]

    def _exchange(self, method: str, target: str, body: dict[str, Any] | None = None) -> tuple[bytes, Any]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        headers = {"content-type": "application/json"} if data is not None else {}
        try:
            try:
                self.conn.request(method, target, body=data, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                # The daemon closed our kept-alive connection while it was idle (api.idle_timeout):
                # on a Unix socket the send fails at once, so the daemon never saw this request.
                self.conn.close()
                self.conn.request(method, target, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (FileNotFoundError, ConnectionRefusedError, PermissionError) as err:
            self.conn.close()
            raise Unreachable(f"cannot reach gatewayd at {self.path}: {err.strerror}") from err
        except (http.client.HTTPException, OSError) as err:
            self.conn.close()
            raise Unreachable(f"connection to gatewayd at {self.path} failed: {err}") from err
        if response.status >= 400:
            try:
                detail = json.loads(payload)["detail"]
            except (ValueError, KeyError, TypeError):
                detail = payload.decode(errors="replace")
            raise Refused(response.status, detail)
        return payload, response.headers

    def get(self, target: str, **query: Any) -> Any:
        return self.request("GET", _with_query(target, query))

    def listing(self, target: str, *, everything: bool = False, **query: Any) -> Listing:
        """A list route's first page, or with ``everything`` every page (following rel=next)."""
        rows: list[Any] = []
        following: str | None = _with_query(target, query)
        while following:
            payload, headers = self._exchange("GET", following)
            rows += json.loads(payload)
            link = _NEXT.search(headers.get("link") or "")
            following = link.group(1) if link else None
            if not everything:
                break
        if following is None:
            return Listing(rows, str(len(rows)))
        over = headers.get("x-total-count-over")
        return Listing(rows, f"more than {over}" if over else headers.get("x-total-count") or "more")

    def post(self, target: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", target, {k: v for k, v in (body or {}).items() if v is not None})


@dataclass(frozen=True)
class Listing:
    rows: list[Any]
    total: str  #: the whole list's size as the daemon counted it ("337", "more than 10000")

    @property
    def note(self) -> str | None:
        """What a table must say when it shows only part of the list."""
        if self.total == str(len(self.rows)):
            return None
        return f"showing {len(self.rows)} of {self.total}, --all for the rest"


_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="next"')


def _with_query(target: str, query: dict[str, Any]) -> str:
    params = {k: v for k, v in query.items() if v not in (None, False)}
    params = {k: ("true" if v is True else v) for k, v in params.items()}
    return target + (f"?{urlencode(params)}" if params else "")
