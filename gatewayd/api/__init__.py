"""The staff API: HTTP/JSON on a Unix socket."""

from __future__ import annotations

from gatewayd.api.app import Route


def routes() -> list[Route]:
    """Every route the daemon serves, joined from the domain modules.

    A domain may extend a core route for its own tickets (``EXTENDS``: (method, path) -> wrapper
    of the route it replaces, which it calls for every other ticket).
    """
    from gatewayd.api import backup, billing, console, copying, core, desk, devices, fax, printing, reports

    joined = [*core.ROUTES, *billing.ROUTES, *printing.ROUTES, *devices.ROUTES, *copying.ROUTES, *fax.ROUTES,
              *reports.ROUTES, *desk.ROUTES, *backup.ROUTES, *console.ROUTES]
    for extends in (copying.EXTENDS,):
        joined = [extends[(r.method, r.path)](r) if (r.method, r.path) in extends else r for r in joined]
    return joined
