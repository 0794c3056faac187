"""A guest's "notify me when a fax arrives" request cancelled: over the API and gatewayctl, audited,
refused once a fax answered it or it was cancelled, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from gatewayd.ctl.client import Refused
from tests.conftest import Daemon

ACME = "Acme Trading Ltd"


def test_a_request_is_cancelled_once_audited_and_no_longer_matched(daemon: Daemon) -> None:
    c = daemon.client()
    c.post("/tenants", {"company": ACME, "rooms": "1203"})
    request = c.post("/fax/notify-requests", {"guest_name": "Mr Zhao", "phone": "13900001111", "company": ACME})

    cancelled = c.post(f"/fax/notify-requests/{request['id']}/cancel", {"reason": "he collected it in person"})
    assert (cancelled["id"], cancelled["state"]) == (request["id"], "cancelled")
    assert c.get("/fax/notify-requests", state="open") == []
    assert [r["id"] for r in c.get("/fax/notify-requests", state="cancelled")] == [request["id"]]
    [entry] = c.get("/audit", entity="fax_notify_request", id=str(request["id"]))[:1]
    assert (entry["action"], entry["actor"], entry["before"], entry["after"]) == (
        "fax_in.notify_cancel", "root", {"state": "open"}, {"state": "cancelled", "reason": "he collected it in person"})

    with pytest.raises(Refused) as again:
        c.post(f"/fax/notify-requests/{request['id']}/cancel", {})
    assert again.value.status == 409 and "already cancelled" in again.value.detail
    with pytest.raises(Refused) as unknown:
        c.post("/fax/notify-requests/999999/cancel", {})
    assert unknown.value.status == 404 and "999999" in unknown.value.detail
    with pytest.raises(Refused) as garbled:
        c.post(f"/fax/notify-requests/{request['id']}/cancel", {"reason": 7})
    assert garbled.value.status == 422 and "reason" in garbled.value.detail

    # A cancelled request is not answered by the fax it asked about: nobody is put on the to-call list.
    c.post("/events", {
        "kind": "fax_call", "device": "fax1", "natural_key": "call-in-1", "occurred_at": "2026-11-26T09:00:00+08:00",
        "payload": {"direction": "incoming", "number": "", "remote_station_id": "", "status": "completed",
                    "pages": [{"page": 1, "delivered": True}]}})
    [fax] = c.get("/fax/incoming")
    c.post(f"/fax/incoming/{fax['id']}/assign", {"company": ACME, "room": "1203"})
    assert c.get(f"/fax/incoming/{fax['id']}")["notify_request"] is None
    assert c.get("/fax/notify-requests", state="cancelled")[0]["state"] == "cancelled"


def test_a_request_a_fax_answered_cannot_be_cancelled(daemon: Daemon) -> None:
    c = daemon.client()
    c.post("/tenants", {"company": ACME, "rooms": "1203"})
    request = c.post("/fax/notify-requests", {"guest_name": "Mr Zhao", "phone": "13900001111", "company": ACME})
    c.post("/events", {
        "kind": "fax_call", "device": "fax1", "natural_key": "call-in-2", "occurred_at": "2026-11-26T09:00:00+08:00",
        "payload": {"direction": "incoming", "number": "", "remote_station_id": "", "status": "completed",
                    "pages": [{"page": 1, "delivered": True}]}})
    [fax] = c.get("/fax/incoming")
    c.post(f"/fax/incoming/{fax['id']}/assign", {"company": ACME, "room": "1203"})
    assert c.get(f"/fax/incoming/{fax['id']}")["notify_request"] == request["id"]

    with pytest.raises(Refused) as answered:
        c.post(f"/fax/notify-requests/{request['id']}/cancel", {})
    assert answered.value.status == 409 and "already answered by a fax" in answered.value.detail
    assert c.get("/fax/notify-requests", state="matched")[0]["id"] == request["id"]  # unchanged
    assert [e["action"] for e in c.get("/audit", entity="fax_notify_request", id=str(request["id"]))] == [
        "fax_in.notify_request"]


def test_gatewayctl_lists_and_cancels_a_request(daemon: Daemon) -> None:
    daemon.client().post("/tenants", {"company": ACME, "rooms": "1203"})
    added = daemon.ctl("--json", "fax", "notify-me", "--guest", "Ms Qian", "--phone", "13800002222", "--company", ACME)
    assert added.returncode == 0, added.stderr
    request_id = json.loads(added.stdout)["id"]
    listed = daemon.ctl("fax", "notify-requests")
    assert listed.returncode == 0 and "Ms Qian" in listed.stdout and str(request_id) in listed.stdout

    done = daemon.ctl("fax", "notify-cancel", str(request_id), "--reason", "no longer expected")
    assert done.returncode == 0, done.stderr
    assert f"request {request_id}: Ms Qian will not be called (cancelled)" in done.stdout
    assert "Ms Qian" not in daemon.ctl("fax", "notify-requests").stdout  # open ones by default
    assert "Ms Qian" in daemon.ctl("fax", "notify-requests", "--state", "cancelled").stdout

    again = daemon.ctl("fax", "notify-cancel", str(request_id))
    assert again.returncode != 0 and "already cancelled" in again.stderr
