"""The console's doors, over plain HTTP against a real daemon: one-time links, session cookie,
CSRF, Host header, security headers, staff-only actions, and the API's own rules behind every form."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.console.conftest import Console, start_console


EN = {"accept-language": "en"}  # the console's messages are asserted in English here


def _get(url: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.get(url, headers=EN, follow_redirects=False, **kwargs)


def _logged_in(console: Console, user: str | None = None) -> tuple[httpx.Client, str]:
    link = console.login_url(user)
    base = link.split("/login/")[0]
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30, headers=EN)
    answer = client.get(link)
    assert answer.status_code == 303, answer.text
    return client, base


def _csrf(client: httpx.Client) -> str:
    client.get("/tickets/new")  # any page hands out the token cookie
    token = client.cookies.get("gatewayd_csrf")
    assert token
    return token


def test_a_login_link_works_once_and_sets_a_strict_httponly_session(console: Console) -> None:
    link = console.login_url()
    first = _get(link)
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"].lower()
    assert "gatewayd_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    again = _get(link)
    assert again.status_code == 403
    assert "already used or has expired" in again.text
    assert "gatewayd_console" not in again.headers.get("set-cookie", "")


def test_without_a_session_every_page_is_the_login_page_and_no_data(console: Console) -> None:
    c = console.daemon.client()
    ticket = c.post("/tickets", {"kind": "errand", "guest_name": "Secret Guest", "guest_phone": "13900001111"})
    for path in ("/", f"/tickets/{ticket['id']}", "/today/live", "/tickets/new"):
        answer = _get(console.url + path)
        assert answer.status_code == 401, path
        assert "gatewayctl console" in answer.text
        assert "Secret Guest" not in answer.text and ticket["id"] not in answer.text
    forged = _get(console.url + "/", cookies={"gatewayd_console": "eyJ1c2VyIjogInJvb3QifQ==.forged.sig"})
    assert forged.status_code == 401


def test_a_change_without_the_csrf_token_is_refused(console: Console) -> None:
    client, _ = _logged_in(console)
    token = _csrf(client)
    form = {"kind": "errand", "customer": "guest", "guest_name": "Mr Wang"}
    refused = client.post("/tickets/new", data=form)
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = client.post("/tickets/new", data={**form, "csrftoken": token[:-2] + "xx"})
    assert wrong.status_code == 403
    assert console.daemon.client().get("/tickets") == []  # nothing was opened
    ok = client.post("/tickets/new", data={**form, "csrftoken": token})
    assert ok.status_code == 303


def test_a_foreign_host_header_is_refused(console: Console) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host."""
    client, _ = _logged_in(console)
    answer = client.get("/", headers={"host": "evil.example:8631"})
    assert answer.status_code == 400
    assert client.get("/", headers={"host": "localhost"}).status_code == 200


def test_every_answer_carries_a_strict_content_security_policy(console: Console) -> None:
    client, _ = _logged_in(console)
    for answer in (client.get("/"), _get(console.url + "/"), client.get("/static/console.css")):
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_changes_are_audited_as_the_linked_user_from_the_console(console: Console) -> None:
    client, _ = _logged_in(console)
    token = _csrf(client)
    answer = client.post("/tickets/new", data={"csrftoken": token, "kind": "errand", "customer": "guest",
                                                "guest_name": "Ms Zhou", "guest_phone": "13800138000"})
    number = answer.headers["location"].rsplit("/", 1)[1]
    trail = console.daemon.client().get("/audit", entity="ticket", id=number)
    assert [(e["actor"], e["via"]) for e in trail] == [("root", "console")]
    # Its page in English dates it day, month name, year (never the US 11/29/26).
    opened = console.daemon.client().get(f"/tickets/{number}")["created_at"]
    day = datetime.fromisoformat(opened).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{day.day} {day:%b %Y}, {day:%H:%M}" in client.get(f"/tickets/{number}").text
    socket_ticket = console.daemon.client().post("/tickets", {"kind": "errand", "guest_name": "x"})
    assert [e["via"] for e in console.daemon.client().get("/audit", entity="ticket", id=socket_ticket["id"])] == ["api"]


def test_bad_input_shows_the_apis_reason_beside_the_field_and_keeps_what_was_typed(console: Console) -> None:
    client, _ = _logged_in(console)
    token = _csrf(client)
    answer = client.post("/tickets/new", data={"csrftoken": token, "kind": "errand", "customer": "guest",
                                                "guest_name": "Mr Li 李先生", "guest_phone": "1" * 60})
    assert answer.status_code == 422
    assert 'id="e-guest_phone" role="alert" data-error-for="guest_phone">guest_phone is longer than 50' in answer.text
    assert 'value="Mr Li 李先生"' in answer.text  # nothing the user typed is lost
    assert console.daemon.client().get("/tickets") == []


def test_the_live_quote_is_the_apis_quote(console: Console) -> None:
    client, _ = _logged_in(console)
    token = _csrf(client)
    headers = {"x-csrftoken": token}
    hk = client.post("/quote", json={"kind": "fax_out", "number": "0085221234567"}, headers=headers)
    api = console.daemon.client().post("/quotes", {"service": "fax_out", "number": "0085221234567", "minutes": "3",
                                                   "pages": 1})
    assert hk.status_code == 200 and hk.json()["total"] == api["total"]
    assert "Hong Kong" in hk.json()["explain"]
    bad = client.post("/quote", json={"kind": "fax_out", "number": "110"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "number" and bad.json()["error"]
    assert client.post("/quote", json={"kind": "fax_out", "number": "110"}).status_code == 403  # no token


def test_sessions_expire(tmp_path: Path) -> None:
    console = start_console(tmp_path, f"sqlite:///{tmp_path / 'g.sqlite3'}", console_keys="session_timeout_s = 1\n")
    try:
        client, _ = _logged_in(console)
        cookie = client.cookies.get("gatewayd_console")
        assert client.get("/").status_code == 200
        time.sleep(2.5)
        # The browser would have dropped it; a copied cookie is refused by the server too.
        stale = _get(console.url + "/", cookies={"gatewayd_console": cookie})
        assert stale.status_code == 401 and "gatewayctl console" in stale.text
    finally:
        console.daemon.stop()


def test_a_non_staff_user_cannot_reach_a_staff_only_action(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run gatewayctl as another user")
    console = start_console(tmp_path, f"sqlite:///{tmp_path / 'g.sqlite3'}", staff_group="staff",
                            public_socket=True)
    try:
        client, _ = _logged_in(console, user="nobody")
        token = _csrf(client)
        page = client.get("/tenants")
        assert page.status_code == 200 and "for staff" in page.text
        refused = client.post("/tenants/import", data={"csrftoken": token, "csv": "company,rooms\nEvil Ltd,1\n"})
        assert refused.status_code == 403
        assert "is for staff" in refused.text
        assert console.daemon.client().get("/tenants") == []
        # The same link door for staff: root may import.
        staff, _ = _logged_in(console)
        staff_token = _csrf(staff)
        done = staff.post("/tenants/import", data={"csrftoken": staff_token,
                                                   "csv": "company,rooms\nGood Ltd,1203\nGood Ltd,1204\n"})
        assert done.status_code == 200 and "Imported 1 tenants" in done.text
        assert "appears twice in the file" in done.text  # the rejected row, with its reason
        assert [t["company"] for t in console.daemon.client().get("/tenants")] == ["Good Ltd"]
    finally:
        console.daemon.stop()


def test_the_console_can_be_switched_off(tmp_path: Path) -> None:
    from tests.conftest import Daemon, write_config

    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'g.sqlite3'}")  # the tests' default: off
    daemon = Daemon(tmp_path, config).start()
    try:
        assert daemon.client().get("/status")["console"] is None
        refused = daemon.ctl("console", "--print-url")
        assert refused.returncode == 1 and "console is switched off" in refused.stderr
    finally:
        daemon.stop()


def test_a_busy_console_port_stops_the_daemon_with_a_clear_message(tmp_path: Path) -> None:
    import socket

    from tests.conftest import Daemon, write_config

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'g.sqlite3'}", console=f'listen = "127.0.0.1:{port}"')
        with pytest.raises(RuntimeError, match=f"console.listen 127.0.0.1:{port}: cannot listen there"):
            Daemon(tmp_path, config).start()
    finally:
        taken.close()


def test_every_page_answers_in_both_languages(console: Console) -> None:
    c = console.daemon.client()
    c.post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203"})
    ticket = c.post("/tickets", {"kind": "fax_out", "company": "Acme Trading Ltd", "params": {"number": "0085221234567"}})
    pages = ["/", "/today/live", "/tickets/new", f"/tickets/{ticket['id']}", f"/tickets/{ticket['id']}/live",
             f"/tickets/{ticket['id']}/fax", "/fax/incoming", "/fax/notify-requests", "/fax/register/out",
             "/fax/register/in",
             "/registers/typing", "/registers/copy", "/registers/mail", "/registers/bookings", "/registers/complaints",
             "/reports/monthly", "/tenants"]
    for language, expect in (("en", "Service form"), ("zh_CN", "服务单")):
        client, _ = _logged_in(console)
        client.post("/language", data={"csrftoken": _csrf(client), "language": language, "next": "/"})
        for path in pages:
            answer = client.get(path)
            assert answer.status_code == 200, (language, path, answer.text[-500:])
            if not path.endswith("/live"):
                assert expect in answer.text, (language, path)
    unknown = client.get("/tickets/T-2026-999999")
    assert unknown.status_code == 404 and "T-2026-999999" in unknown.text  # the API's detail, not a 500


def test_the_monthly_report_its_csv_and_its_printable_page(console: Console) -> None:
    client, _ = _logged_in(console)
    month = "2026-11"
    page = client.get("/reports/monthly", params={"month": month})
    assert page.status_code == 200 and "Monthly reconciliation 2026-11" in page.text
    csv = client.get(f"/reports/monthly/{month}.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    assert csv.content == console.daemon.client().request_bytes("GET", f"/reports/monthly/{month}/csv")
    printable = client.get(f"/reports/monthly/{month}.html")
    assert printable.status_code == 200 and "<table" in printable.text
    csp = printable.headers.get_list("content-security-policy")
    assert len(csp) == 1 and "script-src" not in csp[0] and "default-src 'none'" in csp[0]  # no script at all
    assert client.get("/reports/monthly", params={"month": "2026-13"}).status_code == 422


def test_tenants_are_found_by_room_and_by_pinyin_initials(console: Console) -> None:
    c = console.daemon.client()
    c.post("/tenants", {"company": "上海浦东贸易有限公司", "rooms": "1808"})
    c.post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203"})
    client, _ = _logged_in(console)
    form = client.get("/tickets/new").text
    # The browser's list suggests on the whole option text: name, rooms, and initials for Chinese names.
    assert '<option value="上海浦东贸易有限公司" data-rooms="1808">上海浦东贸易有限公司 · 1808 · shpdmyyxgs</option>' in form
    assert '<option value="Acme Trading Ltd" data-rooms="1203">Acme Trading Ltd · 1203</option>' in form


def test_idle_and_slow_connections_cannot_starve_the_console_or_the_api(tmp_path: Path) -> None:
    import socket

    console = start_console(tmp_path, f"sqlite:///{tmp_path / 'g.sqlite3'}", console_keys="max_connections = 8\n")
    config = console.daemon.config
    config.write_text(config.read_text().replace("[api]\n", "[api]\nrequest_timeout = 2\n"))
    console.daemon.stop()
    console = Console(console.daemon.start())
    host, port = console.url.removeprefix("http://").rsplit(":", 1)
    held: list[socket.socket] = []
    try:
        def connect() -> socket.socket:
            s = socket.create_connection((host, int(port)), timeout=10)
            held.append(s)
            return s

        def answer(s: socket.socket) -> bytes:
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            return data

        idle = [connect() for _ in range(7)]
        slow = connect()  # the 8th trickles its request head a byte at a time
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        refused = connect()  # the 9th is past the cap: told so at once, not left hanging
        assert answer(refused).startswith(b"HTTP/1.1 503 ")
        # The Unix-socket API is not starved by the console's connections.
        assert console.daemon.client().get("/status")["console"] == console.url
        with pytest.raises(OSError):
            while time.monotonic() - started < 6:
                slow.sendall(b"X")
                time.sleep(0.2)
            raise AssertionError("a header trickled for 6 s was still being read")
        assert time.monotonic() - started < 5
        for s in idle:  # every connection that never sent a whole request is cut at request_timeout
            assert answer(s).startswith(b"HTTP/1.1 408 ")
        page = _get(console.url + "/", timeout=10)  # and a fresh client gets its page
        assert page.status_code == 401 and "gatewayctl console" in page.text
    finally:
        for s in held:
            s.close()
        console.daemon.stop()


def test_a_notify_me_request_is_taken_and_listed_through_the_apis_route(console: Console) -> None:
    console.daemon.client().post("/tenants", {"company": "Acme Trading Ltd", "rooms": "1203"})
    client, _ = _logged_in(console)
    token = _csrf(client)
    refused = client.post("/fax/notify-requests", data={"csrftoken": token, "guest_name": "Mr Zhao", "phone": "139",
                                                        "company": "No Such Company"})
    assert refused.status_code == 404  # the API's answer for a company not on the roster
    reason = re.search(r'data-error-for="company">([^<]+)<', refused.text)
    assert reason and "No Such Company" in reason.group(1)  # the API's reason, beside the field
    assert 'value="Mr Zhao"' in refused.text and 'value="No Such Company"' in refused.text  # what was typed is kept
    assert console.daemon.client().get("/fax/notify-requests") == []
    added = client.post("/fax/notify-requests", data={"csrftoken": token, "guest_name": "Mr Zhao",
                                                      "phone": "13900001111", "company": "Acme Trading Ltd"})
    assert added.status_code == 303 and added.headers["location"] == "/fax/notify-requests"
    [request] = console.daemon.client().get("/fax/notify-requests")
    assert (request["guest_name"], request["company"], request["state"], request["created_by"]) == (
        "Mr Zhao", "Acme Trading Ltd", "open", "root")
    listing = client.get("/fax/notify-requests")
    assert listing.status_code == 200 and f'data-request="{request["id"]}"' in listing.text
    assert client.post("/fax/notify-requests", data={"guest_name": "x", "phone": "1"}).status_code == 403  # no token
    cancel = f"/fax/notify-requests/{request['id']}/cancel"
    assert client.post(cancel, data={}).status_code == 403  # no token: refused, the request still open
    assert console.daemon.client().get("/fax/notify-requests")[0]["state"] == "open"
    cancelled = client.post(cancel, data={"csrftoken": token})
    assert cancelled.status_code == 303 and cancelled.headers["location"] == "/fax/notify-requests"
    assert console.daemon.client().get("/fax/notify-requests")[0]["state"] == "cancelled"
    assert f'data-request="{request["id"]}"' not in client.get("/fax/notify-requests").text  # open ones listed
    again = client.post(cancel, data={"csrftoken": token})
    assert again.status_code == 409 and "already cancelled" in again.text  # the API's reason, on the page
