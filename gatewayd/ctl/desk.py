"""``gatewayctl mail|complaint|visit|room|booking|papers|typing|register|due``: the desk's other books and its deadlines."""

from __future__ import annotations

import argparse
import base64
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gatewayd.ctl import render as rendering
from gatewayd.ctl.client import Client
from gatewayd.ctl.render import ALL, listed, local
from gatewayd.tables import render

Result = tuple[Any, str | None]

MAIL_KINDS = ["letter", "registered", "parcel_notice", "remittance", "ems"]


def _time(client: Client, text: str) -> str:
    """A wall-clock time typed at the desk ("2026-12-03 14:00") is the site's local time."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=rendering.site_zone(client))
    return moment.isoformat()


# ---------------------------------------------------------------------------- mail


def show_mail(items: list[dict[str, Any]]) -> str:
    rows = [(m["id"], local(m["received_at"]), m["kind"], m["count"], m["tenant"] or "查无此人",
             m["addressed_room"], m["addressee"], m["tracking"], m["state"],
             m["picked_up_by"] or local(m["return_due_at"]), "!" + m["mismatch"] if m["mismatch"] else "")
            for m in items]
    return render(["mail", "received", "kind", "n", "for", "room", "addressee", "tracking", "state",
                   "picked up by / return on", "flag"], rows, numeric=(3,))


def mail_log(args: argparse.Namespace, client: Client) -> Result:
    item = client.post("/mail", {"kind": args.kind, "company": args.company, "room": args.room,
                                 "addressee": args.addressee, "count": args.count, "tracking": args.tracking,
                                 "sender": args.sender})
    return item, show_mail([item])


def mail_list(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/mail", everything=args.all, state=args.state, kind=args.kind, date=args.date)
    return listed(args, items, "信件记录本 mail register\n" + show_mail(items.rows))


def mail_pigeonholes(args: argparse.Namespace, client: Client) -> Result:
    rows = client.get("/mail/pigeonholes", date=args.date)
    return rows, render(["tenant", "rooms", "letters", "flagged"],
                        [(r["tenant"], r["rooms"], r["letters"], r["flagged_batches"]) for r in rows], numeric=(2, 3))


def mail_pick_up(args: argparse.Namespace, client: Client) -> Result:
    item = client.post(f"/mail/{args.item}/pick-up", {"collected_by": args.by, "id_type": args.id_type,
                                                      "id_last_digits": args.id_last})
    return item, f"mail {item['id']} picked up by {item['picked_up_by']} ({item['id_type']} …{item['id_last_digits']})"


def mail_to_call(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/mail/to-call", everything=args.all)
    return listed(args, items, render(["mail", "received", "kind", "for", "room", "call", "phone"], [
        (m["id"], local(m["received_at"]), m["kind"], m["tenant"], m["room"], m["call"], m["phone"])
        for m in items.rows]))


def mail_called(args: argparse.Namespace, client: Client) -> Result:
    item = client.post(f"/mail/{args.item}/called", {})
    return item, f"mail {item['id']}: called"


def mail_to_return(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/mail/to-return", everything=args.all)
    return listed(args, items, "to return to the post office (查无此人)\n" + show_mail(items.rows))


def mail_return(args: argparse.Namespace, client: Client) -> Result:
    item = client.post(f"/mail/{args.item}/return", {})
    return item, f"mail {item['id']}: returned to the post office"


# ---------------------------------------------------------------------------- complaints and visits


def show_complaints(items: list[dict[str, Any]]) -> str:
    def replied(c: dict[str, Any]) -> str:
        if c["replied_at"]:
            return local(c["replied_at"]) + ("" if c["on_time"] else " (late)")
        return "OVERDUE" if c["overdue"] else ""

    rows = [(c["id"], local(c["received_at"]), c["complainant"], c["tenant"] or "", c["subject"][:40], c["department"],
             local(c["reply_due_at"]), replied(c), c["state"]) for c in items]
    return render(["complaint", "received", "who", "tenant", "about", "department", "reply due", "replied", "state"],
                  rows)


def complaint_add(args: argparse.Namespace, client: Client) -> Result:
    c = client.post("/complaints", {"complainant": args.who, "subject": args.subject, "department": args.department,
                                    "company": args.company, "phone": args.phone})
    return c, f"complaint {c['id']} recorded; reply due {local(c['reply_due_at'])} ({c['department']})"


def complaint_list(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/complaints", everything=args.all, state=args.state, overdue=args.overdue)
    return listed(args, items, "客户投诉记录单 complaints\n" + show_complaints(items.rows))


def complaint_note(args: argparse.Namespace, client: Client) -> Result:
    c = client.post(f"/complaints/{args.complaint}/follow-ups", {"note": args.note, "reply": args.reply})
    return c, show_complaints([c])


def complaint_close(args: argparse.Namespace, client: Client) -> Result:
    c = client.post(f"/complaints/{args.complaint}/close", {"outcome": args.outcome, "customer_view": args.view})
    return c, show_complaints([c])


def visit_add(args: argparse.Namespace, client: Client) -> Result:
    v = client.post("/visits", {"company": args.company, "met": args.met, "opinions": args.opinions,
                                "needs_reply": args.needs_reply})
    due = f"; written answer due {local(v['reply_due_at'])}" if v["reply_due_at"] else ""
    return v, f"visit {v['id']} to {v['tenant']} recorded{due}"


def visit_list(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/visits", everything=args.all, company=args.company)
    rows = [(v["id"], local(v["visited_at"]), v["tenant"], v["met"], v["opinions"][:40], local(v["reply_due_at"]),
             local(v["replied_at"]) or ("OVERDUE" if v["overdue"] else "")) for v in items.rows]
    return listed(args, items, "客户访问记录单 tenant visits\n" + render(
        ["visit", "visited", "tenant", "met", "opinions", "answer due", "answered"], rows))


def visit_reply(args: argparse.Namespace, client: Client) -> Result:
    v = client.post(f"/visits/{args.visit}/reply", {"reply": args.reply})
    return v, f"visit {v['id']}: answered"


# ---------------------------------------------------------------------------- meeting rooms


def room_add(args: argparse.Namespace, client: Client) -> Result:
    r = client.post("/meeting-rooms", {"name": args.name, "capacity": args.capacity, "equipment": args.equipment})
    return r, f"meeting room {r['name']} (capacity {r['capacity']})"


def room_list(args: argparse.Namespace, client: Client) -> Result:
    rooms = client.listing("/meeting-rooms", everything=True)
    return listed(args, rooms, render(["room", "capacity", "equipment"],
                                      [(r["name"], r["capacity"], ", ".join(r["equipment"])) for r in rooms.rows],
                                      numeric=(1,)))


def show_bookings(items: list[dict[str, Any]]) -> str:
    rows = [(b["id"], b["room"], local(b["starts_at"]), local(b["ends_at"])[-5:], b["customer"], b["attendees"],
             ", ".join(f"{k} {v}" for k, v in b["extras"].items()), b["ticket"], b["state"],
             sum(1 for t in b["checklist"] if t["done_at"] is None)) for b in items]
    return render(["booking", "room", "from", "to", "customer", "people", "extras", "ticket", "state", "to do"],
                  rows, numeric=(5, 9))


def booking_add(args: argparse.Namespace, client: Client) -> Result:
    extras = {}
    for pair in args.extra:
        name, sep, count = pair.partition("=")
        if not sep or not count.isdigit():
            raise ValueError(f"--extra wants name=count, got {pair!r}")
        extras[name] = int(count)
    b = client.post("/bookings", {
        "room": args.room, "starts_at": _time(client, args.start), "ends_at": _time(client, args.end), "company": args.company,
        "contact_room": args.contact_room, "guest_name": args.guest, "guest_phone": args.phone,
        "attendees": args.attendees, "purpose": args.purpose, "extras": extras or None})
    return b, show_bookings([b]) + f"\nquoted {b['quoted_total']} on ticket {b['ticket']}"


def booking_list(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/bookings", everything=args.all, date=args.date, room=args.room, state=args.state)
    return listed(args, items, show_bookings(items.rows))


def booking_show(args: argparse.Namespace, client: Client) -> Result:
    b = client.get(f"/bookings/{args.booking}")
    rows = [(t["item"], t["text"], t["department"], local(t["due_at"]),
             f"{local(t['done_at'])} {t['done_by']}" if t["done_at"] else ("OVERDUE" if t["overdue"] else ""))
            for t in b["checklist"]]
    return b, show_bookings([b]) + "\n\n" + render(["item", "what", "department", "due", "done"], rows)


def booking_tick(args: argparse.Namespace, client: Client) -> Result:
    b = client.post(f"/bookings/{args.booking}/checklist/{args.item}", {})
    return b, f"booking {b['id']}: {args.item} done"


def booking_cancel(args: argparse.Namespace, client: Client) -> Result:
    b = client.post(f"/bookings/{args.booking}/cancel", {"reason": args.reason})
    return b, f"booking {b['id']} cancelled (ticket {b['ticket']} cancelled)"


def booking_bill(args: argparse.Namespace, client: Client) -> Result:
    b = client.post(f"/bookings/{args.booking}/bill", {})
    return b, f"booking {b['id']} billed: {b['total']} on ticket {b['ticket']} ({b['ticket_state']})"


# ---------------------------------------------------------------------------- newspapers


def papers_subscribe(args: argparse.Namespace, client: Client) -> Result:
    s = client.post("/papers/subscriptions", {"company": args.company, "title": args.title, "copies": args.copies,
                                              "starts_on": args.starts, "ends_on": args.ends, "fee": args.fee})
    errand = f"; errand ticket {s['ticket']}" if s["ticket"] else ""
    return s, f"subscription {s['id']}: {s['tenant']} {s['title']} × {s['copies']}, {s['starts_on']} – {s['ends_on']}{errand}"


def papers_list(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/papers/subscriptions", everything=args.all, company=args.company, date=args.date)
    return listed(args, items, render(["sub", "tenant", "title", "copies", "from", "until", "errand"], [
        (s["id"], s["tenant"], s["title"], s["copies"], s["starts_on"], s["ends_on"], s["ticket"] or "")
        for s in items.rows], numeric=(3,)))


def papers_delivery(args: argparse.Namespace, client: Client) -> Result:
    d = client.post("/papers/deliveries", {"title": args.title, "received": args.received, "date": args.date})
    note = (f"short {d['shortfall']}" if d["shortfall"] else f"surplus {d['surplus']}" if d["surplus"] else "as expected")
    return d, f"{d['day']} {d['title']}: received {d['received']} of {d['expected']} ({note})"


def papers_day(args: argparse.Namespace, client: Client) -> Result:
    sheet = client.get("/papers/day", date=args.date)
    sorting = render(["tenant", "title", "copies"], [(r["tenant"], r["title"], r["copies"]) for r in sheet["sorting"]],
                     numeric=(2,))
    checked = render(["title", "expected", "received", "short", "surplus"],
                     [(d["title"], d["expected"], d["received"], d["shortfall"], d["surplus"])
                      for d in sheet["deliveries"]], numeric=(1, 2, 3, 4))
    return sheet, f"报刊 {sheet['day']}\n{sorting}\n\n{checked}"


def papers_discrepancies(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/papers/discrepancies", everything=args.all, since=args.since, until=args.until)
    return listed(args, items, render(["day", "title", "expected", "received", "short", "surplus"], [
        (d["day"], d["title"], d["expected"], d["received"], d["shortfall"], d["surplus"]) for d in items.rows],
        numeric=(2, 3, 4, 5)))


def papers_hold(args: argparse.Namespace, client: Client) -> Result:
    h = client.post("/papers/holds", {"company": args.company, "title": args.title, "copies": args.copies,
                                      "date": args.date})
    return h, f"held {h['copies']} × {h['title']} of {h['day']} for {h['tenant']} (hold {h['id']})"


def papers_held(args: argparse.Namespace, client: Client) -> Result:
    items = client.listing("/papers/holds", everything=args.all)
    return listed(args, items, render(["hold", "day", "tenant", "title", "copies"], [
        (h["id"], h["day"], h["tenant"], h["title"], h["copies"]) for h in items.rows], numeric=(4,)))


def papers_hand_over(args: argparse.Namespace, client: Client) -> Result:
    h = client.post(f"/papers/holds/{args.hold}/hand-over", {"handed_to": args.to})
    return h, f"hold {h['id']} handed to {h['handed_to']}"


# ---------------------------------------------------------------------------- typing and copy registers


def typing_keep(args: argparse.Namespace, client: Client) -> Result:
    content = base64.b64encode(Path(args.file).read_bytes()).decode("ascii")
    f = client.post(f"/tickets/{quote(args.ticket)}/typing-files",
                    {"filename": Path(args.file).name, "content_base64": content, "keep_until": args.until})
    until = f"kept until {local(f['keep_until'])}" if f["keep_until"] else "kept until the ticket is closed"
    return f, f"file {f['id']} {f['filename']} ({f['size']} bytes) on {f['ticket']}: {until}"


def typing_files(args: argparse.Namespace, client: Client) -> Result:
    items = client.get(f"/tickets/{quote(args.ticket)}/typing-files")
    return items, render(["file", "name", "bytes", "keep until", "stored", "deleted"],
                         [(f["id"], f["filename"], f["size"], local(f["keep_until"]) or "ticket closed",
                           local(f["stored_at"]), local(f["deleted_at"])) for f in items], numeric=(2,))


def typing_fetch(args: argparse.Namespace, client: Client) -> Result:
    data = client.request_bytes("GET", f"/typing-files/{args.file}")
    Path(args.out).write_bytes(data)
    return {"file": args.file, "out": args.out, "bytes": len(data)}, f"wrote {args.out} ({len(data)} bytes)"


def register_view(args: argparse.Namespace, client: Client) -> Result:
    # A register is the day's whole book: every page of it.
    items = client.listing(f"/registers/{args.which}", everything=True, date=args.date).rows
    if args.which == "typing":
        rows = [(local(t["opened_at"]), t["ticket"], t["customer"], t["room"], t["pages"], t["printed_sides"],
                 t["charged"], t["state"], local(t["keep_until"])) for t in items]
        return items, "打字服务记录本 typing register\n" + render(
            ["time", "ticket", "customer", "room", "pages", "prints", "charged", "state", "file kept until"], rows,
            numeric=(4, 5, 6))
    rows = [(local(c["opened_at"]), c["ticket"], c["customer"], c["room"], c["device"], c["media"], c["sets"],
             c["sides"], "" if c["customer_count"] is None else c["customer_count"], c["charged"], c["state"])
            for c in items]
    return items, "复印服务记录本 copy register\n" + render(
        ["time", "ticket", "customer", "room", "copier", "media", "sets", "sides", "customer count", "charged",
         "state"], rows, numeric=(7, 8, 9))


# ---------------------------------------------------------------------------- due


def due(args: argparse.Namespace, client: Client) -> Result:
    listing = client.get("/due", within_hours=args.hours)
    rows = [(local(d["due_at"]), "OVERDUE" if d["overdue"] else "", d["ref"], d["what"], d["who"])
            for d in listing["items"]]
    return listing, render(["due", "", "register", "what", "who"], rows)


def register(sub: argparse._SubParsersAction) -> None:
    mail = sub.add_parser("mail", help="the mail register (信件记录本)").add_subparsers(dest="action", required=True)
    p = mail.add_parser("log", help="log letters (a batch) or one accountable item; the tenant is notified")
    p.add_argument("kind", choices=MAIL_KINDS)
    p.add_argument("--company")
    p.add_argument("--room")
    p.add_argument("--addressee")
    p.add_argument("--count", type=int, default=1, help="letters in the batch")
    p.add_argument("--tracking", help="registered / EMS number")
    p.add_argument("--sender")
    p.set_defaults(handler=mail_log)
    p = mail.add_parser("list", help="the register")
    p.add_argument("--state", choices=["pigeonholed", "waiting", "picked_up", "held", "returned"])
    p.add_argument("--kind", choices=MAIL_KINDS)
    p.add_argument("--date", help="local date, e.g. 2026-11-30")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=mail_list)
    p = mail.add_parser("pigeonholes", help="ordinary letters per tenant for a day")
    p.add_argument("--date", help="local date (default today)")
    p.set_defaults(handler=mail_pigeonholes)
    p = mail.add_parser("pick-up", help="hand an item over, recording the ID checked (type + last digits)")
    p.add_argument("item", type=int)
    p.add_argument("--by", required=True, help="who collected it")
    p.add_argument("--id-type", required=True, choices=["resident_id", "passport", "hk_macau_permit", "taiwan_permit",
                                                         "driving_licence", "staff_card", "other"])
    p.add_argument("--id-last", required=True, metavar="DIGITS", help="last 2-4 characters only, never the number")
    p.set_defaults(handler=mail_pick_up)
    p = mail.add_parser("to-call", help="tenants to phone about waiting items")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=mail_to_call)
    p = mail.add_parser("called", help="the tenant was phoned")
    p.add_argument("item", type=int)
    p.set_defaults(handler=mail_called)
    p = mail.add_parser("to-return", help="查无此人 items to return to the post office")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=mail_to_return)
    p = mail.add_parser("return", help="a held item handed back to the post office")
    p.add_argument("item", type=int)
    p.set_defaults(handler=mail_return)

    c = sub.add_parser("complaint", help="complaints (客户投诉记录单)").add_subparsers(dest="action", required=True)
    p = c.add_parser("add", help="record a complaint")
    p.add_argument("who")
    p.add_argument("subject")
    p.add_argument("--department", required=True, help="who handles it")
    p.add_argument("--company")
    p.add_argument("--phone")
    p.set_defaults(handler=complaint_add)
    p = c.add_parser("list", help="the complaint register")
    p.add_argument("--state", choices=["open", "closed"])
    p.add_argument("--overdue", action="store_true", help="only those past their reply date")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=complaint_list)
    p = c.add_parser("note", help="a follow-up (--reply: the reply to the customer)")
    p.add_argument("complaint", type=int)
    p.add_argument("note")
    p.add_argument("--reply", action="store_true")
    p.set_defaults(handler=complaint_note)
    p = c.add_parser("close", help="the outcome, told to the customer, and their view")
    p.add_argument("complaint", type=int)
    p.add_argument("outcome")
    p.add_argument("--view", help="the customer's view of the outcome")
    p.set_defaults(handler=complaint_close)

    v = sub.add_parser("visit", help="tenant visits (客户访问记录单)").add_subparsers(dest="action", required=True)
    p = v.add_parser("add", help="record a visit and the opinions collected")
    p.add_argument("company")
    p.add_argument("--met")
    p.add_argument("--opinions")
    p.add_argument("--needs-reply", action="store_true", help="an opinion needs a written answer")
    p.set_defaults(handler=visit_add)
    p = v.add_parser("list", help="the visit register")
    p.add_argument("--company")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=visit_list)
    p = v.add_parser("reply", help="the written answer to a visit's opinion")
    p.add_argument("visit", type=int)
    p.add_argument("reply")
    p.set_defaults(handler=visit_reply)

    r = sub.add_parser("room", help="meeting rooms").add_subparsers(dest="action", required=True)
    p = r.add_parser("add", help="add a meeting room")
    p.add_argument("name")
    p.add_argument("--capacity", type=int, required=True)
    p.add_argument("--equipment", action="append", default=[])
    p.set_defaults(handler=room_add)
    r.add_parser("list", help="the meeting rooms").set_defaults(handler=room_list)

    b = sub.add_parser("booking", help="meeting-room bookings").add_subparsers(dest="action", required=True)
    p = b.add_parser("add", help="book a room (refused if it overlaps another booking)")
    p.add_argument("room")
    p.add_argument("start", help="local time, e.g. '2026-12-03 14:00'")
    p.add_argument("end")
    p.add_argument("--company")
    p.add_argument("--contact-room")
    p.add_argument("--guest")
    p.add_argument("--phone")
    p.add_argument("--attendees", type=int, default=0)
    p.add_argument("--purpose")
    p.add_argument("--extra", action="append", default=[], metavar="NAME=COUNT", help="e.g. tea=12, projector=1")
    p.set_defaults(handler=booking_add)
    p = b.add_parser("list", help="bookings, by day or room")
    p.add_argument("--date")
    p.add_argument("--room")
    p.add_argument("--state", choices=["booked", "cancelled", "billed"])
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=booking_list)
    p = b.add_parser("show", help="a booking and its checklist")
    p.add_argument("booking", type=int)
    p.set_defaults(handler=booking_show)
    p = b.add_parser("done", help="tick a checklist item (confirm, request_form, setup, equipment, access, parking)")
    p.add_argument("booking", type=int)
    p.add_argument("item")
    p.set_defaults(handler=booking_tick)
    p = b.add_parser("cancel", help="cancel a booking and its ticket, with the reason")
    p.add_argument("booking", type=int)
    p.add_argument("reason")
    p.set_defaults(handler=booking_cancel)
    p = b.add_parser("bill", help="put the booked time and extras on the booking's ticket")
    p.add_argument("booking", type=int)
    p.set_defaults(handler=booking_bill)

    n = sub.add_parser("papers", help="newspapers and periodicals (报刊)").add_subparsers(dest="action", required=True)
    p = n.add_parser("subscribe", help="a tenant's subscription (--fee: ordered by the desk as an errand, 代办增订)")
    p.add_argument("company")
    p.add_argument("title")
    p.add_argument("--copies", type=int, default=1)
    p.add_argument("--from", dest="starts", required=True, help="local date")
    p.add_argument("--until", dest="ends", required=True, help="local date")
    p.add_argument("--fee", help="the post office's price (opens a priced errand ticket)")
    p.set_defaults(handler=papers_subscribe)
    p = n.add_parser("list", help="subscriptions")
    p.add_argument("--company")
    p.add_argument("--date", help="those running on this local date")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=papers_list)
    p = n.add_parser("delivery", help="count a title's delivery against the subscriptions")
    p.add_argument("title")
    p.add_argument("received", type=int)
    p.add_argument("--date", help="local date (default today)")
    p.set_defaults(handler=papers_delivery)
    p = n.add_parser("day", help="the day's sorting sheet and deliveries")
    p.add_argument("--date")
    p.set_defaults(handler=papers_day)
    p = n.add_parser("discrepancies", help="shortfalls and surpluses for the post office")
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=papers_discrepancies)
    p = n.add_parser("hold", help="keep an absent tenant's copies")
    p.add_argument("company")
    p.add_argument("title")
    p.add_argument("--copies", type=int, default=1)
    p.add_argument("--date")
    p.set_defaults(handler=papers_hold)
    p = n.add_parser("held", help="held copies not handed over yet")
    p.add_argument("--all", action="store_true", help=ALL)
    p.set_defaults(handler=papers_held)
    p = n.add_parser("hand-over", help="held copies handed to the tenant")
    p.add_argument("hold", type=int)
    p.add_argument("--to", required=True, help="who received them")
    p.set_defaults(handler=papers_hand_over)

    t = sub.add_parser("typing", help="typed files kept for customers").add_subparsers(dest="action", required=True)
    p = t.add_parser("keep", help="keep a typing ticket's file (deleted after --until, or when the ticket closes)")
    p.add_argument("ticket")
    p.add_argument("file")
    p.add_argument("--until", help="local date the customer wants it kept until")
    p.set_defaults(handler=typing_keep)
    p = t.add_parser("files", help="a typing ticket's kept files")
    p.add_argument("ticket")
    p.set_defaults(handler=typing_files)
    p = t.add_parser("fetch", help="save a kept typed file (for a reprint)")
    p.add_argument("file", type=int)
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=typing_fetch)
    p = sub.add_parser("register", help="the typing (打字服务记录本) or copy (复印服务记录本) register")
    p.add_argument("which", choices=["typing", "copy"])
    p.add_argument("--date", help="local date, e.g. 2026-11-30 (default: all)")
    p.set_defaults(handler=register_view)

    p = sub.add_parser("due", help="what is overdue and what falls due soon, in every register")
    p.add_argument("--hours", type=int, default=24, help="look this many hours ahead (default 24)")
    p.set_defaults(handler=due)
