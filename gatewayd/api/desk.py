"""The desk's other books: mail (信件记录本), complaints (客户投诉记录单), tenant visits
(客户访问记录单), meeting rooms and their bookings, newspapers (报刊), and the list of what is due."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from gatewayd.api import pages
from gatewayd.api.app import MONEY, Api, Call, Route, obj
from gatewayd import tickets
from gatewayd.desk import complaints, due, mail, papers, registers, rooms
from gatewayd.desk.common import day_range, local_date
from gatewayd.api.server import Response
from gatewayd.errors import InvalidValue, NotFound
from gatewayd.models import BookingState, MailKind, MailState, MeetingRoom

DATE = {"type": "string", "pattern": r"\d{4}-\d{2}-\d{2}", "description": "a local date like 2026-11-26"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with offset, e.g. 2026-11-30T14:00:00+08:00"}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
TEXT = {"type": "string", "maxLength": 4000}
COMPANY = {"type": "string", "maxLength": 200, "description": "a tenant company on the roster"}


def _desk(api: Api) -> dict[str, Any]:
    return api.services.config.desk


def _year(api: Api) -> int:
    return api.ledger.year(api.ledger.clock())


# ---------------------------------------------------------------------------- mail


def log_mail(api: Api, call: Call) -> dict[str, Any]:
    b, desk = call.body, _desk(api)
    with api.ledger.transaction() as s:
        item = mail.log_item(s, call.caller, api.ledger.clock(), kind=b["kind"], company=b.get("company", ""),
                             room=b.get("room", ""), addressee=b.get("addressee", ""), count=b.get("count", 1),
                             tracking=b.get("tracking", ""), sender=b.get("sender", ""),
                             notify_command=desk["notify_command"])
        return mail.view(item, desk["mail_hold_days"])


def list_mail(api: Api, call: Call) -> Response:
    q, hold = call.query, _desk(api)["mail_hold_days"]
    since, until = day_range(q.get("date"), api.ledger.timezone)
    query = mail.listing(state=q.get("state"), kind=q.get("kind"), since=since, until=until)
    return pages.page(api, call, lambda s: query, lambda item: mail.view(item, hold), *mail.ORDER, ascending=True)


def get_mail(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return mail.view(mail.find(s, call.params["id"]), _desk(api)["mail_hold_days"])


def pick_up_mail(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        item = mail.pick_up(s, call.caller, api.ledger.clock(), mail.find(s, call.params["id"], lock=True),
                            collected_by=b["collected_by"], id_type=b.get("id_type", ""),
                            id_last_digits=b.get("id_last_digits", ""))
        return mail.view(item, _desk(api)["mail_hold_days"])


def called_mail(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        item = mail.mark_called(s, call.caller, api.ledger.clock(), mail.find(s, call.params["id"], lock=True))
        return mail.view(item, _desk(api)["mail_hold_days"])


def return_mail(api: Api, call: Call) -> dict[str, Any]:
    hold = _desk(api)["mail_hold_days"]
    with api.ledger.transaction() as s:
        item = mail.return_to_post(s, call.caller, api.ledger.clock(), mail.find(s, call.params["id"], lock=True), hold)
        return mail.view(item, hold)


def mail_to_return(api: Api, call: Call) -> Response:
    hold = _desk(api)["mail_hold_days"]
    query = mail.to_return(api.ledger.clock(), hold)
    return pages.page(api, call, lambda s: query, lambda item: mail.view(item, hold), *mail.ORDER, ascending=True)


def mail_to_call(api: Api, call: Call) -> Response:
    return pages.page(api, call, lambda s: mail.to_call(), mail.to_call_view, *mail.ORDER, ascending=True)


def pigeonholes(api: Api, call: Call) -> list[dict[str, Any]]:
    day = call.query.get("date") or api.ledger.clock().astimezone(api.ledger.timezone).date().isoformat()
    since, until = day_range(day, api.ledger.timezone)
    with api.ledger.transaction() as s:
        return mail.pigeonholes(s, since, until)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- complaints and visits


def record_complaint(api: Api, call: Call) -> dict[str, Any]:
    b, now = call.body, api.ledger.clock()
    with api.ledger.transaction() as s:
        c = complaints.record(s, call.caller, now, _desk(api)["complaint_reply_days"], complainant=b["complainant"],
                              subject=b["subject"], department=b["department"], company=b.get("company"),
                              phone=b.get("phone", ""), received_at=b.get("received_at"))
        return complaints.view(c, now)


def list_complaints(api: Api, call: Call) -> Response:
    q, now = call.query, api.ledger.clock()
    query = complaints.listing(now, state=q.get("state"), overdue=q.get("overdue", False))
    return pages.page(api, call, lambda s: query, lambda c: complaints.view(c, now), *complaints.ORDER,
                      ascending=True)


def get_complaint(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return complaints.view(complaints.find(s, call.params["id"]), api.ledger.clock())


def follow_up_complaint(api: Api, call: Call) -> dict[str, Any]:
    now = api.ledger.clock()
    with api.ledger.transaction() as s:
        c = complaints.follow_up(s, call.caller, now, complaints.find(s, call.params["id"], lock=True),
                                 note=call.body["note"], reply=call.body.get("reply", False))
        return complaints.view(c, now)


def close_complaint(api: Api, call: Call) -> dict[str, Any]:
    b, now = call.body, api.ledger.clock()
    with api.ledger.transaction() as s:
        c = complaints.close(s, call.caller, now, complaints.find(s, call.params["id"], lock=True),
                             outcome=b["outcome"], customer_told_at=b.get("customer_told_at"),
                             customer_view=b.get("customer_view", ""))
        return complaints.view(c, now)


def record_visit(api: Api, call: Call) -> dict[str, Any]:
    b, now = call.body, api.ledger.clock()
    with api.ledger.transaction() as s:
        v = complaints.record_visit(s, call.caller, now, _desk(api)["visit_reply_days"], company=b["company"],
                                    met=b.get("met", ""), opinions=b.get("opinions", ""),
                                    needs_reply=b.get("needs_reply", False), visited_at=b.get("visited_at"))
        return complaints.visit_view(v, now)


def list_visits(api: Api, call: Call) -> Response:
    now = api.ledger.clock()
    return pages.page(api, call, lambda s: complaints.visits(s, company=call.query.get("company")),
                      lambda v: complaints.visit_view(v, now), *complaints.VISIT_ORDER, ascending=True)


def reply_visit(api: Api, call: Call) -> dict[str, Any]:
    now = api.ledger.clock()
    with api.ledger.transaction() as s:
        v = complaints.reply_visit(s, call.caller, now, complaints.find_visit(s, call.params["id"], lock=True),
                                   reply=call.body["reply"])
        return complaints.visit_view(v, now)


# ---------------------------------------------------------------------------- meeting rooms


def add_room(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        return rooms.room_view(rooms.add_room(s, call.caller, api.ledger.clock(), name=b["name"],
                                              capacity=b["capacity"], equipment=b.get("equipment")))


def list_rooms(api: Api, call: Call) -> Response:
    return pages.page(api, call, lambda s: select(MeetingRoom), rooms.room_view, MeetingRoom.name, MeetingRoom.id,
                      ascending=True)


def book_room(api: Api, call: Call) -> dict[str, Any]:
    b, now = call.body, api.ledger.clock()
    with api.ledger.transaction() as s:
        booking = rooms.book(s, call.caller, now, _year(api), api.services, room=b["room"], starts_at=b["starts_at"],
                             ends_at=b["ends_at"], company=b.get("company"), contact_room=b.get("contact_room", ""),
                             guest_name=b.get("guest_name", ""), guest_phone=b.get("guest_phone", ""),
                             attendees=b.get("attendees", 0), purpose=b.get("purpose", ""), extras=b.get("extras"))
        return rooms.view(booking, now)


def list_bookings(api: Api, call: Call) -> Response:
    q, now = call.query, api.ledger.clock()
    since, until = day_range(q.get("date"), api.ledger.timezone)
    return pages.page(api, call, lambda s: rooms.listing(s, room=q.get("room"), since=since, until=until,
                                                         state=q.get("state")),
                      lambda b: rooms.view(b, now), *rooms.ORDER, ascending=True)


def get_booking(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return rooms.view(rooms.find(s, call.params["id"]), api.ledger.clock())


def tick_booking(api: Api, call: Call) -> dict[str, Any]:
    now = api.ledger.clock()
    with api.ledger.transaction() as s:
        booking = rooms.find(s, call.params["id"], lock=True)
        rooms.tick(s, call.caller, now, booking, call.params["item"])
        return rooms.view(booking, now)


def cancel_booking(api: Api, call: Call) -> dict[str, Any]:
    now = api.ledger.clock()
    with api.ledger.transaction() as s:
        booking = rooms.cancel(s, call.caller, now, rooms.find(s, call.params["id"], lock=True), call.body["reason"])
        return rooms.view(booking, now)


def bill_booking(api: Api, call: Call) -> dict[str, Any]:
    now = api.ledger.clock()
    with api.ledger.transaction() as s:
        booking = rooms.bill(s, call.caller, now, rooms.find(s, call.params["id"], lock=True), api.services)
        return rooms.view(booking, now)


# ---------------------------------------------------------------------------- newspapers


def _today(api: Api) -> str:
    return api.ledger.clock().astimezone(api.ledger.timezone).date().isoformat()


def subscribe(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        return papers.subscription_view(papers.subscribe(
            s, call.caller, api.ledger.clock(), _year(api), api.services, company=b["company"], title=b["title"],
            copies=b["copies"], starts_on=b["starts_on"], ends_on=b["ends_on"], fee=b.get("fee")))


def list_subscriptions(api: Api, call: Call) -> Response:
    q = call.query
    return pages.page(api, call, lambda s: papers.subscriptions(s, company=q.get("company"), day=q.get("date")),
                      papers.subscription_view, *papers.SUBSCRIPTION_ORDER, ascending=True)


def check_delivery(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        return papers.delivery_view(papers.check_delivery(s, call.caller, api.ledger.clock(),
                                                          day=b.get("date") or _today(api), title=b["title"],
                                                          received=b["received"]))


def paper_day(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        return papers.day_sheet(s, call.query.get("date") or _today(api))


def paper_discrepancies(api: Api, call: Call) -> Response:
    query = papers.discrepancies(since=call.query.get("since"), until=call.query.get("until"))
    return pages.page(api, call, lambda s: query, papers.delivery_view, *papers.DELIVERY_ORDER, ascending=True)


def hold_papers(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    with api.ledger.transaction() as s:
        return papers.hold_view(papers.hold(s, call.caller, api.ledger.clock(), day=b.get("date") or _today(api),
                                            company=b["company"], title=b["title"], copies=b["copies"]))


def held_papers(api: Api, call: Call) -> Response:
    return pages.page(api, call, lambda s: papers.waiting(), papers.hold_view, *papers.HOLD_ORDER, ascending=True)


def hand_over_papers(api: Api, call: Call) -> dict[str, Any]:
    with api.ledger.transaction() as s:
        held = papers.hand_over(s, call.caller, api.ledger.clock(), papers.find_hold(s, call.params["id"], lock=True),
                                handed_to=call.body["handed_to"])
        return papers.hold_view(held)


# ---------------------------------------------------------------------------- typing and copy registers


def store_typing_file(api: Api, call: Call) -> dict[str, Any]:
    b = call.body
    try:
        content = base64.b64decode(b["content_base64"], validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidValue(f"content_base64 is not base64: {err}") from err
    keep_until = b.get("keep_until")
    if keep_until is not None:  # kept through the whole of that local day
        day = local_date(keep_until, "keep_until")
        keep_until = datetime.combine(day + timedelta(days=1), time(), api.ledger.timezone)
    with api.ledger.transaction() as s:
        ticket = tickets.find(s, call.params["id"], lock=True)
        return registers.file_view(registers.store_file(
            s, call.caller, api.ledger.clock(), ticket, api.services.config.spool_dir,
            filename=b["filename"], content=content, keep_until=keep_until))


def list_typing_files(api: Api, call: Call) -> list[dict[str, Any]]:
    with api.ledger.transaction() as s:
        return registers.files(s, tickets.find(s, call.params["id"]))


def typing_file(api: Api, call: Call) -> Response:
    """A kept typed file, for a reprint or a correction; gone once its keeping has ended."""
    with api.ledger.transaction() as s:
        row = registers.find_file(s, call.params["id"])
        if row.deleted_at is not None:
            raise NotFound(f"typed file {row.id} ({row.filename}) was deleted on {row.deleted_at.isoformat()}, "
                           f"its keeping having ended")
        path, name = Path(row.path), row.filename
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        raise NotFound(f"typed file {call.params['id']} is missing from the spool ({path})") from err
    return Response(200, data, "application/octet-stream",
                    [("content-disposition", f"attachment; filename*=UTF-8''{quote(name)}")])


def typing_register(api: Api, call: Call) -> Response:
    since, until = day_range(call.query.get("date"), api.ledger.timezone)
    return pages.page(api, call, lambda s: registers.typing_tickets(since, until),
                      lambda s, rows: registers.typing_lines(s, [t for t, *_ in rows]), *registers.ORDER,
                      ascending=True, batch=True)


def copy_register(api: Api, call: Call) -> Response:
    since, until = day_range(call.query.get("date"), api.ledger.timezone)
    return pages.page(api, call, lambda s: registers.copy_tickets(since, until),
                      lambda s, rows: registers.copy_lines([t for t, *_ in rows]), *registers.ORDER,
                      ascending=True, batch=True)


# ---------------------------------------------------------------------------- due


def list_due(api: Api, call: Call) -> dict[str, Any]:
    """Overdue and coming deadlines; ``at`` asks as of another moment (what will be due by Friday)."""
    now = call.query.get("at") or api.ledger.clock()
    within = timedelta(hours=call.query.get("within_hours", 24))
    with api.ledger.transaction() as s:
        return {"at": now.isoformat(), "items": due.upcoming(s, _desk(api), api.ledger.timezone, now, within)}


ROUTES: list[Route] = [
    Route("POST", "/mail", "Log mail: a batch of ordinary letters, or one registered letter, parcel notice, "
          "remittance slip or EMS item (the tenant is notified at once)", log_mail, status=201, body=obj(
              ["kind"], kind={"type": "string", "enum": [k.value for k in MailKind]},
              company=COMPANY, room={"type": "string", "maxLength": 50}, addressee={"type": "string", "maxLength": 200},
              count={"type": "integer", "minimum": 1, "maximum": 1000, "description": "letters in a batch"},
              tracking={"type": "string", "maxLength": 64}, sender={"type": "string", "maxLength": 200})),
    Route("GET", "/mail", "The mail register (信件记录本)", list_mail,
          query={"state": {"type": "string", "enum": [s.value for s in MailState]},
                 "kind": {"type": "string", "enum": [k.value for k in MailKind]}, "date": DATE, **pages.PAGE}),
    Route("GET", "/mail/pigeonholes", "Ordinary letters sorted on a day, per tenant's pigeonhole", pigeonholes,
          query={"date": {**DATE, "description": "a local date like 2026-11-26 (default today)"}}),
    Route("GET", "/mail/to-call", "Tenants to phone about accountable mail waiting for them", mail_to_call,
          query=pages.PAGE),
    Route("GET", "/mail/to-return", "查无此人 items past their hold period: back to the post office", mail_to_return,
          query=pages.PAGE),
    Route("GET", "/mail/{id:int}", "One mail entry", get_mail),
    Route("POST", "/mail/{id:int}/pick-up", "Hand an item over: who collected it and the ID checked "
          "(type and last 2-4 characters only)", pick_up_mail, body=obj(
              ["collected_by"], collected_by=NAME,
              id_type={"type": "string", "enum": list(mail.ID_TYPES)},
              id_last_digits={"type": "string", "maxLength": 40})),
    Route("POST", "/mail/{id:int}/called", "The tenant was phoned: off the to-call list", called_mail, body=obj()),
    Route("POST", "/mail/{id:int}/return", "A held item handed back to the post office", return_mail, body=obj()),
    Route("POST", "/complaints", "Record a complaint (客户投诉记录单); its reply is due in desk.complaint_reply_days",
          record_complaint, status=201, body=obj(
              ["complainant", "subject", "department"], complainant=NAME, subject={**TEXT, "minLength": 1},
              department={"type": "string", "minLength": 1, "maxLength": 100}, company=COMPANY,
              phone={"type": "string", "maxLength": 50}, received_at=TIME)),
    Route("GET", "/complaints", "The complaint register", list_complaints,
          query={"state": {"type": "string", "enum": ["open", "closed"]}, "overdue": {"type": "boolean"},
                 **pages.PAGE}),
    Route("GET", "/complaints/{id:int}", "One complaint with its follow-ups", get_complaint),
    Route("POST", "/complaints/{id:int}/follow-ups", "A follow-up note; reply=true when it is the reply to the customer",
          follow_up_complaint, status=201, body=obj(["note"], note={**TEXT, "minLength": 1}, reply={"type": "boolean"})),
    Route("POST", "/complaints/{id:int}/close", "The outcome, when the customer was told and their view",
          close_complaint, body=obj(["outcome"], outcome={**TEXT, "minLength": 1}, customer_told_at=TIME,
                                    customer_view=TEXT)),
    Route("POST", "/visits", "Record a tenant visit (客户访问记录单); an opinion needing an answer is due in writing "
          "within desk.visit_reply_days", record_visit, status=201, body=obj(
              ["company"], company={**COMPANY, "minLength": 1}, met={"type": "string", "maxLength": 200},
              opinions=TEXT, needs_reply={"type": "boolean"}, visited_at=TIME)),
    Route("GET", "/visits", "The tenant visit register", list_visits, query={"company": COMPANY, **pages.PAGE}),
    Route("POST", "/visits/{id:int}/reply", "The written answer to a visit's opinion", reply_visit,
          body=obj(["reply"], reply={**TEXT, "minLength": 1})),
    Route("POST", "/meeting-rooms", "Add a meeting room", add_room, status=201, body=obj(
        ["name", "capacity"], name={"type": "string", "minLength": 1, "maxLength": 100},
        capacity={"type": "integer", "minimum": 1, "maximum": 10_000},
        equipment={"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 100}})),
    Route("GET", "/meeting-rooms", "Meeting rooms with capacity and equipment", list_rooms, query=pages.PAGE),
    Route("POST", "/bookings", "Book a meeting room (no overlap); opens its ticket, quoted by the price list, and "
          "the preparation checklist", book_room, status=201, body=obj(
              ["room", "starts_at", "ends_at"], room={"type": "string", "minLength": 1, "maxLength": 100},
              starts_at=TIME, ends_at=TIME, company=COMPANY, contact_room={"type": "string", "maxLength": 50},
              guest_name={"type": "string", "maxLength": 200}, guest_phone={"type": "string", "maxLength": 50},
              attendees={"type": "integer", "minimum": 0, "maximum": 10_000}, purpose=TEXT,
              extras={"type": "object", "description": "extra -> count, e.g. {\"tea\": 12, \"projector\": 1}"})),
    Route("GET", "/bookings", "Meeting-room bookings", list_bookings,
          query={"date": DATE, "room": {"type": "string", "maxLength": 100},
                 "state": {"type": "string", "enum": [s.value for s in BookingState]}, **pages.PAGE}),
    Route("GET", "/bookings/{id:int}", "One booking with its checklist", get_booking),
    Route("POST", "/bookings/{id:int}/checklist/{item}", "A department ticks a checklist item done", tick_booking,
          body=obj()),
    Route("POST", "/bookings/{id:int}/cancel", "Cancel a booking (and its ticket), with a reason", cancel_booking,
          body=obj(["reason"], reason={"type": "string", "minLength": 1, "maxLength": 500})),
    Route("POST", "/bookings/{id:int}/bill", "Put the booked time and extras on the booking's ticket", bill_booking,
          body=obj()),
    Route("POST", "/papers/subscriptions", "A tenant's newspaper or periodical subscription (with fee: the desk "
          "orders it as an errand, 代办增订, on a priced errand ticket)", subscribe, status=201, body=obj(
              ["company", "title", "copies", "starts_on", "ends_on"], company={**COMPANY, "minLength": 1},
              title={"type": "string", "minLength": 1, "maxLength": 200},
              copies={"type": "integer", "minimum": 1, "maximum": 1000}, starts_on=DATE, ends_on=DATE,
              fee={**MONEY, "description": "the post office's price, for a subscription the desk orders"})),
    Route("GET", "/papers/subscriptions", "Subscriptions (date: those running that day)", list_subscriptions,
          query={"company": COMPANY, "date": DATE, **pages.PAGE}),
    Route("POST", "/papers/deliveries", "A title's delivery on a day, counted against the subscriptions' total "
          "(once per day and title)", check_delivery, status=201, body=obj(
              ["title", "received"], title={"type": "string", "minLength": 1, "maxLength": 200},
              received={"type": "integer", "minimum": 0, "maximum": 100_000}, date=DATE)),
    Route("GET", "/papers/day", "A day's sorting sheet: copies per tenant, deliveries checked, copies held",
          paper_day, query={"date": DATE}),
    Route("GET", "/papers/discrepancies", "Shortfalls and surpluses for the post office", paper_discrepancies,
          query={"since": DATE, "until": DATE, **pages.PAGE}),
    Route("POST", "/papers/holds", "Keep an absent tenant's copies", hold_papers, status=201, body=obj(
        ["company", "title", "copies"], company={**COMPANY, "minLength": 1},
        title={"type": "string", "minLength": 1, "maxLength": 200},
        copies={"type": "integer", "minimum": 1, "maximum": 1000}, date=DATE)),
    Route("GET", "/papers/holds", "Held copies not yet handed over", held_papers, query=pages.PAGE),
    Route("POST", "/papers/holds/{id:int}/hand-over", "Held copies handed to the tenant", hand_over_papers,
          body=obj(["handed_to"], handed_to=NAME)),
    Route("POST", "/tickets/{id}/typing-files", "Keep a typing ticket's typed file (until keep_until, a local "
          "date; without it, until the ticket is settled or cancelled); deleted when that passes, audited",
          store_typing_file, status=201, body=obj(
              ["filename", "content_base64"], filename={"type": "string", "minLength": 1, "maxLength": 255},
              content_base64={"type": "string", "minLength": 1, "maxLength": 1 << 30}, keep_until=DATE)),
    Route("GET", "/tickets/{id}/typing-files", "A typing ticket's kept files (deleted ones with their date)",
          list_typing_files),
    Route("GET", "/typing-files/{id:int}", "A kept typed file's content (gone once its keeping has ended)",
          typing_file),
    Route("GET", "/registers/typing", "The typing register (打字服务记录本) for a day", typing_register,
          query={"date": DATE, **pages.PAGE}),
    Route("GET", "/registers/copy", "The copy register (复印服务记录本) for a day", copy_register,
          query={"date": DATE, **pages.PAGE}),
    Route("GET", "/due", "What the desk must do by when: overdue items and those due within the next hours",
          list_due, query={"at": {"type": "string", "format": "date-time"},
                           "within_hours": {"type": "integer", "minimum": 0, "maximum": 24 * 366}}),
]
