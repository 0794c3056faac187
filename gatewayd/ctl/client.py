"""The staff API's client: one keep-alive HTTP connection over the daemon's Unix socket."""

from __future__ import annotations

import http.client
import json
import socket
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
        return payload

    def get(self, target: str, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v not in (None, False)}
        params = {k: ("true" if v is True else v) for k, v in params.items()}
        return self.request("GET", target + (f"?{urlencode(params)}" if params else ""))

    def post(self, target: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", target, {k: v for k, v in (body or {}).items() if v is not None})
