"""Customers' documents rendered in the cage (``drivers.cage``): hostile PostScript cannot read,
list or write anything outside its scratch dir, and a document cannot become more than the
limits allow. The rendered page is looked at: nothing may leak onto it."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from drivers.cage import Limits
from drivers.fax.documents import DocumentError, render_job


def black_share(tiff: Path) -> float:
    with Image.open(tiff) as image:
        page = image.convert("L")
        return sum(1 for v in page.tobytes() if v < 128) / (page.width * page.height)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """Stands for the daemon's state dir (the demo keeps it under /tmp, beside the scratch)."""
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "gatewayd.sqlite3").write_bytes(b"SQLite format 3\0 customers' names and phones")
    return folder


def hostile(state: Path) -> bytes:
    """Paints the whole page black for anything it manages to read, list or write outside."""
    return f"""%!PS
/leak {{ 0 0 612 792 rectfill }} def
{{ ({state}/gatewayd.sqlite3) (r) file 16 string readstring pop pop leak }} stopped pop
({state}/*) {{ pop leak }} 1024 string filenameforall
(/etc/*) {{ pop leak }} 1024 string filenameforall
{{ ({state}/planted) (w) file dup (x) writestring closefile leak }} stopped pop
{{ ({state}/gatewayd.sqlite3) deletefile leak }} stopped pop
/Helvetica findfont 24 scalefont setfont 72 700 moveto (caged) show
showpage
""".encode()


def test_hostile_postscript_sees_nothing_outside_its_scratch_dir(tmp_path: Path, state: Path) -> None:
    out = tmp_path / "job.tif"
    assert render_job([("letter.ps", hostile(state))], out) == 1
    assert black_share(out) < 0.01  # the word "caged" only: no rectangle painted
    assert not (state / "planted").exists()
    assert (state / "gatewayd.sqlite3").read_bytes().startswith(b"SQLite format 3")


def test_postscript_reading_a_state_file_is_refused_naming_the_error(state: Path, tmp_path: Path) -> None:
    program = f"%!PS\n({state}/gatewayd.sqlite3) (r) file 100 string readstring pop show showpage\n"
    with pytest.raises(DocumentError, match=r"letter\.ps: .*invalidfileaccess"):
        render_job([("letter.ps", program.encode())], tmp_path / "job.tif")
    assert not (tmp_path / "job.tif").exists()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height: enough for a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + \
        chunk(b"IEND", b"")


LIMITS = Limits(pages=20, pixels_per_page=40_000_000, seconds=5)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("many.ps", b"%!PS\n1 1 10000 {pop showpage} for\n", r"more than 20 pages .*documents\.max_pages"),
    ("feeds.txt", b"\f" * 2048, r"2049 pages .*documents\.max_pages"),
    ("loop.ps", b"%!PS\n{} loop\n", r"(longer than 5 s|CPU).*documents\.max_seconds"),
    ("bomb.png", png_header_only(30000, 30000), r"documents\.max_pixels_per_page"),
    ("big.png", png_header_only(8000, 6000), r"8000x6000 pixels.*documents\.max_pixels_per_page"),
])
def test_limits_name_the_limit(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=f"{name}: .*{reason}"):
        render_job([(name, content)], tmp_path / "job.tif", LIMITS)


def test_pages_are_counted_over_the_whole_job(tmp_path: Path) -> None:
    ten = b"%!PS\n1 1 10 {pop showpage} for\n"
    assert render_job([("a.ps", ten), ("b.ps", ten)], tmp_path / "ok.tif", LIMITS) == 20
    with pytest.raises(DocumentError, match=r"c\.ps: more than 20 pages in the job"):
        render_job([("a.ps", ten), ("b.ps", ten), ("c.ps", ten)], tmp_path / "no.tif", LIMITS)


def test_a_name_is_only_a_name(tmp_path: Path) -> None:
    image = io.BytesIO()
    Image.new("L", (200, 100), 0).save(image, "PNG")
    # A path in the name neither escapes the scratch dir nor fails the job.
    assert render_job([("../../etc/x.png", image.getvalue())], tmp_path / "job.tif") == 1


def test_the_renderer_runs_under_an_address_space_limit(tmp_path: Path) -> None:
    """2 GB of PostScript arrays are refused by the child's rlimit (1 GiB address space)."""
    hog = b"%!PS\n1 1 13 { pop 10000000 array } for showpage\n"  # 2 GB: Ghostscript alone renders it
    with pytest.raises(DocumentError, match=r"hog\.ps: .*VMerror"):
        render_job([("hog.ps", hog)], tmp_path / "job.tif", Limits(seconds=20))


def test_a_spool_file_is_read_back_whatever_the_default_page_limit(tmp_path: Path) -> None:
    """The driver reads a job's own TIFF back with the job's page count as the bound: a site
    that allows more pages than the default must still be able to send them."""
    from drivers.fax.documents import render

    out = tmp_path / "job.tif"
    assert render_job([("a.ps", b"%!PS\n1 1 3 {pop showpage} for\n")], out, Limits(pages=3)) == 3
    with pytest.raises(DocumentError, match="more than 2 pages"):
        render(out, limits=Limits(pages=2))
    assert len(render(out, limits=Limits(pages=2), max_pages=3)) == 3
