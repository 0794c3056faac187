"""The staff API: HTTP/JSON on a Unix socket."""

from __future__ import annotations

from gatewayd.api.app import Route


def routes() -> list[Route]:
    """Every route the daemon serves, joined from the domain modules."""
    from gatewayd.api import billing, core, printing

    return [*core.ROUTES, *billing.ROUTES, *printing.ROUTES]
