"""The lab's Class 2 and Class 2.0 modem proven with two independent Class 2 programs.

``faxmodem --class 2|2.0`` is our own T.32 modem around spandsp's T.30 engine, so before any
driver of ours trusts it, third-party DTEs must fax through it: efax (Class 2 and 2.0, both
directions) and mgetty's sendfax (sending). "Intact" means pixel for pixel: the far end's
received pages (or efax's) are compared with the bitmaps the pages were made from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from drivers.fax.channel import FlowControl, ModemChannel, ResultCode

from .helpers import bar_tiff

pytestmark = pytest.mark.slow

EFAX_IDENT = "+1 555 0199"
PAGE_ROWS = 500
EFAX_HEADER_ROWS = 20  # efax puts its own header lines above each page it sends


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Two fine-resolution pages of text, as bitmaps (PBM), efax's TIFF and raw G3 (sendfax)."""
    for tool in ("efax", "efix", "sendfax"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing: run `bash scripts/setup.sh` (efax, mgetty-fax)")
    workdir = tmp_path_factory.mktemp("class2-pages")
    font = ImageFont.load_default(size=28)
    pbm = []
    for number in (1, 2):
        image = Image.new("1", (1728, PAGE_ROWS), 1)
        draw = ImageDraw.Draw(image)
        for row in range(10):
            draw.text((60 + 7 * number, 20 + 45 * row), f"Page {number} line {row}: the quick "
                      "brown fox jumps over the lazy dog 0123456789", font=font, fill=0)
        pbm.append(workdir / f"page{number}.pbm")
        image.save(pbm[-1])
    subprocess.run(["efix", "-i", "pbm", "-o", "tiffg3", "-n", str(workdir / "page.%03d"),
                    *map(str, pbm)], check=True, capture_output=True)
    subprocess.run(["efix", "-i", "pbm", "-o", "fax", "-n", str(workdir / "page%d.g3"),
                    *map(str, pbm)], check=True, capture_output=True)
    tiffs = [workdir / "page.001", workdir / "page.002"]
    both = workdir / "two-pages.tif"
    subprocess.run(["tiffcp", *map(str, tiffs), str(both)], check=True)
    return {"pbm": pbm, "tiff": tiffs, "g3": [workdir / "page1.g3", workdir / "page2.g3"],
            "document": [both]}


def tiff_frames(path: Path) -> list[Image.Image]:
    frames = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(image.convert("1").copy())
    return frames


def assert_same_pixels(received: Image.Image, original: Path, header_rows: int = 0) -> None:
    """``received`` is ``original`` below ``header_rows`` added by the sender."""
    with Image.open(original) as source:
        source = source.convert("1")
        assert received.size == (source.width, source.height + header_rows)
        # efax's header glyphs reach a few rows below its 20 header lines, into the page's
        # blank top margin (the text starts at row 20): compare from row 8 of the page on.
        margin = 8 if header_rows else 0
        body = received.crop((0, header_rows + margin, received.width, received.height))
        page = source.crop((0, margin, source.width, source.height))
        assert ImageChops.difference(body, page).getbbox() is None, "the page changed"


def efax(device: Path, fclass: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # -o0: Class 2.0, -o2: Class 2. -v ewinchmr: the whole transcript, for failures.
    return subprocess.run(["efax", "-d", str(device), "-o" + ("0" if fclass == "2.0" else "2"),
                           "-l", EFAX_IDENT, "-v", "ewinchmr", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.parametrize("fclass", ["2", "2.0"])
def test_efax_sends_two_pages_through_the_modem(fax_lab, pages, tmp_path, fclass):
    peer = fax_lab(fclass=fclass)
    sent = efax(peer.pty, fclass, "-t", "5551234", *map(str, pages["tiff"]), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert sent.returncode == 0, sent.stderr[-3000:] + peer.log()
    assert record["role"] == "receiver" and record["status"] == "OK", record
    assert record["pages"] == 2 and record["remote_ident"] == EFAX_IDENT
    received = tiff_frames(peer.received_tiff(1))
    assert len(received) == 2
    for frame, original in zip(received, pages["pbm"]):
        assert_same_pixels(frame, original, header_rows=EFAX_HEADER_ROWS)


@pytest.mark.parametrize("fclass, sendfax_class", [("2", "cls2"), ("2.0", "c2.0")])
def test_mgetty_sendfax_sends_two_pages_through_the_modem(fax_lab, pages, tmp_path, fclass,
                                                          sendfax_class):
    peer = fax_lab(fclass=fclass)
    # sendfax insists on a device under /dev: the pty slave itself is one.
    device = os.path.realpath(peer.pty)
    sent = subprocess.run(["sendfax", "-v", "-x", "4", "-l", device, "-C", sendfax_class,
                           "-h", EFAX_IDENT, "5551234", *map(str, pages["g3"])],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False)
    record = peer.wait_call(timeout=60)

    assert sent.returncode == 0, sent.stdout[-2000:] + sent.stderr[-3000:] + peer.log()
    assert record["role"] == "receiver" and record["status"] == "OK", record
    assert record["pages"] == 2
    received = tiff_frames(peer.received_tiff(1))
    assert len(received) == 2
    for frame, original in zip(received, pages["pbm"]):
        assert_same_pixels(frame, original)


@pytest.mark.parametrize("fclass", ["2", "2.0"])
def test_efax_receives_two_pages_from_the_modem(fax_lab, pages, tmp_path, fclass):
    peer = fax_lab(fclass=fclass, send=pages["document"][0], receive=False)
    received = efax(peer.pty, fclass, "-r", str(tmp_path / "in"), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert received.returncode == 0, received.stderr[-3000:] + peer.log()
    assert record["role"] == "sender" and record["status"] == "OK", record
    assert record["pages"] == 2 and record["remote_ident"] == EFAX_IDENT
    files = sorted(tmp_path.glob("in.[0-9][0-9][0-9]"))
    assert len(files) == 2
    for path, original in zip(files, pages["pbm"]):
        (frame,) = tiff_frames(path)
        assert_same_pixels(frame, original)


def test_a_change_of_resolution_is_sent_as_a_new_document_after_eom(fax_lab, tmp_path):
    """efax sends a fine page then a standard one: it changes +FIS and ends the first with EOM
    (DLE ;). The modem's engine sends EOM (it used to send MPS), goes back to phase B and sends
    the second page as a new document at its own resolution."""
    tiffs = []
    for number, lpi in ((1, 196), (2, 98)):
        image = Image.new("1", (1728, PAGE_ROWS), 1)
        ImageDraw.Draw(image).rectangle([100, 100 * number, 1600, 100 * number + 60], fill=0)
        image.save(tmp_path / f"page{number}.pbm")
        tiffs.append(tmp_path / f"page{number}.tif")
        subprocess.run(["efix", "-i", "pbm", "-o", "tiffg3", "-R", f"204x{lpi}", "-r", f"204x{lpi}",
                        "-n", str(tiffs[-1]), str(tmp_path / f"page{number}.pbm")],
                       check=True, capture_output=True)
    peer = fax_lab(fclass="2.0", verbose=True)
    sent = efax(peer.pty, "2.0", "-t", "5551234", *map(str, tiffs), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert sent.returncode == 0, sent.stderr[-3000:] + peer.log()
    assert record["status"] == "OK" and record["pages"] == 2, record
    far_end = peer.log(2000)
    assert "Rx:  EOM" in far_end and "Rx:  MPS" not in far_end, far_end
    with Image.open(peer.received_tiff(1)) as received:
        resolutions = []
        for index in range(received.n_frames):
            received.seek(index)
            resolutions.append(round(received.info["dpi"][1]))
    assert resolutions == [196, 98]


def test_the_modem_answers_a_received_page_as_the_dte_says(fax_lab, tmp_path):
    """AT+FPS=n before the next AT+FDR is the page's answer on the line, whatever the modem's own
    check said: page 1 is spoilt (the modem reports 2) and taken (=1, MCF); page 2 kept with a
    retrain (=3, RTP); page 3 refused (=2, RTN) and sent again; the rest left to the modem."""
    peer = fax_lab(fclass="2.0", send=bar_tiff(tmp_path / "four.tif", 4), receive=False,
                   ecm=False, corrupt=(1,))
    answers = {1: 1, 2: 3, 3: 2}  # by the copy's turn
    reports = []
    with ModemChannel(str(peer.pty), flow=FlowControl.NONE, lock_dir=str(tmp_path)) as channel:
        channel.reset()
        channel.expect_ok("AT+FCLASS=2.0")
        channel.expect_ok("AT+FCC=1,5,0,2,0,0,0,0")
        ring = channel.wait_unsolicited(60)
        assert ring is not None and ring.text == "RING"
        assert channel.command("ATA", 60).result is ResultCode.OK
        while (reply := channel.command("AT+FDR", 60)).result is ResultCode.CONNECT:
            channel.read_data(60)
            done = channel.read_result(30)
            reports.append(next(line for line in done.lines if line.startswith("+FPS:")))
            if len(reports) in answers:
                channel.expect_ok(f"AT+FPS={answers[len(reports)]}")
        assert reply.result is ResultCode.OK and "+FHS:00" in reply.lines, reply
    record = peer.wait_call(timeout=60)

    assert reports[0].startswith("+FPS:2,") and len(reports) == 5, reports
    assert record["status"] == "OK" and record["pages"] == 4, record
    assert record["rtp"] == 1 and record["rtn"] == 1 and record["corrupted_pages"] == [1]


def test_a_page_the_far_end_refuses_is_reported_bad_and_efax_resends_it(fax_lab, pages,
                                                                          tmp_path):
    peer = fax_lab(fclass="2.0", corrupt=(1,))
    sent = efax(peer.pty, "2.0", "-t", "5551234", *map(str, pages["tiff"]), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert record["corrupted_pages"] == [1]
    assert record["rtn"] >= 1, peer.log()
    assert sent.returncode == 0, sent.stderr[-3000:] + peer.log()
    assert record["status"] == "OK" and record["pages"] == 2, record


@pytest.mark.parametrize("fclass", ["2", "2.0"])
def test_a_busy_far_end(fax_lab, pages, tmp_path, fclass):
    peer = fax_lab(fclass=fclass, busy=True)
    sent = efax(peer.pty, fclass, "-t", "5551234", str(pages["tiff"][0]), cwd=tmp_path)
    record = peer.wait_call(timeout=30)

    assert record["outcome"] == "busy"
    assert sent.returncode == 1, sent.stderr[-3000:]  # efax: 1 = number busy


def test_a_far_end_that_does_not_answer(fax_lab, pages, tmp_path):
    peer = fax_lab(fclass="2.0", no_answer=True, no_answer_after_ms=6000)
    sent = efax(peer.pty, "2.0", "-t", "5551234", str(pages["tiff"][0]), cwd=tmp_path)
    record = peer.wait_call(timeout=30)

    assert record["outcome"] == "no_answer"
    assert "NO ANSWER" in sent.stderr
    assert sent.returncode != 0


@pytest.mark.parametrize("fclass, report", [("2", "+FHNG:"), ("2.0", "+FHS:")])
def test_a_far_end_that_hangs_up_mid_page(fax_lab, pages, tmp_path, fclass, report):
    peer = fax_lab(fclass=fclass, hangup_page=2)
    sent = efax(peer.pty, fclass, "-t", "5551234", *map(str, pages["tiff"]), cwd=tmp_path)
    record = peer.wait_call(timeout=60)

    assert record["hung_up_in_page"] == 2, record
    assert sent.returncode != 0
    assert report in sent.stderr  # the modem said why the call ended
    assert "+FHS:00" not in sent.stderr and "+FHNG:00" not in sent.stderr


@pytest.mark.parametrize("fclass", ["2", "2.0"])
def test_the_modem_reports_its_class_and_refuses_the_other(fax_lab, fclass):
    """What a probe sees: AT+FCLASS=? lists the personality; the other class is an ERROR."""
    import serial

    other = "2.0" if fclass == "2" else "2"
    peer = fax_lab(fclass=fclass)
    with serial.Serial(str(peer.pty), 115200, timeout=5) as port:
        def ask(command: str) -> list[str]:
            port.write(command.encode() + b"\r")
            lines = []
            while not lines or lines[-1] not in ("OK", "ERROR"):
                line = port.read_until(b"\r\n")
                assert line, f"no answer to {command}: {lines}"
                if line.strip():
                    lines.append(line.strip().decode())
            return lines

        ask("ATE0")
        assert ask("AT+FCLASS=?") == [f"0,{fclass}", "OK"]
        assert ask(f"AT+FCLASS={other}") == ["ERROR"]
        assert ask(f"AT+FCLASS={fclass}") == ["OK"]
        assert ask("AT+FCLASS?") == [fclass, "OK"]
