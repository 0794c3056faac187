"""Print jobs through the real daemon and a real cupsd (the lab): matched to tickets, billed per
the price list, attached later by staff, recorded once across restarts -- on both databases.

Each test has its own cupsd: job ids restart with every cupsd and ticket numbers with every
database, so a shared cupsd's old jobs would name this test's tickets.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gatewayd import config as config_mod
from gatewayd.billing import Colour
from lab.cups.cupsd import CupsLab
from lab.cups.documents import make_documents
from tests.conftest import REPO, Daemon, write_config

pytestmark = pytest.mark.slow


@pytest.fixture
def lab() -> Iterator[CupsLab]:
    with CupsLab() as lab:
        yield lab


@pytest.fixture
def docs(lab: CupsLab) -> dict[str, Path]:
    return make_documents(lab.dir / "docs")


def _config(directory: Path, db_url: str, lab: CupsLab) -> Path:
    queues = "".join(f'\n[[cups.queues]]\nname = "{q}"\ndevice = "printer-{q}"\nprice_class = "office"\n'
                     for q in lab.queue_names)
    path = write_config(directory, db_url, extra=(
        f'\n[cups]\nserver = "{lab.socket}"\npoll_interval = 0.05\ncatchup_interval = 2\n{queues}'))
    text = path.read_text()
    if "include" not in text:  # the price list, unless the shared fixture already includes it
        path.write_text(f'include = ["{REPO / "config" / "rates.toml"}"]\n{text}')
    return path


@pytest.fixture
def printing_daemon(tmp_path: Path, db_url: str, lab: CupsLab) -> Iterator[Daemon]:
    d = Daemon(tmp_path, _config(tmp_path, db_url, lab))
    d.start()
    yield d
    d.stop()


def _lp(lab: CupsLab, queue: str, document: Path, *args: str) -> int:
    # Mono: the lab's ps queue prints colour by default.
    out = subprocess.run(["lp", "-h", str(lab.socket), "-d", queue, "-o", "print-color-mode=monochrome", *args,
                          str(document)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[3].rsplit("-", 1)[1])  # "request id is raw-12 (1 file(s))"


def _open(daemon: Daemon, **fields: Any) -> str:
    return daemon.client().post("/tickets", {"kind": "print", "guest_name": "Mr Wang", **fields})["id"]


def _jobs(daemon: Daemon, count: int, timeout: float = 30.0) -> dict[int, dict[str, Any]]:
    """The print_job events by CUPS job id, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = {e["payload"]["job_id"]: e for e in daemon.client().get("/events", kind="print_job")}
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(found)} of {count} print jobs recorded:\n{daemon.log.read_text()[-3000:]}")
        time.sleep(0.1)


def _print(daemon: Daemon, ticket: str, document: Path, *options: str) -> dict[str, Any]:
    done = daemon.ctl("--json", "print", "--ticket", ticket, "--queue", "ps", *options, "--wait", "30",
                      str(document))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["finished"], result
    return result


def _price(daemon: Daemon, media: str, colour: Colour, duplex: bool) -> Decimal:
    """The price list's price per side, read from the same file the daemon uses."""
    config = config_mod.load(daemon.config)
    table = config.sections["rates"].in_force(datetime.now(UTC), config.timezone)
    row = table.print.price_for(media, colour)
    return row.duplex if duplex else row.simplex


def test_matched_by_name_option_and_queue_ticket_then_attached_and_billed(
        printing_daemon: Daemon, lab: CupsLab, docs: dict[str, Path]) -> None:
    d = printing_daemon
    by_name, by_option, by_queue = _open(d), _open(d), _open(d, device="printer-raw")
    jobs = {
        "name": _lp(lab, "ps", docs["1p-A4-mono"], "-t", f"{by_name} lease contract"),
        "option": _lp(lab, "ps", docs["1p-A4-mono"], "-t", "letter", "-o", f"job-account-id={by_option}"),
        "queue": _lp(lab, "raw", docs["1p-A4-mono"], "-t", "unmarked"),
        # Two active tickets on printer-pdf would be ambiguous; none is there, so: unattributed.
        "none": _lp(lab, "pdf", docs["3p-A4-mono"], "-t", "holiday photos"),
    }
    events = _jobs(d, 4)
    assert events[jobs["name"]]["ticket"] == by_name
    assert events[jobs["option"]]["ticket"] == by_option
    assert events[jobs["queue"]]["ticket"] == by_queue
    stray = events[jobs["none"]]
    assert stray["ticket"] is None and stray["attribution"] == "unattributed"
    assert [e["id"] for e in d.client().get("/events", unattributed=True)] == [stray["id"]]

    simplex = _price(d, "A4", Colour.MONO, False)
    for ticket in (by_name, by_option, by_queue):
        (line,) = d.client().get(f"/tickets/{ticket}")["charges"]
        assert Decimal(line["amount"]) == simplex and line["unit"] == "side" and not line["manual"]

    attached = d.ctl("events", "attach", str(stray["id"]), by_name)
    assert attached.returncode == 0, attached.stderr
    charges = d.client().get(f"/tickets/{by_name}")["charges"]
    assert len(charges) == 2 and charges[1]["event_id"] == stray["id"]
    assert Decimal(charges[1]["quantity"]) == 3 and Decimal(charges[1]["amount"]) == 3 * simplex
    # Attaching again is refused, so a job is never billed twice.
    again = d.ctl("events", "attach", str(stray["id"]), by_option)
    assert again.returncode == 1 and "already on ticket" in again.stderr


def test_charges_are_price_list_times_billed_sides(printing_daemon: Daemon, docs: dict[str, Path]) -> None:
    d = printing_daemon
    ticket = _open(d)
    cases = [  # (document, gatewayctl options, media, colour, duplex, sides billed)
        ("1p-A4-mono", (), "A4", Colour.MONO, False, 1),
        ("3p-A4-mono", ("--copies", "2", "--duplex"), "A4", Colour.MONO, True, 6),
        ("1p-A4-mono", ("--copies", "2", "--duplex"), "A4", Colour.MONO, True, 2),
        ("3p-A3-mono", ("--media", "A3", "--pages", "2-3"), "A3", Colour.MONO, False, 2),
        ("3p-A4-colour", ("--colour", "--proof"), "A4", Colour.COLOUR, False, 3),
    ]
    for name, options, media, colour, duplex, sides in cases:
        result = _print(d, ticket, docs[name], *options)
        payload = result["event"]["payload"]
        assert payload["billed_sides"] == sides, (name, options, payload)
        line = result["ticket_view"]["charges"][-1]
        assert line["event_id"] == result["event"]["id"]
        assert Decimal(line["quantity"]) == sides
        assert Decimal(line["amount"]) == sides * _price(d, media, colour, duplex), (name, options, line)
        # CUPS' own figures stay beside our count for the reconciliation.
        assert line["inputs"]["job"]["cups"] == payload["cups"]
        assert line["inputs"]["sets"] == int(payload["copies"])
    view = d.client().get(f"/tickets/{ticket}")
    assert len(view["charges"]) == len(cases)
    assert Decimal(view["total"]) == sum(Decimal(c["amount"]) for c in view["charges"])
    audit = d.client().get("/audit", entity="ticket", id=ticket)
    assert sum(e["action"] == "ticket.print" for e in audit) == len(cases)

    refused = d.ctl("print", "--ticket", ticket, "--queue", "nowhere", str(docs["1p-A4-mono"]))
    assert refused.returncode == 1 and "queue 'nowhere' is not configured" in refused.stderr
    d.ctl("ticket", "cancel", ticket, "--reason", "customer left")
    refused = d.ctl("print", "--ticket", ticket, str(docs["1p-A4-mono"]))
    assert refused.returncode == 1 and "(409)" in refused.stderr and "cancelled" in refused.stderr


def test_typing_ticket_proof_free_final_typed_and_copies_printed(
        printing_daemon: Daemon, lab: CupsLab, docs: dict[str, Path]) -> None:
    d = printing_daemon
    ticket = _open(d, params={"service": "typing"})
    proof = _print(d, ticket, docs["3p-A4-mono"], "--proof")
    assert [c["amount"] for c in proof["ticket_view"]["charges"]] == ["0.00"]
    final = _print(d, ticket, docs["3p-A4-mono"], "--copies", "2")
    lines = final["ticket_view"]["charges"][1:]
    assert [(c["rule"], Decimal(c["quantity"])) for c in lines] == [
        ("typing.per_page", 3), ("print.prices[A4 mono].simplex", 3)]
    assert Decimal(lines[1]["amount"]) == 3 * _price(d, "A4", Colour.MONO, False)
    # A job held and cancelled is recorded on the ticket, charged nothing.
    job = _lp(lab, "ps", docs["1p-A4-mono"], "-H", "hold", "-o", f"job-account-id={ticket}")
    subprocess.run(["cancel", "-h", str(lab.socket), str(job)], check=True)
    event = _jobs(d, 3)[job]
    assert event["ticket"] == ticket and event["payload"]["outcome"] == "cancelled"
    last = d.client().get(f"/tickets/{ticket}")["charges"][-1]
    assert last["event_id"] == event["id"] and last["amount"] == "0.00"


def test_jobs_finished_while_daemon_down_recorded_once(
        tmp_path: Path, db_url: str, lab: CupsLab, docs: dict[str, Path]) -> None:
    d = Daemon(tmp_path, _config(tmp_path, db_url, lab)).start()
    try:
        ticket = _open(d)
        before = _lp(lab, "ps", docs["1p-A4-mono"], "-t", f"{ticket} before")
        _jobs(d, 1)
        d.stop()
        while_down = {_lp(lab, q, docs["1p-A4-mono"], "-t", f"{ticket} while down") for q in ("ps", "raw", "pdf")}
        _wait_all_done(lab, while_down)
        d.start()
        assert set(_jobs(d, 4)) == {before, *while_down}
        d.stop()
        # Lose the cursor: the next start re-reads every job cupsd remembers; none is new.
        (tmp_path / "state" / "cups-cursor.json").unlink()
        d.start()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # more than a catch-up interval
            assert len(_jobs(d, 4)) == 4
            time.sleep(0.2)
        charges = d.client().get(f"/tickets/{ticket}")["charges"]
        assert len(charges) == 4 and len({c["event_id"] for c in charges}) == 4  # each job billed once
        status = d.client().get("/status")
        (cups,) = [s for s in status["devices"] if s["driver"] == "cups"]
        assert cups["running"] and cups["connected"]
    finally:
        d.stop()


def _wait_all_done(lab: CupsLab, job_ids: set[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["lpstat", "-h", str(lab.socket), "-W", "not-completed", "-o"],
                             capture_output=True, text=True, check=True).stdout
        if not any(f"-{job} " in out for job in job_ids):
            return
        time.sleep(0.1)
    raise TimeoutError(f"cupsd did not finish jobs {sorted(job_ids)}")
