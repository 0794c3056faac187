"""Documents to fax pages (PDF, PostScript, TIFF, PNG/JPEG, UTF-8 text with Chinese) and received
pages to TIFF Class F; the stored TIFF checked with libtiff's tiffinfo and by spandsp sending it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw

from drivers.fax import documents
from drivers.fax.documents import (
    A4_LINES,
    DocumentError,
    DocumentKind,
    FaxPage,
    ReceivedPage,
    render,
    render_text,
    save_pages,
    store_received,
)
from drivers.fax.frames import Coding, Resolution, Session, Speed
from drivers.fax.t4 import Bitmap, decode

FINE, STANDARD = Resolution.FINE, Resolution.STANDARD

POSTSCRIPT = b"""%!PS-Adobe-3.0
%%Pages: 2
/Helvetica findfont 24 scalefont setfont
72 700 moveto (PostScript page one) show showpage
72 700 moveto (PostScript page two) show 72 72 moveto 468 0 rlineto stroke showpage
"""


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("documents")
    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=14)
    for number in (1, 2, 3):
        pdf.add_page()
        pdf.cell(0, 10, f"PDF page {number}: the quick brown fox")
    (folder / "three.pdf").write_bytes(bytes(pdf.output()))
    (folder / "two.ps").write_bytes(POSTSCRIPT)
    photo = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    ImageDraw.Draw(photo).ellipse((100, 100, 400, 400), fill=(200, 30, 30))
    photo.save(folder / "photo.jpg", quality=90)
    photo.save(folder / "photo.png")
    frames = [photo, photo.rotate(90, expand=True)]
    frames[0].save(folder / "two-frames.tif", save_all=True, append_images=frames[1:])
    (folder / "note.txt").write_text("致 张经理:\n\n请查收合同第二版。 Please find the contract.\n"
                                     "\f第二页 page two\n", encoding="utf-8")
    (folder / "misnamed.pdf").write_text("plain text despite the name\n", encoding="utf-8")
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 4)
    return {path.name: path for path in folder.iterdir()}


@pytest.mark.parametrize(("name", "kind", "pages"), [
    ("three.pdf", DocumentKind.PDF, 3),
    ("two.ps", DocumentKind.POSTSCRIPT, 2),
    ("note.txt", DocumentKind.TEXT, 2),
    ("misnamed.pdf", DocumentKind.TEXT, 1),
])
@pytest.mark.parametrize("resolution", [FINE, STANDARD], ids=["fine", "standard"])
def test_rendered_documents_are_a4_fax_pages(samples, name, kind, pages, resolution):
    assert documents.detect(samples[name]) is kind
    rendered = render(samples[name], resolution)
    assert len(rendered) == pages
    for page in rendered:
        assert (page.bitmap.width, page.bitmap.height) == (1728, A4_LINES[resolution])
        assert page.resolution is resolution
        assert page.bitmap.black_pels() > 200  # there is ink: text was drawn


@pytest.mark.parametrize(("name", "pages"), [("photo.jpg", 1), ("photo.png", 1),
                                             ("two-frames.tif", 2)])
def test_images_fit_the_page_width_and_keep_their_aspect(samples, name, pages):
    rendered = render(samples[name], FINE)
    assert len(rendered) == pages
    first = rendered[0].bitmap
    assert first.width == 1728
    assert first.height == pytest.approx(1728 * 480 / 640 * 196 / 204, abs=2)  # 196 lpi, 204 dpi
    assert render(samples[name], STANDARD)[0].bitmap.height == pytest.approx(first.height / 2,
                                                                              abs=2)
    portrait = rendered[-1].bitmap if pages == 2 else None
    if portrait is not None:  # taller than wide: limited by the page's length instead
        assert portrait.height <= A4_LINES[FINE]


def test_chinese_text_is_drawn_with_real_glyphs():
    # Two different characters must give different ink: missing-glyph boxes would not.
    one, two = (render_text(ch)[0].bitmap for ch in ("中", "文"))
    assert one.black_pels() > 50 and two.black_pels() > 50
    assert one.data != two.data


def test_unknown_binary_is_refused(samples):
    with pytest.raises(DocumentError, match="not PDF"):
        render(samples["binary.bin"])


def test_a_fax_tiff_keeps_its_pels_and_changes_resolution(samples, tmp_path):
    fine = render(samples["two.ps"], FINE)
    saved = save_pages(tmp_path / "out.tif", fine)
    again = render(saved, FINE)
    assert [p.bitmap for p in again] == [p.bitmap for p in fine]
    standard = render(saved, STANDARD)
    assert standard[0].bitmap.height == A4_LINES[FINE] // 2 + 1
    assert standard[0].at(FINE).bitmap.height == standard[0].bitmap.height * 2


def test_going_down_in_resolution_keeps_one_line_rules():
    rows = [bytes(216)] * 5 + [b"\xff" * 216] + [bytes(216)] * 4
    page = FaxPage(Bitmap.from_rows(1728, rows), FINE).at(STANDARD)
    assert page.bitmap.height == 5 and page.bitmap.row(2) == b"\xff" * 216


@pytest.mark.parametrize(("coding", "ecm"), [(Coding.MH, False), (Coding.MR, False),
                                             (Coding.MMR, True)])
def test_a_page_is_coded_for_its_session(samples, coding, ecm):
    page = render(samples["three.pdf"], FINE)[0]
    session = Session(speed=Speed.V29_9600, resolution=STANDARD, coding=coding, ecm=ecm,
                      min_scan_ms=20)
    data = page.encode(session)
    decoded = decode(data, coding)
    assert decoded.bitmap == page.at(STANDARD).bitmap and decoded.bad_lines == 0
    if not ecm:  # 20 ms at 9600 bit/s: at least 192 bits a line, so at least 24 octets a line
        assert len(data) >= 192 * A4_LINES[STANDARD] // 8


def test_received_pages_are_stored_as_tiff_class_f(samples, tmp_path):
    fine, standard = render(samples["two.ps"], FINE)[0], render(samples["two.ps"], STANDARD)[1]
    received = [ReceivedPage(decode(p.encode(Session(resolution=p.resolution))), p.resolution)
                for p in (fine, standard)]
    stored = store_received(tmp_path / "call-17.tif", received, remote_ident="+86 10 5555 0100")
    assert stored.pages == 2 and stored.preview == tmp_path / "call-17.png"

    info = subprocess.run(["tiffinfo", str(stored.tiff)], capture_output=True, text=True,
                          check=True)
    assert "rror" not in info.stderr, info.stderr
    pages = info.stdout.split("=== TIFF directory")[1:]
    assert len(pages) == 2
    for number, (page, lpi) in enumerate(zip(pages, ("196", "98"), strict=True)):
        assert "Image Width: 1728" in page
        assert f"Resolution: 204, {lpi} pixels/inch" in page
        assert "Compression Scheme: CCITT Group 3" in page
        assert "FillOrder: lsb-to-msb" in page
        assert "Photometric Interpretation: min-is-white" in page
        assert "Group 3 Options: 2-d encoding+EOL padding" in page
        assert f"Page Number: {number}-2" in page
        assert "Software: gatewayd fax" in page
        assert "ImageDescription: +86 10 5555 0100" in page
    with Image.open(stored.preview) as preview:
        assert preview.size == (1728, A4_LINES[FINE])
    with Image.open(stored.tiff) as image:
        assert Bitmap.from_image(image) == fine.bitmap


@pytest.mark.slow
def test_spandsp_sends_our_tiff(fax_lab, samples, tmp_path):
    """The far end (spandsp's t4_tx) reads a TIFF we wrote and faxes it to efax."""
    document = save_pages(tmp_path / "out.tif", render(samples["two.ps"], FINE))
    peer = fax_lab(send=document, receive=False)
    done = subprocess.run(["efax", "-d", str(peer.pty), "-o1", "-v", "e", "-r",
                           str(tmp_path / "in")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=150, check=False)
    record = peer.wait_call(timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert record["status"] == "OK" and record["pages"] == 2, record
    assert len(list(tmp_path.glob("in.[0-9][0-9][0-9]"))) == 2
