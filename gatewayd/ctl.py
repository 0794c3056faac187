"""``gatewayctl``: the front desk's command line, a client of the staff API and nothing more.

Exit codes: 0 done, 1 refused by the daemon (its detail is printed), 2 usage, 3 daemon unreachable.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sys
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from gatewayd.tables import render

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
SOCKET_ENV = "GATEWAYD_SOCKET"
DEFAULT_SOCKET = "/run/gatewayd/api.sock"


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
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        headers = {"content-type": "application/json"} if data is not None else {}
        try:
            self.conn.request(method, target, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (FileNotFoundError, ConnectionRefusedError, PermissionError) as err:
            self.conn.close()
            raise Unreachable(f"cannot reach gatewayd at {self.path}: {err.strerror}") from err
        except (http.client.HTTPException, OSError) as err:
            self.conn.close()
            raise Unreachable(f"connection to gatewayd at {self.path} failed: {err}") from err
        decoded = json.loads(payload) if payload else None
        if response.status >= 400:
            detail = decoded.get("detail", "") if isinstance(decoded, dict) else payload.decode(errors="replace")
            raise Refused(response.status, detail)
        return decoded

    def get(self, target: str, **query: Any) -> Any:
        params = {k: v for k, v in query.items() if v not in (None, False)}
        params = {k: ("true" if v is True else v) for k, v in params.items()}
        return self.request("GET", target + (f"?{urlencode(params)}" if params else ""))

    def post(self, target: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", target, {k: v for k, v in (body or {}).items() if v is not None})


#: The site's time zone, from GET /status; times are stored in UTC and shown in local time.
_site_zone: ZoneInfo | None = None


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(_site_zone).strftime("%Y-%m-%d %H:%M")


def _customer(t: dict[str, Any]) -> str:
    if t.get("tenant"):
        return f"{t['tenant']} {t['room']}".strip()
    return f"{t.get('guest_name', '')} (walk-in)"


def show_tickets(tickets: list[dict[str, Any]]) -> str:
    rows = [(t["id"], t["kind"], t["state"], _customer(t), t["total"], t["balance"], _local(t["created_at"]))
            for t in tickets]
    return render(["ticket", "kind", "state", "customer", "total", "balance", "opened"], rows, numeric=(4, 5))


def show_ticket(t: dict[str, Any]) -> str:
    lines = [
        f"{t['id']}  {t['kind']}  {t['state']}  (version {t['version']})",
        f"customer: {_customer(t)}" + (f"  phone {t['guest_phone']}" if t.get("guest_phone") else ""),
        f"opened:   {_local(t['created_at'])} by {t['opened_by']}",
    ]
    if t.get("device"):
        lines.append(f"device:   {t['device']}")
    if t.get("params"):
        lines.append("details:  " + ", ".join(f"{k}={v}" for k, v in t["params"].items()))
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
    rows = [(e["id"], e["kind"], e["device"], _local(e["occurred_at"]), e["ticket"] or e["attribution"],
             "manual" if e["manual"] else "") for e in items]
    return render(["event", "kind", "device", "at", "ticket", ""], rows)


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--param wants key=value, got {pair!r}")
        out[key] = value
    return out


def run(args: argparse.Namespace, client: Client) -> tuple[Any, str | None]:
    """Do the command; return the JSON result and its human rendering (None: print JSON)."""
    cmd = args.command
    if cmd == "status":
        s = client.get("/status")
        devices = render(["device", "running", "restarts", "last error"],
                         [(d["driver"], d["running"], d["restarts"], d["last_error"]) for d in s["devices"]])
        return s, f"gatewayd {s['version']}, up {s['uptime_s']} s, database {s['database']['url']}\n{devices}"
    if cmd == "ticket":
        action = args.action
        if action == "open":
            body = {"kind": args.kind, "company": args.company, "room": args.room, "guest_name": args.guest,
                    "guest_phone": args.phone, "device": args.device, "params": _params(args.param) or None,
                    "quoted_total": args.quote, "note": args.note}
            t = client.post("/tickets", body)
            return t, show_ticket(t)
        if action == "list":
            ts = client.get("/tickets", state=args.state, kind=args.kind, tenant=args.tenant,
                            since=args.since, until=args.until)
            return ts, show_tickets(ts)
        if action == "show":
            t = client.get(f"/tickets/{quote(args.id)}")
            return t, show_ticket(t)
        body = {"version": args.version}
        if action in ("cancel", "fail"):
            body["reason"] = args.reason
        if action == "complete":
            body["signed_by"] = args.signed_by
        if action == "settle":
            body["method"] = args.method
        t = client.post(f"/tickets/{quote(args.id)}/{action}", body)
        return t, show_ticket(t)
    if cmd == "charge":
        t = client.post(f"/tickets/{quote(args.id)}/charges",
                        {"description": args.description, "quantity": args.quantity, "unit_price": args.unit_price,
                         "unit": args.unit})
        return t, show_ticket(t)
    if cmd == "pay":
        t = client.post(f"/tickets/{quote(args.id)}/payments", {"amount": args.amount, "method": args.method})
        return t, show_ticket(t)
    if cmd == "events":
        if args.action == "list":
            es = client.get("/events", unattributed=args.unattributed, kind=args.kind, device=args.device,
                            ticket=args.ticket)
            return es, show_events(es)
        if args.action == "add":
            e = client.post("/events", {"kind": args.kind, "device": args.device, "natural_key": args.key,
                                        "occurred_at": args.at, "payload": json.loads(args.payload),
                                        "ticket": args.ticket})
            return e, show_events([e])
        e = client.post(f"/events/{args.event}/attach", {"ticket": args.ticket})
        return e, show_events([e])
    if cmd == "tenant":
        if args.action == "list":
            ts = client.get("/tenants")
            return ts, render(["company", "rooms", "contact", "phone"],
                              [(t["company"], ",".join(t["rooms"]), t["contact"], t["phone"]) for t in ts])
        if args.action == "add":
            t = client.post("/tenants", {"company": args.company, "rooms": args.rooms, "contact": args.contact,
                                         "phone": args.phone, "email": args.email})
            return t, f"saved {t['company']}"
        with open(args.csv, encoding="utf-8-sig") as f:
            report = client.post("/tenants/import", {"csv": f.read()})
        text = f"imported {report['imported']}, rejected {len(report['rejected'])}"
        for r in report["rejected"]:
            text += f"\n  line {r['line']}: {r['reason']}"
        return report, text
    if cmd == "audit":
        entries = client.get("/audit", entity="ticket" if args.ticket else None, id=args.ticket)
        return entries, render(["at", "who", "action", "what", "change"],
                               [(_local(e["at"]), e["actor"], e["action"], e["entity_id"],
                                 _change(e) + (" [manual]" if e["manual"] else "")) for e in entries])
    raise AssertionError(cmd)


def _change(entry: dict[str, Any]) -> str:
    before, after = entry["before"] or {}, entry["after"] or {}
    if before:
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        return ", ".join(f"{k}: {before.get(k)} → {v}" for k, v in changed.items())
    return ", ".join(f"{k}={v}" for k, v in after.items() if v not in (None, ""))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gatewayctl", description="Front-desk control of gatewayd")
    p.add_argument("--socket", default=os.environ.get(SOCKET_ENV, DEFAULT_SOCKET),
                   help=f"the daemon's API socket (default ${SOCKET_ENV} or {DEFAULT_SOCKET})")
    p.add_argument("--json", action="store_true", help="print JSON for scripts instead of tables")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="daemon and device status")

    ticket = sub.add_parser("ticket", help="service tickets").add_subparsers(dest="action", required=True)
    op = ticket.add_parser("open", help="open a ticket")
    op.add_argument("kind", choices=["fax_out", "fax_in", "print", "copy", "errand", "other"])
    op.add_argument("--company", help="tenant company (from the roster)")
    op.add_argument("--room")
    op.add_argument("--guest", help="walk-in guest's name")
    op.add_argument("--phone", help="walk-in guest's phone")
    op.add_argument("--device", help="copier/printer/modem the job uses")
    op.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="kind-specific detail")
    op.add_argument("--quote", help="quoted price, e.g. 30.00")
    op.add_argument("--note")
    ls = ticket.add_parser("list", help="list tickets")
    ls.add_argument("--state")
    ls.add_argument("--kind")
    ls.add_argument("--tenant")
    ls.add_argument("--since", help="ISO time with offset")
    ls.add_argument("--until", help="ISO time with offset")
    ticket.add_parser("show", help="one ticket").add_argument("id")
    for action in ("start", "finish", "complete", "settle", "cancel", "fail"):
        a = ticket.add_parser(action, help=f"{action} a ticket")
        a.add_argument("id")
        a.add_argument("--version", type=int, help="refuse if the ticket changed since this version")
        if action in ("cancel", "fail"):
            a.add_argument("--reason", required=True)
        if action == "complete":
            a.add_argument("--signed-by", help="customer who signed the form")
        if action == "settle":
            a.add_argument("--method", choices=["cash", "account"], default="cash")

    charge = sub.add_parser("charge", help="add a manual charge line")
    charge.add_argument("id")
    charge.add_argument("description")
    charge.add_argument("quantity")
    charge.add_argument("unit_price")
    charge.add_argument("--unit", default="item")
    pay = sub.add_parser("pay", help="take a payment before settlement (temporary receipt)")
    pay.add_argument("id")
    pay.add_argument("amount")
    pay.add_argument("--method", choices=["cash", "account"], default="cash")

    ev = sub.add_parser("events", help="device events").add_subparsers(dest="action", required=True)
    el = ev.add_parser("list")
    el.add_argument("--unattributed", action="store_true")
    el.add_argument("--kind")
    el.add_argument("--device")
    el.add_argument("--ticket")
    ea = ev.add_parser("add", help="record an event by hand (audited as manual)")
    ea.add_argument("--kind", required=True, choices=["fax_call", "print_job", "meter_reading"])
    ea.add_argument("--device", required=True)
    ea.add_argument("--key", required=True, help="natural key, unique per kind")
    ea.add_argument("--at", required=True, help="ISO time with offset")
    ea.add_argument("--payload", default="{}", help="JSON object")
    ea.add_argument("--ticket")
    et = ev.add_parser("attach", help="put an unattributed event on a ticket")
    et.add_argument("event")
    et.add_argument("ticket")

    tenant = sub.add_parser("tenant", help="tenant roster").add_subparsers(dest="action", required=True)
    tenant.add_parser("list")
    ta = tenant.add_parser("add")
    ta.add_argument("company")
    ta.add_argument("--rooms", default="")
    ta.add_argument("--contact", default="")
    ta.add_argument("--phone", default="")
    ta.add_argument("--email", default="")
    tenant.add_parser("import", help="import a roster CSV").add_argument("csv")

    sub.add_parser("audit", help="audit trail").add_argument("--ticket")
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)  # exits 2 on usage errors
    client = Client(args.socket)
    global _site_zone
    try:
        if not args.json:
            _site_zone = ZoneInfo(client.get("/status")["site"].get("timezone", "UTC"))
        result, text = run(args, client)
    except Unreachable as err:
        print(f"gatewayctl: {err}", file=sys.stderr)
        print(f"hint: is gatewayd running? (systemctl status gatewayd) "
              f"or point --socket / ${SOCKET_ENV} at its socket", file=sys.stderr)
        return EXIT_UNREACHABLE
    except Refused as err:
        print(f"gatewayctl: refused ({err.status}): {err.detail}", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, ValueError) as err:  # a CSV that cannot be read, a --payload that is not JSON
        print(f"gatewayctl: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.json or text is None:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(text)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
