"""The lab's far end proven with a third-party DTE: efax (Class 1) sends and receives through it.

If efax can fax through ``faxmodem`` both ways, the lab is a fax modem and a fax machine, not a
mirror tuned to our own driver. Pages are made with efax's own ``efix``, so our codec is not
involved either.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

pytestmark = pytest.mark.slow

EFAX_IDENT = "+1 555 0199"


def tiff_pages(path: Path) -> list[tuple[int, int]]:
    with Image.open(path) as image:
        sizes = []
        for index in range(image.n_frames):
            image.seek(index)
            sizes.append(image.size)
        return sizes


@pytest.fixture(scope="module")
def efax_pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two short fine-resolution pages of text (about 9 s each at 14400 bit/s of line time)."""
    if shutil.which("efax") is None or shutil.which("efix") is None:
        pytest.fail("efax/efix missing: run `bash scripts/setup.sh` (installs the efax package)")
    workdir = tmp_path_factory.mktemp("efax-pages")
    font = ImageFont.load_default(size=28)
    pages = []
    for number in (1, 2):
        image = Image.new("1", (1728, 500), 1)
        draw = ImageDraw.Draw(image)
        for row in range(10):
            draw.text((60, 20 + 45 * row), f"Page {number} line {row}: the quick brown fox jumps "
                      "over the lazy dog 0123456789", font=font, fill=0)
        pbm = workdir / f"page{number}.pbm"
        image.save(pbm)
        pages.append(pbm)
    subprocess.run(["efix", "-i", "pbm", "-o", "tiffg3", "-n", str(workdir / "page.%03d"),
                    *map(str, pages)], check=True, capture_output=True)
    return [workdir / "page.001", workdir / "page.002"]


def efax(device: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -o1: Class 1 (the emulator offers only Class 1 anyway). -v ewinc: the transcript, for failures.
    return subprocess.run(["efax", "-d", str(device), "-o1", "-l", EFAX_IDENT, "-v", "ewinc", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=150, check=False)


def test_efax_sends_two_pages_through_the_lab(fax_lab, efax_pages, tmp_path):
    peer = fax_lab()
    sent = efax(peer.pty, "-t", "5551234", *map(str, efax_pages), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert sent.returncode == 0, sent.stderr[-3000:]
    assert record["role"] == "receiver" and record["outcome"] == "completed", record
    assert record["status"] == "OK" and record["completion_code"] == 0, record
    assert record["pages"] == 2
    assert record["remote_ident"] == EFAX_IDENT
    assert record["ecm"] is False  # efax has no ECM: the far end must not insist on it
    assert Path(record["file"]) == peer.received_tiff(1)
    assert tiff_pages(peer.received_tiff(1)) == [(1728, 520), (1728, 520)]  # efax adds 20 lines


def test_efax_receives_two_pages_from_the_lab(fax_lab, efax_pages, tmp_path):
    document = tmp_path / "two-pages.tif"
    subprocess.run(["tiffcp", *map(str, efax_pages), str(document)], check=True)
    peer = fax_lab(send=document, receive=False)
    received = efax(peer.pty, "-r", str(tmp_path / "in"), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert received.returncode == 0, received.stderr[-3000:]
    assert record["role"] == "sender" and record["outcome"] == "completed", record
    assert record["status"] == "OK" and record["pages"] == 2, record
    assert record["remote_ident"] == EFAX_IDENT
    files = sorted(tmp_path.glob("in.[0-9][0-9][0-9]"))
    assert [tiff_pages(f) for f in files] == [[(1728, 500)], [(1728, 500)]]


def test_a_corrupted_page_is_refused_and_efax_resends_it(fax_lab, efax_pages, tmp_path):
    peer = fax_lab(corrupt=(1,))
    sent = efax(peer.pty, "-t", "5551234", *map(str, efax_pages), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert sent.returncode == 0, sent.stderr[-3000:]
    assert record["corrupted_pages"] == [1]
    assert record["rtn"] >= 1, peer.log()
    assert "received RTN" in sent.stderr
    assert record["status"] == "OK" and record["pages"] == 2, record


def test_a_busy_far_end(fax_lab, efax_pages, tmp_path):
    peer = fax_lab(busy=True)
    sent = efax(peer.pty, "-t", "5551234", str(efax_pages[0]), cwd=tmp_path)
    record = peer.wait_call(timeout=30)

    assert record["outcome"] == "busy"
    assert sent.returncode == 1, sent.stderr[-3000:]  # efax: 1 = number busy


def test_a_far_end_that_does_not_answer(fax_lab, efax_pages, tmp_path):
    peer = fax_lab(no_answer=True, no_answer_after_ms=6000)
    sent = efax(peer.pty, "-t", "5551234", str(efax_pages[0]), cwd=tmp_path)
    record = peer.wait_call(timeout=30)

    assert record["outcome"] == "no_answer"
    assert "NO ANSWER" in sent.stderr
    assert sent.returncode != 0
