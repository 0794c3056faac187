"""How gatewayctl shows things to people: local times and tables that line up CJK text."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gatewayd.ctl.client import Client, Listing
from gatewayd.tables import render

class SiteZone:
    """The site's time zone: times are stored in UTC and shown in the site's local time. Asked of
    the daemon (GET /site) the first time a time is shown, so a command that shows none asks
    nothing; ``main`` gives it no client under --json, where nothing is shown."""

    def __init__(self, client: Client | None = None):
        self.client = client
        self.zone: ZoneInfo | None = None

    def __call__(self, client: Client | None = None) -> ZoneInfo | None:
        asking = client or self.client
        if self.zone is None and asking is not None:
            self.zone = ZoneInfo(asking.get("/site")["timezone"])
        return self.zone


site_zone = SiteZone()


def local(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(site_zone()).strftime("%Y-%m-%d %H:%M")


ALL = "every page, not only the first (a list longer than a page says so)"


def listed(args: argparse.Namespace, listing: Listing, table: str) -> tuple[Any, str]:
    """A list command's result: never a silent cut (the note goes to stderr beside --json)."""
    if listing.note and args.json:
        print(f"gatewayctl: {listing.note}", file=sys.stderr)
    return listing.rows, table + (f"\n{listing.note}" if listing.note else "")


def customer(t: dict[str, Any]) -> str:
    if t.get("tenant"):
        return f"{t['tenant']} {t['room']}".strip()
    return f"{t.get('guest_name', '')} (walk-in)"


def show_tickets(tickets: list[dict[str, Any]]) -> str:
    rows = [(t["id"], t["kind"], t["state"], customer(t), t["total"], t["balance"], local(t["created_at"]))
            for t in tickets]
    return render(["ticket", "kind", "state", "customer", "total", "balance", "opened"], rows, numeric=(4, 5))


def show_ticket(t: dict[str, Any]) -> str:
    lines = [
        f"{t['id']}  {t['kind']}  {t['state']}  (version {t['version']})",
        f"customer: {customer(t)}" + (f"  phone {t['guest_phone']}" if t.get("guest_phone") else ""),
        f"opened:   {local(t['created_at'])} by {t['opened_by']}",
    ]
    if t.get("device"):
        lines.append(f"device:   {t['device']}")
    # Scalar params are what staff typed on the form; nested ones are a domain's own bookkeeping
    # (a copy ticket's meter readings), shown by that domain's commands.
    details = {k: v for k, v in t.get("params", {}).items() if not isinstance(v, (dict, list))}
    if details:
        lines.append("details:  " + ", ".join(f"{k}={v}" for k, v in details.items()))
    if t.get("quoted_total"):
        lines.append(f"quoted:   {t['quoted_total']}")
    if t.get("reason"):
        lines.append(f"reason:   {t['reason']}")
    if t.get("signed_by"):
        lines.append(f"signed:   {t['signed_by']}")
    if t["charges"]:
        lines += ["", render(
            ["charge", "qty", "unit price", "amount"],
            [(c["description"] + (" [manual]" if c["manual"] else ""), f"{c['quantity']} {c['unit']}",
              c["unit_price"], c["amount"]) for c in t["charges"]],
            numeric=(1, 2, 3),
        )]
    lines += ["", f"total {t['total']}   paid {t['paid']}   balance {t['balance']}"]
    for r in t["receipts"]:
        exchanged = f" (exchanged for {r['exchanged_for']})" if r["exchanged_for"] else ""
        lines.append(f"receipt {r['number']} {r['kind']} {r['amount']}{exchanged}")
    return "\n".join(lines)


def show_events(items: list[dict[str, Any]]) -> str:
    rows = [(e["id"], e["kind"], e["device"], local(e["occurred_at"]), e["ticket"] or e["attribution"],
             "manual" if e["manual"] else "") for e in items]
    return render(["event", "kind", "device", "at", "ticket", ""], rows)


def change(entry: dict[str, Any]) -> str:
    before, after = entry["before"] or {}, entry["after"] or {}
    if before:
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        return ", ".join(f"{k}: {before.get(k)} → {v}" for k, v in changed.items())
    return ", ".join(f"{k}={v}" for k, v in after.items() if v not in (None, ""))
