"""One-time login links: minted over the Unix socket for the caller's Unix user, redeemed once.

A link is a random token held only in the daemon's memory (a restart forgets every link not yet
used); it names the user the socket's peer credentials named, so nobody can mint a link for
someone else. Redeeming removes it: the second use of a link is refused.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from gatewayd.audit import Caller
from gatewayd.errors import LedgerError

LINK_TTL_S = 120.0  # long enough to click, short enough that a link left in a terminal goes stale
MAX_PENDING = 64  # a local user looping over `gatewayctl console` cannot fill the daemon's memory


class LinkRefused(LedgerError):
    status = 403
    title = "Login link refused"


@dataclass(frozen=True)
class Login:
    caller: Caller  # with via="console": changes made in the browser are audited as such
    gid: int


class LoginLinks:
    def __init__(self, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self._clock = clock
        self._pending: dict[str, tuple[Login, float]] = {}
        self._lock = threading.Lock()

    def mint(self, caller: Caller, gid: int) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._expire()
            if len(self._pending) >= MAX_PENDING:
                oldest = min(self._pending, key=lambda t: self._pending[t][1])
                del self._pending[oldest]
            login = Login(Caller(caller.user, caller.uid, via="console"), gid)
            self._pending[token] = (login, self._clock() + LINK_TTL_S)
        return token

    def redeem(self, token: str) -> Login:
        with self._lock:
            self._expire()
            found = self._pending.pop(token, None)
        if found is None:
            raise LinkRefused("this login link was already used or has expired: run `gatewayctl console` again")
        return found[0]

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, (_, until) in self._pending.items() if until <= now]:
            del self._pending[token]
