"""Hostile documents through the real daemon, on the fax and the print route: each refused with
a 422 naming the limit or the reason, rendered (or counted) in the cage, never in the daemon.
Storage is not involved, so SQLite only."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd.ctl.client import Refused
from lab.cups.cupsd import CupsLab
from tests.conftest import Daemon, write_config
from tests.fax.test_documents_cage import png_header_only

pytestmark = pytest.mark.slow

LIMITS = "\n[documents]\nmax_pages = 20\nmax_seconds = 4\n"


@pytest.fixture
def hostile_daemon(tmp_path: Path) -> Iterator[Daemon]:
    with CupsLab() as lab:
        queue = lab.queue_names[0]
        extra = (f'{LIMITS}\n[cups]\nserver = "{lab.socket}"\n\n[[cups.queues]]\nname = "{queue}"\n'
                 f'device = "printer-{queue}"\nprice_class = "office"\n'
                 f'\n[[fax.modems]]\nname = "fax0"\nport = "{tmp_path / "no-modem"}"\n'
                 f'flow_control = "none"\nlock_dir = "{tmp_path}"\n')
        d = Daemon(tmp_path, write_config(tmp_path, f"sqlite:///{tmp_path / 'gatewayd.sqlite3'}", extra=extra))
        d.start()
        d.queue = queue  # type: ignore[attr-defined]
        yield d
        d.stop()


def fax(d: Daemon, name: str, content: bytes) -> Refused:
    ticket = d.client().post("/tickets", {"kind": "fax_out", "guest_name": "Mr Chan"})["id"]
    with pytest.raises(Refused) as refused:
        d.client().post(f"/tickets/{ticket}/fax", {"number": "9,0085221234567", "documents": [
            {"filename": name, "content_base64": base64.b64encode(content).decode()}]})
    return refused.value


def print_(d: Daemon, name: str, content: bytes) -> Refused:
    ticket = d.client().post("/tickets", {"kind": "print", "guest_name": "Mr Wang"})["id"]
    with pytest.raises(Refused) as refused:
        d.client().post(f"/tickets/{ticket}/print", {
            "filename": name, "queue": d.queue, "document_base64": base64.b64encode(content).decode()})  # type: ignore[attr-defined]
    return refused.value


HOSTILE = [
    ("many.ps", b"%!PS\n1 1 10000 {pop showpage} for\n", "documents.max_pages"),
    ("feeds.txt", b"\f" * 2048, "documents.max_pages"),
    ("loop.ps", b"%!PS\n{} loop\n", "documents.max_seconds"),
    ("bomb.png", png_header_only(30000, 30000), "documents.max_pixels_per_page"),
    ("a\0b.pdf", b"%PDF-1.4\n", "filename"),
]


def rss_kb(d: Daemon) -> int:
    status = Path(f"/proc/{d.proc.pid}/status").read_text()  # type: ignore[union-attr]
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


@pytest.mark.parametrize("route", [fax, print_], ids=["fax", "print"])
def test_hostile_documents_are_422_naming_the_reason(hostile_daemon: Daemon, route) -> None:  # type: ignore[no-untyped-def]
    peak = rss_kb(hostile_daemon)
    for name, content, reason in HOSTILE:
        refused = route(hostile_daemon, name, content)
        assert refused.status == 422, (name, refused.detail)
        assert reason in refused.detail, (name, refused.detail)
    # Nothing was rendered in the daemon: its peak memory did not grow with the documents.
    assert rss_kb(hostile_daemon) - peak < 40_000
    assert "Traceback" not in hostile_daemon.log.read_text()


def test_reading_a_state_file_is_refused_on_both_routes(hostile_daemon: Daemon, tmp_path: Path) -> None:
    program = f"%!PS\n({tmp_path}/gatewayd.sqlite3) (r) file 100 string readstring pop show showpage\n".encode()
    for route in (fax, print_):
        refused = route(hostile_daemon, "letter.ps", program)
        assert refused.status == 422 and "invalidfileaccess" in refused.detail, refused.detail
