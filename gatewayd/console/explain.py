"""Why a charge costs what it does, and what is due, in the reader's language.

Billing writes each charge line's explanation in English when it prices the line (the record: the
receipt, ``gatewayctl ticket show`` and the API's ``description`` carry it), and ``GET /due`` says
each item's ``what`` in English for ``gatewayctl due``. Both also travel as data — a line's
``rule``, ``inputs``, quantity and amounts; a due item's ``kind``, ``args`` and deadline — and
this module composes the sentence from that data through the catalog, with money in the
language's format and times local. English reads the server's own sentence, unchanged; a line
whose rule or inputs this module does not know (a line stored before its inputs were recorded)
falls back to it too, rather than to a half-translated one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import phonenumbers
from babel import Locale

from gatewayd.console import i18n
from gatewayd.console.i18n import Formats

_ = i18n.gettext

SOURCE = "en"  # the language billing and the desk registers write in


def _english() -> bool:
    return i18n.current.get() == SOURCE


# -- charge lines ----------------------------------------------------------------------------------

def _duration(seconds: int) -> str:
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return _("%(s)s s") % {"s": rest}
    if not rest:
        return _("%(m)s min") % {"m": minutes}
    return _("%(m)s min %(s)s s") % {"m": minutes, "s": rest}


def _blocks(billed: int, first: int, following: int) -> str:
    """The billed blocks in seconds, as the price list states its increments: "4 × 60 s", "30 s + 6 × 6 s"."""
    def seconds(n: int) -> str:
        return _("%(s)s s") % {"s": n}

    if billed == 0:
        return seconds(0)
    if first == following:
        return "%s × %s" % (billed // first, seconds(first))
    if billed == first:
        return seconds(first)
    return "%s + %s × %s" % (seconds(first), (billed - first) // following, seconds(following))


def _destination(inputs: dict[str, Any]) -> str:
    """"+852 中国香港特别行政区": the calling code and the region's name in the reader's language (CLDR)."""
    code = phonenumbers.parse(inputs["e164"]).country_code
    region = inputs.get("region") or ""
    name = Locale.parse(i18n.FORMAT_LOCALES[i18n.current.get()]).territories.get(region, region)
    return f"+{code} {name}"


def _pages(pages: list[int]) -> str:
    return "、".join(str(p) for p in sorted(set(pages)))


def _reason(reason: str) -> str:
    """The driver's hang-up words (drivers.fax.record.HangupCode), translated where the catalog knows them."""
    known = {"busy": _("busy"), "no answer": _("no answer"), "no dialtone": _("no dial tone"),
             "no carrier": _("no fax tones"), "no connection": _("no connection"), "call ended": _("call ended"),
             "carrier lost": _("line dropped"), "remote disconnect": _("the far end hung up"),
             "training failed": _("training failed"), "no response": _("no response"),
             "no DIS/DCS within T1": _("no fax answer within 35 s"), "incompatible": _("no common fax mode"),
             "RTN give up": _("a page kept failing"), "RTN resend refused": _("the far end refused a resend"),
             "protocol error": _("fax protocol error"), "modem error": _("modem error")}
    return known.get(reason, reason)


def _fax_time(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    rate = _("%(price)s/min") % {"price": fmt.money(c["unit_price"])}
    if i.get("band"):
        rate += _(" (%(band)s rate: %(price)s × %(factor)s)") % {
            "band": i["band"], "price": fmt.money(i["per_minute"]), "factor": i["band_factor"]}
    return _("%(destination)s, %(duration)s → %(blocks)s at %(rate)s = %(amount)s") % {
        "destination": _destination(i), "duration": _duration(i["duration_s"]),
        "blocks": _blocks(i["billed_s"], i["first_increment_s"], i["next_increment_s"]), "rate": rate,
        "amount": fmt.money(c["amount"])}


def _fax_minimum(c: dict[str, Any], fmt: Formats) -> str:
    return _("below the minimum charge %(minimum)s: +%(amount)s") % {
        "minimum": fmt.money(c["inputs"]["minimum"]), "amount": fmt.money(c["amount"])}


def _fax_per_page(c: dict[str, Any], fmt: Formats) -> str:
    lost = c["inputs"].get("pages_unconfirmed")
    if lost:
        return _("page %(pages)s not confirmed (line dropped), not charged") % {"pages": _pages(lost)}
    return _("%(n)s pages × %(price)s = %(amount)s") % {
        "n": fmt.number(c["quantity"]), "price": fmt.money(c["unit_price"]), "amount": fmt.money(c["amount"])}


def _fax_error_pages(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    times = {p: i["error_pages"].count(p) for p in i["error_pages"]}
    not_resent = set(i["not_resent"])

    def which(pages: list[int]) -> str:
        return "、".join(_("%(page)s (%(n)s times)") % {"page": p, "n": times[p]} if times[p] > 1 else str(p)
                        for p in pages)

    again = [p for p in sorted(times) if p not in not_resent]
    parts = ([_("page %(pages)s resent") % {"pages": which(again)}] if again else []) + (
        [_("page %(pages)s rejected, not resent in this call") % {"pages": which(sorted(not_resent))}]
        if not_resent else [])
    said = _("%(parts)s (ErrorPage)") % {"parts": _("; ").join(parts)}
    if Decimal(c["amount"]) == 0:
        return _("%(pages)s, not charged") % {"pages": said}
    return _("%(pages)s, charged: %(n)s × %(price)s = %(amount)s") % {
        "pages": said, "n": fmt.number(c["quantity"]), "price": fmt.money(c["unit_price"]),
        "amount": fmt.money(c["amount"])}


def _fax_unanswered(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    parts = {"destination": _destination(i), "reason": _reason(i["hangup_reason"]), "amount": fmt.money(c["amount"])}
    if Decimal(c["amount"]) == 0:
        return _("%(destination)s, %(reason)s: not charged") % parts
    return _("%(destination)s, %(reason)s: attempt fee %(amount)s") % parts


def _fax_failed(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    outcome = {"free": _("not charged"), "connect_fee": _("connect fee only"),
               "time": _("time used and connect fee, no pages")}[i["policy"]]
    return _("%(destination)s, failed before any page was confirmed (%(reason)s): %(outcome)s") % {
        "destination": _destination(i), "reason": _reason(i["hangup_reason"]), "outcome": outcome}


def _fax_connect(c: dict[str, Any], fmt: Formats) -> str:
    return _("connect fee %(amount)s") % {"amount": fmt.money(c["amount"])}


def _per_page(what: Callable[[], str]) -> Callable[[dict[str, Any], Formats], str]:
    def text(c: dict[str, Any], fmt: Formats) -> str:
        return _("%(what)s, %(n)s pages × %(price)s = %(amount)s") % {
            "what": what(), "n": fmt.number(c["inputs"]["pages"]), "price": fmt.money(c["unit_price"]),
            "amount": fmt.money(c["amount"])}
    return text


def _sides(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    service = _("copy") if c["rule"].startswith("copy.") else _("print")
    colour = {"mono": _("black and white"), "colour": _("colour")}.get(i["colour"], i["colour"])
    side = _("duplex") if i["duplex"] else _("simplex")
    if i["sets"] != 1:
        count = _("%(sides)s sides × %(sets)s sets = %(total)s sides") % {
            "sides": i["sides"], "sets": i["sets"], "total": fmt.number(c["quantity"])}
    else:
        count = _("%(sides)s sides") % {"sides": i["sides"]}
    return _("%(service)s %(media)s %(colour)s %(side)s, %(count)s × %(price)s = %(amount)s") % {
        "service": service, "media": i["media"], "colour": colour, "side": side, "count": count,
        "price": fmt.money(c["unit_price"]), "amount": fmt.money(c["amount"])}


def _scaled(c: dict[str, Any], fmt: Formats) -> str:
    return _("scaled to %(percent)s %%, %(n)s sides × %(price)s = %(amount)s") % {
        "percent": c["inputs"]["scale_percent"], "n": fmt.number(c["quantity"]),
        "price": fmt.money(c["unit_price"]), "amount": fmt.money(c["amount"])}


def _print_free(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    why = _("proof for typing") if c["rule"] == "print.not_charged.proof" else _state(i["outcome"])
    return _("print job %(job)s, %(why)s: not charged") % {"job": i["label"].removeprefix("job "), "why": why}


def _state(outcome: str) -> str:
    return {"cancelled": _("cancelled"), "aborted": _("aborted")}.get(outcome, outcome)


def _errand_fee(c: dict[str, Any], fmt: Formats) -> str:
    return _("errand: %(errand)s, quoted fee %(amount)s") % {
        "errand": c["inputs"]["errand"], "amount": fmt.money(c["amount"])}


def _errand_service(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    if c["rule"] == "errand.service_charge.agreed":
        how = _("as agreed")
    else:
        parts = [fmt.money(i["base"])] if Decimal(i["base"]) else []
        if Decimal(i["rate"]):
            parts.append(_("%(percent)s %% of %(fee)s") % {
                "percent": fmt.number((Decimal(i["rate"]) * 100).normalize()), "fee": fmt.money(i["quoted_fee"])})
        how = " + ".join(parts)
    return _("service charge, %(how)s = %(amount)s") % {"how": how, "amount": fmt.money(c["amount"])}


def _room(c: dict[str, Any], fmt: Formats) -> str:
    i = c["inputs"]
    how = _("%(minutes)s min in %(block)s-min blocks") % {"minutes": fmt.number(i["minutes"]),
                                                          "block": i["increment_min"]}
    if Decimal(c["quantity"]) == Decimal(i["minimum_hours"]):
        how += _(", minimum %(hours)s h") % {"hours": fmt.number(i["minimum_hours"])}
    return _("meeting room %(room)s, %(start)s–%(end)s, %(how)s = %(hours)s h × %(price)s = %(amount)s") % {
        "room": i["room"], "start": fmt.when(i["starts_at"]), "end": fmt.time(i["ends_at"]), "how": how,
        "hours": fmt.number(c["quantity"]), "price": fmt.money(c["unit_price"]), "amount": fmt.money(c["amount"])}


def _room_extra(c: dict[str, Any], fmt: Formats) -> str:
    return _("extra %(extra)s, %(n)s × %(price)s = %(amount)s") % {
        "extra": c["unit"], "n": fmt.number(c["quantity"]), "price": fmt.money(c["unit_price"]),
        "amount": fmt.money(c["amount"])}


def _manual(c: dict[str, Any], fmt: Formats) -> str:
    return _("%(what)s (entered by staff), %(n)s %(unit)s × %(price)s = %(amount)s") % {
        # a line added over the API stores the staff's own words as its description, with no inputs
        "what": c["inputs"].get("description", c["description"]), "n": fmt.number(c["quantity"]), "unit": unit(c["unit"]),
        "price": fmt.money(c["unit_price"]), "amount": fmt.money(c["amount"])}


def _discount(c: dict[str, Any], fmt: Formats) -> str:
    return _("discount: %(reason)s") % {"reason": c["inputs"]["reason"]}


#: A line's rule (its prefix up to "[" or the whole rule) -> its sentence.
CHARGES: dict[str, Callable[[dict[str, Any], Formats], str]] = {
    "fax_out.destinations": _fax_time,
    "fax_out.per_page": _fax_per_page,
    "fax_out.error_pages": _fax_error_pages,
    "fax_out.unanswered_fee": _fax_unanswered,
    "fax_out.failed_call": _fax_failed,
    "fax_out.connect_fee": _fax_connect,
    "fax_in.per_page": _per_page(lambda: _("fax received")),
    "typing.per_page": _per_page(lambda: _("typing")),
    "print.prices": _sides,
    "copy.prices": _sides,
    "print.scaling_surcharge": _scaled,
    "copy.scaling_surcharge": _scaled,
    "print.not_charged.outcome": _print_free,
    "print.not_charged.proof": _print_free,
    "errand.fee": _errand_fee,
    "errand.service_charge": _errand_service,
    "errand.service_charge.agreed": _errand_service,
    "meeting_room.per_hour": _room,
    "meeting_room.room_per_hour": _room,
    "meeting_room.extras": _room_extra,
    "manual": _manual,
    "discount": _discount,
}


def unit(name: str) -> str:
    """A line's unit ("page", "side", "min"...) in the current language; an extra's own name as is."""
    if _english():
        return name  # as the API and the receipt write it
    return {"min": _("min"), "page": _("pages"), "side": _("sides"), "call": _("call"), "attempt": _("attempt"),
            "errand": _("errand"), "item": _("item"), "h": _("h")}.get(name, name)


def _kind_of(rule: str) -> str:
    if rule.startswith("fax_out.destinations[") and rule.endswith("].minimum"):
        return "minimum"
    return rule.split("[", 1)[0]


def charge(line: dict[str, Any], fmt: Formats) -> str:
    """One charge line (the API's JSON) explained in the current language."""
    if _english():
        return str(line.get("description", ""))
    kind = _kind_of(str(line.get("rule") or ""))
    compose = _fax_minimum if kind == "minimum" else CHARGES.get(kind)
    if compose is None:
        return str(line.get("description", ""))
    try:
        return compose(line, fmt)
    except (KeyError, TypeError, ValueError, ArithmeticError):  # stored before its inputs were recorded
        return str(line.get("description", ""))


def rating(rated: dict[str, Any], fmt: Formats) -> str:
    """A quote's lines (POST /quotes), one sentence each."""
    if _english():
        return str(rated.get("explain") or "")
    return _("; ").join(charge(line, fmt) for line in rated.get("lines") or [])


# -- due items --------------------------------------------------------------------------------------

def _checklist(item: str) -> str:
    return {"confirm": _("meeting confirmed with the customer"), "request_form": _("service request form filled"),
            "setup": _("room set up"), "equipment": _("equipment checked"), "access": _("access arranged"),
            "parking": _("parking arranged")}.get(item, item)


def mail_kind(kind: str) -> str:
    """A mail register kind (gatewayd.models.MailKind) in the current language."""
    return {"letter": _("letters"), "registered": _("registered letter"), "parcel_notice": _("parcel notice"),
            "remittance": _("remittance slip"), "ems": _("EMS")}.get(kind, kind)


DUE: dict[str, Callable[[dict[str, Any], Formats], str]] = {
    "mail_return": lambda a, fmt: _("return the %(kind)s for %(addressee)s (查无此人) to the post office") % {
        "kind": mail_kind(a["mail_kind"]), "addressee": a["addressee"]},
    "complaint_reply": lambda a, fmt: _("reply to %(complainant)s: %(subject)s") % a,
    "visit_reply": lambda a, fmt: _("written answer to %(company)s: %(opinions)s") % a,
    "visit": lambda a, fmt: _("half-yearly visit to %(company)s") % a,
    "booking_task": lambda a, fmt: _("%(task)s: %(room)s, meeting %(starts)s") % {
        "task": _checklist(a["item"]), "room": a["room"], "starts": fmt.when(a["starts_at"])},
}

REGISTERS = {"mail_return": lambda: _("mail"), "complaint_reply": lambda: _("complaint"),
             "visit_reply": lambda: _("visit"), "visit": lambda: _("tenant"), "booking_task": lambda: _("booking")}


def _department(name: str) -> str:
    """The meeting checklist's departments (gatewayd.desk.rooms.CHECKLIST); others as staff typed them."""
    return {"business centre": _("business centre"), "housekeeping": _("housekeeping"),
            "engineering": _("engineering"), "security": _("security")}.get(name, name)


def due(item: dict[str, Any], fmt: Formats) -> dict[str, str]:
    """A due item's ``what``, ``ref`` and ``who`` (GET /due) in the current language."""
    shown = {"what": item["what"], "ref": item["ref"], "who": item["who"]}
    compose = DUE.get(item["kind"])
    if _english() or compose is None or not item.get("args"):
        return shown
    args = item["args"]
    return {"what": compose(args, fmt), "ref": f"{REGISTERS[item['kind']]()} {args['id']}",
            "who": _department(item["who"])}
