"""The staff API end to end: a real gatewayd subprocess on a Unix socket, on SQLite and PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from gatewayd.ctl import Client, Refused
from tests.conftest import BIN, Daemon, write_config


class Raw(http.client.HTTPConnection):
    def __init__(self, path: Path):
        super().__init__("localhost", timeout=10)
        self.path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def raw(daemon: Daemon, method: str, target: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    conn = Raw(daemon.socket)
    conn.request(method, target, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("content-type", ""), json.loads(data) if data else None


def state_of_the_world(client: Client) -> tuple[Any, Any, Any]:
    return client.get("/tickets"), client.get("/audit"), client.get("/events")


def test_a_copy_ticket_from_open_to_settled_with_gatewayctl(daemon: Daemon) -> None:
    assert daemon.ctl("tenant", "add", "Acme 贸易有限公司", "--rooms", "1203,1205").returncode == 0
    opened = daemon.ctl("--json", "ticket", "open", "copy", "--company", "Acme 贸易有限公司", "--room", "1203",
                        "--param", "media=A4", "--param", "sets=2")
    assert opened.returncode == 0, opened.stderr
    ticket = json.loads(opened.stdout)
    number = ticket["id"]
    assert number.startswith("T-") and ticket["state"] == "open" and ticket["params"] == {"media": "A4", "sets": "2"}

    for action in ("start", "finish"):
        assert daemon.ctl("ticket", action, number).returncode == 0
    assert daemon.ctl("charge", number, "A4 copies, mono", "40", "0.50", "--unit", "side").returncode == 0
    assert daemon.ctl("ticket", "complete", number, "--signed-by", "李小姐").returncode == 0
    settled = daemon.ctl("--json", "ticket", "settle", number, "--method", "account")
    assert settled.returncode == 0, settled.stderr
    final = json.loads(settled.stdout)
    assert final["state"] == "settled"
    assert final["total"] == "20.00" and final["paid"] == "20.00" and final["balance"] == "0.00"
    assert [r["kind"] for r in final["receipts"]] == ["formal"]
    assert final["receipts"][0]["number"].startswith("R-")

    listing = daemon.ctl("ticket", "list", "--state", "settled")
    assert number in listing.stdout and "Acme 贸易有限公司 1203" in listing.stdout
    shown = daemon.ctl("ticket", "show", number)
    assert "A4 copies, mono [manual]" in shown.stdout and "total 20.00" in shown.stdout

    trail = daemon.client().get("/audit", entity="ticket", id=number)
    actions = [e["action"] for e in reversed(trail)]
    assert actions == ["ticket.open", "ticket.start", "ticket.finish", "charge.add", "ticket.complete",
                       "ticket.settle"]
    assert {e["actor"] for e in trail} == {"root"} if os.geteuid() == 0 else True


def test_settled_ticket_is_immutable(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "other", "guest_name": "Mr Smith"})
    for action in ("start", "finish", "complete"):
        c.post(f"/tickets/{t['id']}/{action}", {})
    c.post(f"/tickets/{t['id']}/settle", {"method": "cash"})
    before = state_of_the_world(c)
    for target, body in [
        ("charges", {"description": "late line", "quantity": "1", "unit_price": "5"}),
        ("payments", {"amount": "5", "method": "cash"}),
        ("cancel", {"reason": "changed mind"}),
        ("settle", {"method": "cash"}),
    ]:
        status, kind, problem = raw(daemon, "POST", f"/tickets/{t['id']}/{target}", json.dumps(body).encode())
        assert status == 409, (target, problem)
        assert kind == "application/problem+json"
        assert t["id"] in problem["detail"]
    assert state_of_the_world(c) == before


def test_walk_in_guest_cannot_be_charged_to_account(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "print", "guest_name": "Guest"})
    for action in ("start", "finish", "complete"):
        c.post(f"/tickets/{t['id']}/{action}", {})
    with pytest.raises(Refused) as refused:
        c.post(f"/tickets/{t['id']}/settle", {"method": "account"})
    assert refused.value.status == 422 and "walk-in" in refused.value.detail


def test_errand_fees_up_front_get_a_temporary_receipt_exchanged_at_settlement(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "errand", "guest_name": "张三", "guest_phone": "13800138000"})
    c.post(f"/tickets/{t['id']}/charges", {"description": "Courier fee", "quantity": "1", "unit_price": "30.00"})
    c.post(f"/tickets/{t['id']}/charges", {"description": "Service charge", "quantity": "1", "unit_price": "10"})
    t = c.post(f"/tickets/{t['id']}/payments", {"amount": "30.00", "method": "cash"})
    temporary = t["receipts"][0]
    assert temporary["kind"] == "temporary" and temporary["number"].startswith("TR-")
    for action in ("start", "finish", "complete"):
        c.post(f"/tickets/{t['id']}/{action}", {})
    t = c.post(f"/tickets/{t['id']}/settle", {"method": "cash"})
    assert t["paid"] == "40.00" and [p["amount"] for p in t["payments"]] == ["30.00", "10.00"]
    formal = [r for r in t["receipts"] if r["kind"] == "formal"][0]
    assert formal["amount"] == "40.00"
    assert [r for r in t["receipts"] if r["kind"] == "temporary"][0]["exchanged_for"] == formal["number"]


def test_receipt_numbers_are_gap_free_even_when_requests_are_refused(daemon: Daemon) -> None:
    c = daemon.client()
    numbers = []
    for n in range(3):
        t = c.post("/tickets", {"kind": "other", "guest_name": f"g{n}"})
        for action in ("start", "finish", "complete"):
            c.post(f"/tickets/{t['id']}/{action}", {})
        with pytest.raises(Refused):
            c.post(f"/tickets/{t['id']}/settle", {"method": "account"})  # refused: walk-in
        numbers.append(c.post(f"/tickets/{t['id']}/settle", {"method": "cash"})["receipts"][-1]["number"])
    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == list(range(tails[0], tails[0] + 3))


BAD_REQUESTS = [
    # (method, target, body, status, words in the detail)
    ("POST", "/tickets", b"{not json", 400, "not valid JSON"),
    ("POST", "/tickets", b"[1, 2]", 422, "must be a JSON object"),
    ("POST", "/tickets", b'{"kind": "copy", "guest_name": "A", "colour": "red"}', 400, "unknown field colour"),
    ("POST", "/tickets", b'{"kind": "telex", "guest_name": "A"}', 422, "kind must be one of"),
    ("POST", "/tickets", b'{"kind": "copy", "guest_name": 12}', 422, "guest_name must be string, got an integer"),
    ("POST", "/tickets", b'{"kind": "copy"}', 422, "needs a customer"),
    ("POST", "/tickets", b'{"kind": "copy", "company": "Nobody Ltd"}', 404, "no tenant company 'Nobody Ltd'"),
    ("POST", "/tickets", b'{"kind": "copy", "guest_name": "A", "quoted_total": 1.5e400}', 422, "finite"),
    ("POST", "/tickets", b'{"kind": "copy", "guest_name": "A", "quoted_total": "ten"}', 422, "decimal amount"),
    ("GET", "/tickets/T-2026-999999", None, 404, "no ticket 'T-2026-999999'"),
    ("POST", "/tickets/T-2026-999999/start", b"{}", 404, "no ticket"),
    ("GET", "/tickets?state=lost", None, 422, "state must be one of"),
    ("GET", "/tickets?colour=red", None, 400, "unknown query parameter colour"),
    ("GET", "/tickets?since=yesterday", None, 422, "ISO 8601"),
    ("GET", "/nowhere", None, 404, "no such endpoint /nowhere"),
    ("DELETE", "/tickets", None, 405, "DELETE is not allowed"),
    ("POST", "/events/abc/attach", b'{"ticket": "T-2026-000001"}', 404, "no event 'abc' (event ids are numbers)"),
    ("GET", "/fax/jobs/x1", None, 404, "no job 'x1' (job ids are numbers)"),
    ("POST", "/events", b'{"kind": "fax_call", "device": "m1", "natural_key": "k", "occurred_at": "2026-11-26T09:00:00"}',
     422, "must include a UTC offset"),
]


@pytest.mark.parametrize(("method", "target", "body", "status", "words"), BAD_REQUESTS,
                         ids=[f"{r[3]}-{r[4][:20]}" for r in BAD_REQUESTS])
def test_bad_requests_get_problem_details_and_change_nothing(
    daemon: Daemon, method: str, target: str, body: bytes | None, status: int, words: str
) -> None:
    c = daemon.client()
    c.post("/tickets", {"kind": "copy", "guest_name": "existing"})
    before = state_of_the_world(c)
    got, content_type, problem = raw(daemon, method, target, body,
                                     {"content-type": "application/json"} if body else None)
    assert got == status, problem
    assert content_type == "application/problem+json"
    assert problem["status"] == status and words in problem["detail"]
    assert state_of_the_world(c) == before


def test_huge_body_is_refused_with_413(daemon: Daemon) -> None:
    c = daemon.client()
    before = state_of_the_world(c)
    body = json.dumps({"kind": "copy", "guest_name": "x", "note": "x" * (2 << 20)}).encode()
    status, content_type, problem = raw(daemon, "POST", "/tickets", body)
    assert status == 413 and "larger than 1048576 bytes" in problem["detail"]
    assert state_of_the_world(c) == before
    assert c.get("/status")["version"]  # the daemon is still serving


def test_illegal_transitions_are_409_naming_the_state(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "copy", "guest_name": "x"})
    status, _, problem = raw(daemon, "POST", f"/tickets/{t['id']}/complete", b"{}")
    assert status == 409
    assert problem["detail"] == f"cannot complete ticket {t['id']}: it is open (only from awaiting_customer)"
    status, _, problem = raw(daemon, "POST", f"/tickets/{t['id']}/fail", b'{"reason": "busy"}')
    assert status == 409 and "only fax_out" in problem["detail"]
    status, _, problem = raw(daemon, "POST", f"/tickets/{t['id']}/cancel", b"{}")
    assert status == 422 and "needs a reason" in problem["detail"]


def test_stale_version_is_refused(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "copy", "guest_name": "x"})
    c.post(f"/tickets/{t['id']}/start", {"version": t["version"]})
    with pytest.raises(Refused) as refused:
        c.post(f"/tickets/{t['id']}/cancel", {"version": t["version"], "reason": "wrong one"})
    assert refused.value.status == 409 and "changed since you read it" in refused.value.detail
    assert c.get(f"/tickets/{t['id']}")["state"] == "in_progress"


def test_two_clients_settling_the_same_ticket_at_once(daemon: Daemon) -> None:
    c = daemon.client()
    t = c.post("/tickets", {"kind": "copy", "guest_name": "x"})
    c.post(f"/tickets/{t['id']}/charges", {"description": "copies", "quantity": "10", "unit_price": "0.5"})
    for action in ("start", "finish", "complete"):
        c.post(f"/tickets/{t['id']}/{action}", {})
    results: list[Any] = []
    barrier = threading.Barrier(4)

    def settle() -> None:
        client = daemon.client()
        barrier.wait()
        try:
            results.append(client.post(f"/tickets/{t['id']}/settle", {"method": "cash"})["state"])
        except Refused as err:
            results.append(err.status)

    threads = [threading.Thread(target=settle) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(map(str, results)) == ["409", "409", "409", "settled"]
    final = c.get(f"/tickets/{t['id']}")
    assert len(final["receipts"]) == 1 and final["paid"] == "5.00"


def test_events_are_recorded_once_and_unattributed_ones_can_be_attached(daemon: Daemon) -> None:
    c = daemon.client()
    event = {"kind": "print_job", "device": "lobby-printer", "natural_key": "lobby/42/2026-11-26T01:00:00Z",
             "occurred_at": "2026-11-26T09:00:00+08:00", "payload": {"pages": 3, "copies": 2}}
    status, _, first = raw(daemon, "POST", "/events", json.dumps(event).encode())
    assert status == 201 and first["attribution"] == "unattributed" and first["manual"] is True
    status, _, again = raw(daemon, "POST", "/events", json.dumps(event).encode())
    assert status == 200 and again["id"] == first["id"]
    assert [e["id"] for e in c.get("/events", unattributed=True)] == [first["id"]]

    t = c.post("/tickets", {"kind": "print", "guest_name": "x"})
    attached = c.post(f"/events/{first['id']}/attach", {"ticket": t["id"]})
    assert attached["ticket"] == t["id"] and attached["attribution"] == "matched"
    assert c.get("/events", unattributed=True) == []
    with pytest.raises(Refused) as refused:
        c.post(f"/events/{first['id']}/attach", {"ticket": t["id"]})
    assert refused.value.status == 409
    manual = [e for e in c.get("/audit", entity="event") if e["manual"]]
    assert {e["action"] for e in manual} == {"event.record", "event.attach"}

    named = dict(event, natural_key="lobby/43/x", ticket=t["id"])
    status, _, matched = raw(daemon, "POST", "/events", json.dumps(named).encode())
    assert status == 201 and matched["ticket"] == t["id"]


def test_roster_import_reports_rejected_rows(daemon: Daemon, tmp_path: Path) -> None:
    csv_path = tmp_path / "roster.csv"
    csv_path.write_text(
        "\ufeffcompany,rooms,contact,phone,email\n"
        "Acme Ltd,1203;1205,Ms Li,021-5555 1234,li@acme.example\n"
        ",1301,nobody,,\n"
        "北京科技有限公司,2001,王经理,+86 10 8888 0000,\n"
        "Acme Ltd,9999,dup,,\n"
        "Bad Rooms Inc,12 03 x!,,,\n"
        "Bad Phone Co,1401,,call me maybe,\n",
        encoding="utf-8",
    )
    result = daemon.ctl("--json", "tenant", "import", str(csv_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] == 2
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (3, "company is empty"),
        (5, "company 'Acme Ltd' appears twice in the file"),
        (6, "room 'x!' is not a room number like 1203 or B2-05"),
        (7, "phone 'call me maybe' has characters a phone number cannot have"),
    ]
    companies = {t["company"]: t["rooms"] for t in daemon.client().get("/tenants")}
    assert companies == {"Acme Ltd": ["1203", "1205"], "北京科技有限公司": ["2001"]}


def test_openapi_lists_every_route(daemon: Daemon) -> None:
    from gatewayd.api import routes

    doc = daemon.client().get("/openapi.json")
    assert doc["openapi"].startswith("3.")
    for route in routes():
        assert route.method.lower() in doc["paths"][route.path]


def test_gatewayctl_exit_codes(daemon: Daemon, tmp_path: Path) -> None:
    refused = daemon.ctl("ticket", "show", "T-2026-999999")
    assert refused.returncode == 1 and "no ticket 'T-2026-999999'" in refused.stderr
    usage = daemon.ctl("ticket", "open")
    assert usage.returncode == 2
    gone = Daemon(tmp_path, daemon.config)
    gone.socket = tmp_path / "nobody-here.sock"
    unreachable = gone.ctl("status")
    assert unreachable.returncode == 3 and "hint: is gatewayd running?" in unreachable.stderr


def test_a_second_daemon_refuses_a_live_socket_and_a_stale_one_is_cleaned(daemon: Daemon, tmp_path: Path) -> None:
    second = subprocess.run([str(BIN / "gatewayd"), "run", "--config", str(daemon.config)],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert f"{daemon.socket} is held by a running gatewayd" in second.stderr
    assert daemon.client().get("/status")
    daemon.stop(signal.SIGKILL)
    assert daemon.socket.exists()  # left behind by the killed daemon
    daemon.start()
    assert daemon.client().get("/status")


def test_audit_records_the_peer_user_not_a_claim(tmp_path: Path, db_url: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run the client as another user")
    d = Daemon(tmp_path, write_config(tmp_path, db_url, mode="0666")).publish()
    d.start()
    try:
        result = d.ctl("--json", "ticket", "open", "copy", "--guest", "walk-in", user="nobody")
        assert result.returncode == 0, result.stderr
        number = json.loads(result.stdout)["id"]
        assert json.loads(result.stdout)["opened_by"] == "nobody"
        trail = d.client().get("/audit", entity="ticket", id=number)
        assert [(e["actor"], e["uid"]) for e in trail] == [("nobody", 65534)]
        # POST /events is for staff: with no api.group every local caller is staff, so the
        # group check is exercised by the unit test of Api.is_staff.
    finally:
        d.stop()


def test_sighup_with_a_broken_config_keeps_serving(daemon: Daemon) -> None:
    good = daemon.config.read_text()
    daemon.config.write_text(good + "\n[nonsense]\n")
    daemon.proc.send_signal(signal.SIGHUP)
    c = daemon.client()
    assert c.get("/status")
    daemon.config.write_text(good)
    daemon.proc.send_signal(signal.SIGHUP)
    assert c.get("/status")
    log = daemon.log.read_text()
    assert "config.reload_refused" in log and "nonsense: unknown section" in log


def test_sigterm_stops_cleanly(daemon: Daemon) -> None:
    assert daemon.stop(signal.SIGTERM) == 0
    assert not daemon.socket.exists()
    assert "daemon.stopped" in daemon.log.read_text()


def test_ticket_list_filters(daemon: Daemon) -> None:
    c = daemon.client()
    c.post("/tenants", {"company": "Acme Ltd", "rooms": "1203"})
    copy = c.post("/tickets", {"kind": "copy", "company": "Acme Ltd", "room": "1203"})
    fax = c.post("/tickets", {"kind": "fax_out", "guest_name": "walk-in"})
    c.post(f"/tickets/{fax['id']}/start", {})
    ids = lambda **q: [t["id"] for t in c.get("/tickets", **q)]  # noqa: E731
    assert ids(kind="copy") == [copy["id"]]
    assert ids(tenant="Acme Ltd") == [copy["id"]]
    assert ids(state="in_progress") == [fax["id"]]
    assert set(ids(since=copy["created_at"])) == {copy["id"], fax["id"]}
    assert ids(until=copy["created_at"]) == []
    assert ids(since="2020-01-01T00:00:00+08:00", until="2021-01-01T00:00:00+08:00") == []
    with pytest.raises(Refused) as refused:
        c.get("/tickets", tenant="Nobody Ltd")
    assert refused.value.status == 404
