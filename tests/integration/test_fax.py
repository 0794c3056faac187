"""Faxes through the real daemon: jobs from fax_out tickets sent to the lab's spandsp far end,
received faxes registered, routed, billed per page, notified and archived.

The peer tests run on SQLite only (each call is ~8 s of paced line time); the tests without a
call in them run on both databases. The lab peer runs at 3x real time, our T.30 timers scaled
to match; retry back-off and the archive period are cut to fractions of a second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lab.faxmodem.peer import FaxPeer
from tests.conftest import Daemon, write_config
from tests.fax.conftest import fax_lab, faxmodem_binary  # noqa: F401 - fixtures
from drivers.fax.documents import save_pages
from tests.fax.helpers import bar_page, bar_tiff, two_page_tiff
from tests.fax.test_send_lab import tiff_bitmaps

pytestmark = pytest.mark.slow

SPEED = 3.0
STATION = "+86 21 5550100"
HK = "9,0085221234567"  # outside line, then Hong Kong: rated at 8.00/min (config/rates.toml)
ACME = "Acme Trading Ltd"


def modem_tables(directory: Path, ports: tuple[Path, ...], ecm: bool = True,
                 fax_class: str = "1") -> str:
    """``lab0`` on the first port, ``lab1``... on the others, each with its own lock directory
    (the lab's ptys are all called ``ttyFAX``, so they would share one UUCP lock name)."""
    tables = []
    for n, port in enumerate(ports):
        lock_dir = directory if n == 0 else directory / f"locks-lab{n}"
        lock_dir.mkdir(exist_ok=True)
        tables.append(f'''
[[fax.modems]]
name = "lab{n}"
port = "{port}"
flow_control = "none"
lock_dir = "{lock_dir}"
station_id = "{STATION}"
own_number = "5550100"
rings_before_answer = 2
timer_scale = {1 / SPEED}
ecm = {str(ecm).lower()}
class = "{fax_class}"
''')
    return "".join(tables)


def fax_config(directory: Path, db_url: str, *ports: Path, **fax: Any) -> Path:
    settings = {"archive_after_days": 3, "archive_check_s": 0.2, "busy_s": 0.3, "other_s": 0.3,
                "notify": directory / "notified.jsonl", **fax}
    notify = directory / "notify.py"
    notify.write_text("import json, os, sys\n"
                      "env = {k: v for k, v in os.environ.items() if k.startswith('GATEWAYD_FAX_')}\n"
                      "with open(sys.argv[1], 'a') as f:\n"
                      "    f.write(json.dumps({'args': sys.argv[2:], 'env': env}) + '\\n')\n")
    return write_config(directory, db_url, extra=f'''
[fax]
archive_after_days = {settings["archive_after_days"]}
archive_check_s = {settings["archive_check_s"]}
notify_command = ["{sys.executable}", "{notify}", "{settings["notify"]}"]

[fax.retry]
busy_s = {settings["busy_s"]}
other_s = {settings["other_s"]}
max_tries = 3

[[fax.routes]]
station_id = "+1 555 0177"
tenant = "{ACME}"
{modem_tables(directory, ports, settings.get("ecm", True), settings.get("fax_class", "1"))}''')


@pytest.fixture
def fax_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    daemons: list[Daemon] = []

    def start(*ports: Path, db_url: str | None = None, **fax: Any) -> Daemon:
        d = Daemon(tmp_path, fax_config(tmp_path, db_url or f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}", *ports, **fax))
        daemons.append(d.start())
        d.client().post("/tenants", {"company": ACME, "rooms": "1203", "contact": "Ms Li", "phone": "021-5555 1234"})
        return d

    yield start
    for d in daemons:
        d.stop()


def two_page_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    for n in (1, 2):
        pdf.add_page()
        pdf.set_font("helvetica", size=28)
        pdf.cell(text=f"gatewayd fax test, page {n}")
        pdf.rect(20, 60 + 30 * n, 170, 10, style="F")
    pdf.output(str(path))
    return path




def fax_ticket(d: Daemon, **fields: Any) -> str:
    return d.client().post("/tickets", {"kind": "fax_out", "guest_name": "Mr Chan", **fields})["id"]


def wait_for(what: Callable[[], Any], timeout: float, d: Daemon, why: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := what():
            return result
        time.sleep(0.2)
    raise AssertionError(f"{why} not within {timeout} s:\n{d.log.read_text()[-4000:]}")


def fax_driver(d: Daemon) -> dict[str, Any]:
    return next(x for x in d.client().get("/status")["devices"] if x["driver"] == "fax")


def modem(d: Daemon, n: int = 0) -> dict[str, Any]:
    return fax_driver(d)["modems"][n]


def fax_calls(d: Daemon, **query: Any) -> list[dict[str, Any]]:
    return d.client().get("/events", kind="fax_call", **query)


# ---------------------------------------------------------------------------- sending


def test_fax_out_sent_billed_and_ticket_awaits_the_customer(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    peer = fax_lab(speed=SPEED)
    d = fax_daemon(peer.pty)
    ticket = fax_ticket(d)
    done = d.ctl("--json", "fax", "send", ticket, HK, str(two_page_pdf(tmp_path / "letter.pdf")), "--wait", "90")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    far = peer.wait_call(30)
    assert job["state"] == "done" and job["tries"] == 1 and job["pages_delivered"] == job["pages"] == 2
    assert job["e164"] == "+85221234567" and job["dial"] == "9,0085221234567"
    assert far["status"] == "OK" and far["pages_rx"] == 2 and far["bad_rows"] == 0
    assert far["remote_ident"].strip() == STATION

    t = d.client().get(f"/tickets/{ticket}")
    assert t["state"] == "awaiting_customer"
    calls = fax_calls(d, ticket=ticket)
    assert len(calls) == 1 and calls[0]["payload"]["status"] == "completed"
    assert calls[0]["payload"]["job_id"] == str(job["id"])
    rules = {c["rule"]: c for c in t["charges"]}
    assert rules["fax_out.connect_fee"]["amount"] == "2.00"
    assert rules["fax_out.per_page"]["amount"] == "2.00"
    assert rules["fax_out.destinations[+852]"]["event_id"] == calls[0]["id"]

    register = d.ctl("--json", "fax", "register", "--out")
    line = json.loads(register.stdout)[0]
    assert line["ticket"] == ticket and line["pages_delivered"] == 2 and line["charged"] == t["total"]
    assert "发报记录本" in d.ctl("fax", "register", "--out").stdout


def test_rtn_on_the_last_page_is_resent_on_the_next_call_at_once(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    """The far end spoils page 2 of 2, answers RTN and then refuses the retrain (spandsp's way):
    the daemon calls back at once with page 2 alone, and each call's record and charge lines
    name the job's pages."""
    peer = fax_lab(speed=SPEED, corrupt=(2,))
    d = fax_daemon(peer.pty, other_s=600, ecm=False)  # a line failure would wait 10 minutes; no ECM: RTN
    ticket = fax_ticket(d)
    # Dense pages (2-3 s of image each): the lab's noise window must land inside page 2.
    letter = save_pages(tmp_path / "letter.tif", [bar_page(2290, 4), bar_page(2290, 5)])
    done = d.ctl("--json", "fax", "send", ticket, HK, str(letter), "--wait", "120")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["state"] == "done" and job["tries"] == 2 and job["pages_delivered"] == 2
    first, second = peer.wait_call(30), peer.wait_call(30)
    assert (first["rtn"], first["pages_rx"], second["pages_rx"]) == (1, 1, 1)

    calls = sorted(fax_calls(d, ticket=ticket), key=lambda c: c["payload"]["dialled_at"])
    hangups = [c["payload"]["hangup"] for c in calls]
    assert hangups[0]["code"] == "RTN resend refused" and hangups[1]["code"] == "normal"
    assert hangups[0]["reason"] == "page 2 answered RTN; the far end hung up instead of taking it again"
    assert [[(p["page"], [a["status"] for a in p["attempts"]]) for p in c["payload"]["pages"]] for c in calls] == [
        [(1, ["MCF"]), (2, ["RTN"])], [(2, ["MCF"])]]
    audit = d.client().get(f"/audit?entity=fax_job&id={job['id']}")
    waits = [a["after"] for a in audit if a["action"] == "fax_job.call_ended" and a["after"]["state"] == "retry_wait"]
    assert len(waits) == 1 and "sending it again" in waits[0]["reason"]

    lines = d.client().get(f"/tickets/{ticket}")["charges"]
    per_page = [(c["event_id"], c["inputs"]["pages_confirmed"]) for c in lines if c["rule"] == "fax_out.per_page"
                and "pages_confirmed" in c["inputs"]]
    assert per_page == [(calls[0]["id"], [1]), (calls[1]["id"], [2])]
    notes = [c["description"] for c in lines if c["rule"] == "fax_out.error_pages"]
    assert notes == ["page 2 rejected, not resent in this call (ErrorPage), not charged"]


def test_a_class_2_0_modem_resends_an_error_page_in_the_call_and_bills_it_once(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    """The same job, ticket and bill through a Class 2.0 modem: the modem reports page 1 bad
    (+FPS:2, RTN), the driver sends it again per rtn_policy, the far end ends all-good, and the
    ErrorPage is noted, not charged twice."""
    peer = fax_lab(fclass="2.0", speed=SPEED, corrupt=(1,), ecm=False)  # with ECM: PPR, not RTN
    d = fax_daemon(peer.pty, fax_class="auto")  # the lab's 2.0 modem lists 0,2.0: auto picks 2.0
    ticket = fax_ticket(d)
    letter = save_pages(tmp_path / "letter.tif", [bar_page(2290, 4), bar_page(2290, 5)])
    done = d.ctl("--json", "fax", "send", ticket, HK, str(letter), "--wait", "120")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["state"] == "done" and job["tries"] == 1 and job["pages_delivered"] == 2
    far = peer.wait_call(30)
    assert far["status"] == "OK" and far["rtn"] == 1 and far["pages_rx"] == 2, far

    (call,) = fax_calls(d, ticket=ticket)
    assert call["payload"]["status"] == "completed" and call["payload"]["hangup"]["code"] == "normal"
    assert [(p["page"], [a["status"] for a in p["attempts"]]) for p in call["payload"]["pages"]] == [
        (1, ["RTN", "MCF"]), (2, ["MCF"])]
    t = d.client().get(f"/tickets/{ticket}")
    assert t["state"] == "awaiting_customer"
    rules = {c["rule"]: c for c in t["charges"]}
    assert rules["fax_out.per_page"]["amount"] == "2.00"  # two pages, each charged once
    assert rules["fax_out.error_pages"]["description"] == "page 1 resent (ErrorPage), not charged"
    (line,) = d.ctl_json("fax", "register", "--out")
    assert line["pages_delivered"] == 2 and line["charged"] == t["total"]
    assert fax_driver(d)["modems"][0]["fax_class"] == "2.0"  # what gatewayctl status shows


@pytest.mark.parametrize("fax_class", ["1", "2.0"])
def test_busy_is_retried_with_back_off_then_the_ticket_fails(fax_lab, fax_daemon, tmp_path, fax_class):  # noqa: F811
    peer = fax_lab(fclass=fax_class, speed=SPEED, busy=True)
    d = fax_daemon(peer.pty, busy_s=0.5, fax_class=fax_class)
    ticket = fax_ticket(d)
    note = tmp_path / "note.txt"
    note.write_text("Please call back.\n请回电。\n")
    job = d.ctl_json("fax", "send", ticket, HK, str(note))
    first = wait_for(lambda: (j := d.client().get(f"/fax/jobs/{job['id']}"))["state"] == "retry_wait" and j,
                     30, d, "a retry after BUSY")
    assert first["tries"] == 1 and "busy" in first["reason"].lower() and first["next_try_at"]
    final = wait_for(lambda: (j := d.client().get(f"/fax/jobs/{job['id']}"))["state"] == "failed" and j,
                     60, d, "giving up after 3 tries")
    assert final["tries"] == 3 and "gave up after 3 tries" in final["reason"]
    assert [peer.wait_call(10)["outcome"] for _ in range(3)] == ["busy"] * 3
    t = d.client().get(f"/tickets/{ticket}")
    assert t["state"] == "failed" and "busy" in t["reason"].lower()
    assert len(fax_calls(d, ticket=ticket)) == 3  # one call record per try
    assert t["total"] == "0.00"  # the price list sets no unanswered_fee: busy tries cost nothing


@pytest.mark.parametrize("fax_class", ["1", "2.0"])
def test_received_fax_routed_billed_per_page_and_notified(fax_lab, fax_daemon, tmp_path, fax_class):  # noqa: F811
    peer = fax_lab(fclass=fax_class, speed=SPEED, receive=False, send=two_page_tiff(tmp_path / "in.tif"),
                   ident="+1 555 0177")
    d = fax_daemon(peer.pty, fax_class=fax_class)
    request = d.client().post("/fax/notify-requests", {"guest_name": "Mr Zhao", "phone": "139 0000 0000",
                                                       "company": ACME})
    entry = wait_for(lambda: d.client().get("/fax/incoming"), 60, d, "a received fax")[0]
    far = peer.wait_call(10)
    assert far["status"] == "OK" and far["pages_tx"] == 2
    (call,) = fax_calls(d)
    assert far["ecm"] and call["payload"]["ecm"]  # the modems' ecm key (default on), any class
    assert entry["state"] == "assigned" and entry["tenant"] == ACME and entry["assigned_by"] == "route 0"
    assert entry["pages"] == 2 and entry["remote_station_id"] == "+1 555 0177"
    with Image.open(entry["document_path"]) as tiff:
        assert tiff.n_frames == 2 and tiff.size == (1728, 1100)
        # Who sent it and when travel with the file (fax viewers and HylaFAX's tools show them).
        assert tiff.tag_v2[270] == "+1 555 0177" and tiff.tag_v2[306].startswith(entry["received_at"][:4])
    assert Path(entry["document_path"].replace(".tif", ".png")).exists()
    for out, options in ((tmp_path / "got.tif", ()), (tmp_path / "got.png", ("--preview",))):
        fetched = d.ctl("fax", "fetch", str(entry["id"]), "--out", str(out), *options)
        assert fetched.returncode == 0, fetched.stderr
    assert (tmp_path / "got.tif").read_bytes() == Path(entry["document_path"]).read_bytes()
    with Image.open(tmp_path / "got.png") as preview:
        assert preview.format == "PNG"

    t = d.client().get(f"/tickets/{entry['ticket']}")
    assert t["kind"] == "fax_in" and t["state"] == "awaiting_customer" and t["tenant"] == ACME
    assert [(c["rule"], c["quantity"], c["amount"]) for c in t["charges"]] == [("fax_in.per_page", "2", "4.00")]

    notified = wait_for(lambda: (tmp_path / "notified.jsonl").exists() and
                        (tmp_path / "notified.jsonl").read_text().splitlines(), 10, d, "the notify command")
    run = json.loads(notified[0])
    assert run["args"][:4] == [entry["document_path"], "lab0", entry["call_id"], ""]
    assert run["env"]["GATEWAYD_FAX_TENANT"] == ACME and run["env"]["GATEWAYD_FAX_TICKET"] == t["id"]
    assert run["env"]["GATEWAYD_FAX_NOTIFY_PHONE"] == "139 0000 0000"

    to_call = d.client().get("/fax/to-call")
    assert [(e["id"], e["call"], e["phone"]) for e in to_call] == [(entry["id"], "Mr Zhao", "139 0000 0000")]
    assert d.client().get("/fax/notify-requests")[0]["id"] == request["id"]
    d.ctl("fax", "called", str(entry["id"]))
    assert d.client().get("/fax/to-call") == []
    listed = d.ctl_json("fax", "incoming")
    assert listed[0]["pages"] == 2 and listed[0]["state"] == "assigned" and listed[0]["received_at"]


@pytest.mark.parametrize("fax_class", ["1", "2.0"])
def test_a_received_page_we_rejected_and_the_sender_resent_is_billed_once(fax_lab, fax_daemon, tmp_path,  # noqa: F811
                                                                          fax_class):
    """Noise over page 2 of 3: our copy-quality rule refuses it (Class 2.0: from the modem's line
    counts, answered with AT+FPS=2), the far end hears RTN and sends it again; the call is three
    pages, page 2 an ErrorPage, its resend stored in place of the copy we refused, billed once."""
    document = bar_tiff(tmp_path / "in.tif", 3)
    peer = fax_lab(fclass=fax_class, speed=SPEED, receive=False, send=document, ident="+1 555 0177",
                   corrupt=(2,))
    d = fax_daemon(peer.pty, ecm=False, fax_class=fax_class)  # with ECM the noise would cost frames (PPR)
    entry = wait_for(lambda: d.client().get("/fax/incoming"), 60, d, "a received fax")[0]
    far = peer.wait_call(10)
    assert far["status"] == "OK" and far["rtn"] == 1 and far["corrupted_pages"] == [2]
    assert entry["pages"] == 3 and entry["error_pages"] == 1
    with Image.open(entry["document_path"]) as tiff:
        assert tiff.n_frames == 3  # the resend replaced the copy we rejected
    assert tiff_bitmaps(Path(entry["document_path"])) == tiff_bitmaps(document)
    t = d.client().get(f"/tickets/{entry['ticket']}")
    assert [(c["rule"], c["quantity"], c["amount"]) for c in t["charges"]] == [("fax_in.per_page", "3", "6.00")]


def test_unknown_sender_is_pending_then_archived_then_assigned_by_staff(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    peer = fax_lab(speed=SPEED, receive=False, send=two_page_tiff(tmp_path / "in.tif"), ident="+44 20 7946 0000")
    # About 20 s to claim it (pickup is normally 3 days): long enough to see it 待查 first, even
    # when a loaded machine takes seconds from the hang-up to the register's answer and several
    # more to start gatewayctl (6 s was missed at a load average of 12).
    d = fax_daemon(peer.pty, archive_after_days=20 / 86400)
    entry = wait_for(lambda: d.client().get("/fax/incoming"), 60, d, "a received fax")[0]
    assert entry["state"] == "pending" and entry["ticket"] is None
    assert "待查" in d.ctl("fax", "register", "--in").stdout
    archived = wait_for(lambda: (e := d.client().get(f"/fax/incoming/{entry['id']}"))["state"] == "archived" and e,
                        60, d, "the archive of an unclaimed fax")
    assert archived["archived_at"]
    audit = d.client().get(f"/audit?entity=fax_in&id={entry['id']}")
    assert "fax_in.archive" in [a["action"] for a in audit]
    notified = json.loads((tmp_path / "notified.jsonl").read_text().splitlines()[0])
    assert notified["env"]["GATEWAYD_FAX_STATE"] == "pending"

    # The addressee turns up after all: staff assign it, the pickup is billed per page.
    done = d.ctl("--json", "fax", "assign", str(entry["id"]), "--company", ACME)
    assert done.returncode == 0, done.stderr
    t = d.client().get(f"/tickets/{json.loads(done.stdout)['ticket']}")
    assert t["kind"] == "fax_in" and t["total"] == "4.00"
    call = fax_calls(d)[0]
    assert call["ticket"] == t["id"] and call["payload"]["direction"] == "incoming"


# ---------------------------------------------------------------------------- without a call


def test_undiallable_number_refused_at_submit_and_nothing_queued(fax_daemon, tmp_path, db_url):
    d = fax_daemon(tmp_path / "no-modem-here", db_url=db_url)
    ticket = fax_ticket(d)
    note = tmp_path / "note.txt"
    note.write_text("hello\n")
    refused = d.ctl("fax", "send", ticket, "110", str(note))
    assert refused.returncode == 1 and "cannot fax '110'" in refused.stderr, refused.stderr
    assert d.client().get("/fax/jobs") == []
    assert d.client().get(f"/tickets/{ticket}")["state"] == "open"


def test_modem_port_missing_queued_job_cancelled_then_modem_comes_back(fax_lab, fax_daemon, tmp_path, db_url):  # noqa: F811
    port = tmp_path / "faxlab-0" / "ttyFAX"  # where fax_lab's first peer will put its pty
    d = fax_daemon(port, db_url=db_url)
    down = wait_for(lambda: (m := modem(d))["state"] == "down" and m, 10, d, "the modem shown down")
    assert "cannot open" in down["last_error"]
    note = tmp_path / "note.txt"
    note.write_text("hello\n")
    first = fax_ticket(d)
    queued = d.ctl_json("fax", "send", first, HK, str(note))
    assert queued["state"] == "queued" and modem(d)["queued"] == 1
    cancelled = d.ctl("--json", "fax", "cancel", str(queued["id"]))
    assert cancelled.returncode == 0, cancelled.stderr
    assert d.client().get(f"/fax/jobs/{queued['id']}")["state"] == "cancelled" and modem(d)["queued"] == 0
    assert "fax_job.cancel" in [a["action"] for a in d.client().get(f"/audit?entity=fax_job&id={queued['id']}")]
    if not db_url.startswith("sqlite"):
        return  # the call itself is the SQLite run's

    second = fax_ticket(d)
    job = d.ctl_json("fax", "send", second, HK, str(note))
    peer: FaxPeer = fax_lab(speed=SPEED)
    assert peer.pty == port
    wait_for(lambda: d.client().get(f"/fax/jobs/{job['id']}")["state"] == "done", 90, d, "the job sent once the modem is back")
    assert peer.wait_call(10)["pages_rx"] == 1
    peer.stop()  # the pty vanishes: the daemon lives on and says so
    down = wait_for(lambda: (m := modem(d))["state"] == "down" and m, 15, d, "the lost modem shown down")
    assert down["last_error"] and d.proc.poll() is None
    assert d.client().get(f"/tickets/{second}")["state"] == "awaiting_customer"


def test_a_port_locked_by_another_program_downs_that_modem_only(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    locked, free = fax_lab(speed=SPEED), fax_lab(speed=SPEED)
    holder = subprocess.Popen(["sleep", "300"])  # stands in for mgetty or minicom on lab0's port
    try:
        (tmp_path / "LCK..ttyFAX").write_text(f"{holder.pid:>10d}\n")
        d = fax_daemon(locked.pty, free.pty)
        down = wait_for(lambda: (m := modem(d, 0))["state"] == "down" and m, 10, d, "the locked modem shown down")
        assert down["last_error"] == f"{locked.pty}: port locked by pid {holder.pid} (sleep)"
        note = tmp_path / "note.txt"
        note.write_text("hello\n")
        waiting = d.ctl_json("fax", "send", fax_ticket(d), HK, str(note), "--modem", "lab0")
        sent = d.ctl("--json", "fax", "send", fax_ticket(d), HK, str(note), "--modem", "lab1", "--wait", "90")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["state"] == "done" and free.wait_call(10)["pages_rx"] == 1
        # The other modem sent while the lock stood: no driver restart cut its call short.
        driver = fax_driver(d)
        assert driver["running"] and driver["restarts"] == 0 and driver["last_error"] == ""
        assert modem(d, 0)["state"] == "down" and modem(d, 0)["queued"] == 1
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone, its lock stale: a later retry takes the port and the waiting job goes out.
    wait_for(lambda: d.client().get(f"/fax/jobs/{waiting['id']}")["state"] == "done", 90, d,
             "the waiting job sent once the port is free")
    assert locked.wait_call(10)["pages_rx"] == 1 and fax_driver(d)["restarts"] == 0


def test_cancel_during_the_call_hangs_up_and_keeps_the_call_record(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    peer = fax_lab(speed=SPEED, no_answer=True, no_answer_after_ms=60000)  # rings on for 20 s
    d = fax_daemon(peer.pty)
    ticket = fax_ticket(d)
    note = tmp_path / "note.txt"
    note.write_text("hello\n")
    job = d.ctl_json("fax", "send", ticket, HK, str(note))
    wait_for(lambda: d.client().get(f"/fax/jobs/{job['id']}")["state"] == "sending", 10, d, "the call")
    time.sleep(1)
    cancelling = d.ctl_json("fax", "cancel", str(job["id"]))
    assert cancelling["cancelling"] is True
    done = wait_for(lambda: (j := d.client().get(f"/fax/jobs/{job['id']}"))["state"] == "cancelled" and j,
                    15, d, "the job cancelled once the modem hung up")
    assert done["tries"] == 1 and "cancelled" in done["reason"]
    calls = fax_calls(d, ticket=ticket)
    assert len(calls) == 1 and calls[0]["payload"]["status"] == "failed"
    assert d.client().get(f"/tickets/{ticket}")["state"] == "in_progress"  # staff decide: resend or cancel
    wait_for(lambda: modem(d)["state"] == "idle", 15, d, "the modem back after the cut call")


def test_a_waiting_job_survives_a_restart(fax_lab, fax_daemon, tmp_path):  # noqa: F811
    peer = fax_lab(speed=SPEED, busy=True)
    d = fax_daemon(peer.pty, busy_s=2)
    ticket = fax_ticket(d)
    note = tmp_path / "note.txt"
    note.write_text("hello\n")
    job = d.ctl_json("fax", "send", ticket, HK, str(note))
    wait_for(lambda: d.client().get(f"/fax/jobs/{job['id']}")["state"] == "retry_wait", 30, d, "a retry after BUSY")
    d.stop()
    d.start()  # the driver's queues start empty: the job row, the truth, hands it back when due
    final = wait_for(lambda: (j := d.client().get(f"/fax/jobs/{job['id']}"))["state"] == "failed" and j,
                     60, d, "giving up after 3 tries across the restart")
    assert final["tries"] == 3 and len(fax_calls(d, ticket=ticket)) == 3
    register = next(x for x in d.client().get("/status")["devices"] if x["driver"] == "fax-register")
    assert register["retries_handed_over"] == 2  # tries 2 and 3, each when its wait was over
