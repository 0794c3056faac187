"""The console's door on the Unix socket: a one-time login link for whoever asks (peer credentials)."""

from __future__ import annotations

from typing import Any

from gatewayd.api.app import Api, Call, Route, obj
from gatewayd.console.logins import LINK_TTL_S
from gatewayd.errors import LedgerError


class ConsoleOff(LedgerError):
    status = 503
    title = "Console off"


async def login_link(api: Api, call: Call) -> dict[str, Any]:
    if api.console is None:
        raise ConsoleOff("the console is switched off ([console] listen is empty in the configuration)")
    token = api.console.links.mint(call.caller, call.gid)
    return {"url": f"{api.console.url}/login/{token}", "user": call.caller.user, "expires_in_s": LINK_TTL_S}


ROUTES: list[Route] = [
    Route("POST", "/console/login-link", "A one-time link logging the caller into the browser console", login_link,
          status=201, body=obj()),
]
