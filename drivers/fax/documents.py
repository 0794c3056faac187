"""Documents in and out of the fax: what a guest hands in becomes fax pages; what arrives is
stored as a TIFF Class F file with a PNG preview.

Outgoing: PDF and PostScript are rasterised by Ghostscript straight to 1728-pel rows at 204 x 196
(fine) or 204 x 98 (standard) dpi, the page scaled to fit; plain text (UTF-8, Chinese included)
is laid out by fpdf2 in a CJK font and then goes the same way; PNG/JPEG/GIF and non-fax TIFFs are
scaled by Pillow and dithered; a TIFF that is already a fax (1728 pels, 1 bit) keeps its pels.

A :class:`FaxPage` is what the T.30 engine sends (it implements ``pages.OutgoingPage``): it is
coded only once DCS has fixed resolution, coding and minimum scan time.
"""

from __future__ import annotations

import enum
import functools
import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from PIL import Image

from drivers import cage
from drivers.cage import Limits, LimitExceeded

from .errors import FaxError
from .frames import Resolution, Session, Width
from .t4 import A4_WIDTH, Bitmap, DecodedPage, EncodeOptions, encode, min_line_bits
from .tiff import LINES_PER_INCH, PELS_PER_INCH, TiffPage, write_fax_tiff

#: A4's 297 mm in scan lines at 3.85 and 7.7 lines/mm (T.4 2.2, 2.3).
A4_LINES = {Resolution.STANDARD: 1143, Resolution.FINE: 2287, Resolution.SUPERFINE: 4574}


class DocumentError(FaxError):
    """A document could not be turned into fax pages (unknown type, renderer failure, a limit)."""


class DocumentKind(enum.Enum):
    PDF = "application/pdf"
    POSTSCRIPT = "application/postscript"
    TIFF = "image/tiff"
    IMAGE = "image/*"  #: anything else Pillow opens: PNG, JPEG, GIF, BMP...
    TEXT = "text/plain"  #: UTF-8


def detect(path: Path) -> DocumentKind:
    """By content, not by name: guests' files are often misnamed."""
    head = path.read_bytes()[:4096]
    if head.startswith(b"%PDF"):
        return DocumentKind.PDF
    if head.startswith((b"%!", b"\xc5\xd0\xd3\xc6")):  # PostScript, or DOS EPS binary
        return DocumentKind.POSTSCRIPT
    if head[:4] in (b"II*\0", b"MM\0*"):
        return DocumentKind.TIFF
    try:
        with Image.open(path):
            return DocumentKind.IMAGE
    except Image.DecompressionBombError:
        return DocumentKind.IMAGE  # an image all right; _image_pages names the limit
    except OSError:
        pass
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise DocumentError(f"{path.name}: not PDF, PostScript, an image or UTF-8 text") from err
    return DocumentKind.TEXT


# ---- Pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaxPage:
    """One page image at a fax resolution; ``encode`` makes it the T.30 engine's OutgoingPage."""

    bitmap: Bitmap
    resolution: Resolution = Resolution.FINE

    def at(self, resolution: Resolution) -> FaxPage:
        """The same page at another vertical resolution: row pairs are ORed going down (so a
        one-line rule survives, as efax does) and rows repeated going up."""
        if resolution is self.resolution:
            return self
        ratio = LINES_PER_INCH[resolution] / LINES_PER_INCH[self.resolution]
        rows = list(self.bitmap.rows())
        if ratio > 1:
            times = round(ratio)
            rows = [row for row in rows for _ in range(times)]
        else:
            step = round(1 / ratio)
            stride = self.bitmap.stride
            rows = [functools.reduce(lambda a, b: a | b, (int.from_bytes(r) for r in
                                     rows[i:i + step])).to_bytes(stride)
                    for i in range(0, len(rows), step)]
        return FaxPage(Bitmap.from_rows(self.bitmap.width, rows), resolution)

    def encode(self, session: Session) -> bytes:
        if session.width is not Width.A4 or self.bitmap.width != A4_WIDTH:
            raise DocumentError(f"only A4 width (1728 pels) pages are sent, not {session.width}")
        page = self.at(session.resolution)
        options = EncodeOptions(
            coding=session.coding,
            k=2 if session.resolution is Resolution.STANDARD else 4,
            # Under ECM (MMR) the modem buffers frames: no scan time, no fill (T.4 A.1).
            min_line_bits=0 if session.ecm else min_line_bits(session.speed.bit_rate,
                                                              session.min_scan_ms),
        )
        return encode(page.bitmap, options)


def _page_from_image(image: Image.Image, resolution: Resolution) -> FaxPage:
    """Fit a picture onto an A4 fax page (never wider than 1728 pels), keeping its aspect with
    the fax's non-square pels, and dither it to black and white."""
    lines_per_inch = LINES_PER_INCH[resolution]
    page_height_square = A4_LINES[resolution] * PELS_PER_INCH / lines_per_inch
    scale = min(A4_WIDTH / image.width, page_height_square / image.height)
    width = max(1, round(image.width * scale))
    height = max(1, round(image.height * scale * lines_per_inch / PELS_PER_INCH))
    grey = image.convert("L").resize((width, height), Image.Resampling.LANCZOS)
    page = Image.new("L", (A4_WIDTH, height), 255)
    page.paste(grey, ((A4_WIDTH - width) // 2, 0))
    return FaxPage(Bitmap.from_image(page.convert("1")), resolution)


def _is_fax_image(image: Image.Image) -> bool:
    return image.mode == "1" and image.width == A4_WIDTH


def _fax_resolution(image: Image.Image) -> Resolution:
    dpi = image.info.get("dpi", (204, 196))
    return Resolution.STANDARD if float(dpi[1]) < 150 else Resolution.FINE


def _image_pages(path: Path, resolution: Resolution, limits: Limits, max_pages: int) -> list[FaxPage]:
    pages = []
    try:
        image = Image.open(path)  # the header only: the limits are checked before decoding
    except Image.DecompressionBombError as err:  # over twice Pillow's own bound (179 M pixels)
        raise LimitExceeded("pixels_per_page", f"more than {limits.pixels_per_page:,} pixels") from err
    with image:
        frames = getattr(image, "n_frames", 1)
        if frames > max_pages:
            raise LimitExceeded("pages", f"{frames} frames: more than {limits.pages} pages in the job")
        for frame in range(frames):
            image.seek(frame)
            if image.width * image.height > limits.pixels_per_page:
                raise LimitExceeded("pixels_per_page", f"page {frame + 1} is {image.width}x{image.height} "
                                    f"pixels, more than {limits.pixels_per_page:,}")
            if _is_fax_image(image):
                page = FaxPage(Bitmap.from_image(image), _fax_resolution(image))
                pages.append(page.at(resolution))
            else:
                pages.append(_page_from_image(image, resolution))
    return pages


# ---- Ghostscript -----------------------------------------------------------------------------


def _gs_pages(path: Path, resolution: Resolution, limits: Limits, max_pages: int) -> list[FaxPage]:
    """Caged (``drivers.cage``): the document is a program that sees only its scratch dir; it
    is stopped as soon as it starts a page past ``max_pages`` or writes more than the limit."""
    with cage.scratch(prefix="gatewayd-fax-") as place:
        source = place / "document"
        shutil.copyfile(path, source)

        def files() -> list[Path]:
            return sorted(place.glob("page-*.pbm"))

        def watch() -> None:
            if len(files()) > max_pages:
                raise LimitExceeded("pages", f"more than {limits.pages} pages in the job")
            if cage.used_bytes(place) > limits.bytes_rendered:
                raise LimitExceeded("bytes_rendered", f"more than {limits.bytes_rendered:,} bytes rendered")

        done = cage.run(
            [*cage.gs_argv(place), "-sDEVICE=pbmraw",
             f"-r{PELS_PER_INCH}x{LINES_PER_INCH[resolution]}",
             f"-g{A4_WIDTH}x{A4_LINES[resolution]}", "-dFIXEDMEDIA", "-dPDFFitPage",
             "-dPSFitPage", f"-sOutputFile={place}/page-%04d.pbm", str(source)],
            place, limits, watch=watch)
        watch()
        if done.returncode != 0 or not files():
            raise DocumentError(f"Ghostscript could not render it: {cage.gs_reason(done)}")
        pages = []
        for file in files():
            with Image.open(file) as image:
                pages.append(FaxPage(Bitmap.from_image(image), resolution))
        return pages


# ---- Text ------------------------------------------------------------------------------------

# (file searched under /usr/share/fonts, face inside a collection): Debian's fonts-noto-cjk
# first. The face is looked up by name: .ttc face order differs between font releases.
_CJK_FONTS = (("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
              ("NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
              ("DroidSansFallbackFull.ttf", None))


@functools.cache
def _cjk_font(root: str = "/usr/share/fonts") -> tuple[Path, int]:
    for name, face in _CJK_FONTS:
        for path in sorted(Path(root).rglob(name)):
            if face is None:
                return path, 0
            from fontTools.ttLib import TTCollection  # fpdf2 depends on fontTools

            faces = [font["name"].getDebugName(4) for font in TTCollection(str(path), lazy=True)]
            return path, faces.index(face) if face in faces else 0
    raise DocumentError(f"no CJK font under {root}: install fonts-noto-cjk")


def text_pdf(text: str, font_size: float = 11.0) -> bytes:
    """Plain text as an A4 PDF: 20 mm margins, wrapped lines, form feeds start new pages."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    path, index = _cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font("cjk", fname=str(path), collection_font_number=index)
    pdf.set_font("cjk", size=font_size)
    pdf.set_creation_date(datetime(2000, 1, 1))  # the same text gives the same bytes
    for page_text in text.replace("\r\n", "\n").split("\f"):
        pdf.add_page()
        for line in page_text.expandtabs(8).split("\n"):
            pdf.multi_cell(0, font_size * 0.5, line or " ", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


# ---- Entry points ----------------------------------------------------------------------------


def render(path: Path, resolution: Resolution = Resolution.FINE, limits: Limits = Limits(),
           max_pages: int | None = None) -> list[FaxPage]:
    """A document, any kind :func:`detect` knows, as fax pages, in this process (Ghostscript
    caged). Customers' documents go through :func:`render_job`, which runs this in a child."""
    max_pages = limits.pages if max_pages is None else max_pages
    try:
        kind = detect(path)
        if kind in (DocumentKind.PDF, DocumentKind.POSTSCRIPT):
            return _gs_pages(path, resolution, limits, max_pages)
        if kind is DocumentKind.TEXT:
            return render_text(path.read_text(encoding="utf-8"), resolution, limits, max_pages)
        return _image_pages(path, resolution, limits, max_pages)
    except cage.CageError as err:
        raise DocumentError(str(err)) from err


def render_text(text: str, resolution: Resolution = Resolution.FINE, limits: Limits = Limits(),
                max_pages: int | None = None) -> list[FaxPage]:
    """Plain text (any script the CJK font covers) as fax pages, through :func:`text_pdf`."""
    max_pages = limits.pages if max_pages is None else max_pages
    if text.count("\f") >= max_pages:  # each form feed starts a page
        raise LimitExceeded("pages", f"{text.count(chr(12)) + 1} pages of form feeds: more than {limits.pages} pages in the job")
    with cage.scratch(prefix="gatewayd-fax-") as scratch:
        pdf = scratch / "text.pdf"
        pdf.write_bytes(text_pdf(text))
        return _gs_pages(pdf, resolution, limits, max_pages)


def render_job(documents: Sequence[tuple[str, bytes]], tiff: Path, limits: Limits = Limits(),
               resolution: Resolution = Resolution.FINE) -> int:
    """Customers' documents, in order, as one TIFF Class F at ``tiff``; returns the page count.

    Everything runs in a child process (``python -m drivers.fax.documents``) caged in its own
    scratch dir with the limits, so a hostile or huge document costs the child, not the daemon:
    the daemon never holds the pages. Raises :class:`DocumentError` naming the document and the
    reason (a limit by its config key)."""
    with cage.scratch(prefix="gatewayd-fax-") as place:
        job = {"limits": asdict(limits), "resolution": resolution.name, "out": "out.tif", "documents": []}
        for index, (name, content) in enumerate(documents):
            source = place / f"{index}-{cage.safe_name(name)}"
            source.write_bytes(content)
            job["documents"].append({"name": name, "path": source.name})
        (place / "job.json").write_text(json.dumps(job), encoding="utf-8")
        root = str(Path(__file__).resolve().parents[2])

        def watch() -> None:
            if cage.used_bytes(place) > limits.bytes_rendered:
                raise LimitExceeded("bytes_rendered", f"more than {limits.bytes_rendered:,} bytes rendered")

        try:
            # The child keeps the rendering deadline itself (and names the document); this one
            # only stops a child that is stuck outside Ghostscript.
            outer = replace(limits, seconds=limits.seconds + _CHILD_START_S)
            done = cage.run([sys.executable, "-I", "-c", _CHILD, root, "job.json"], place, outer, watch=watch)
        except cage.CageError as err:
            raise DocumentError(str(err)) from err
        try:
            answer = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            last = (done.stderr.strip().splitlines() or ["no message"])[-1][-300:]
            answer = {"error": f"the renderer failed (exit {done.returncode}): {last}"}
        if "error" in answer:
            raise DocumentError(answer["error"])
        tiff.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(place / "out.tif", tiff)
        return int(answer["pages"])


_CHILD_START_S = 5.0  #: Python, Pillow and fpdf starting, on a loaded machine
# Isolated mode (-I: no user site, no PYTHON* variables, no cwd on sys.path), this tree only.
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from drivers.fax.documents import _child; _child(sys.argv[2])"


def _child(job_file: str) -> None:
    """The child of :func:`render_job`: prints ``{"pages": n}`` or ``{"error": why}``."""
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    limits = Limits(**job["limits"])
    resolution = Resolution[job["resolution"]]
    pages: list[FaxPage] = []
    deadline = time.monotonic() + limits.seconds
    try:
        for doc in job["documents"]:
            left = replace(limits, seconds=max(0.1, deadline - time.monotonic()))
            try:
                pages += render(Path(doc["path"]), resolution, left, limits.pages - len(pages))
            except (DocumentError, cage.CageError) as err:
                raise DocumentError(f"{doc['name']}: {err}") from err
            except MemoryError as err:
                raise DocumentError(f"{doc['name']}: needs more than {limits.memory_bytes:,} bytes "
                                    "of memory to render") from err
        if not pages:
            raise DocumentError("the documents have no pages")
        save_pages(Path(job["out"]), pages, description="gatewayd outgoing fax")
    except DocumentError as err:
        print(json.dumps({"error": str(err)}))
        return
    print(json.dumps({"pages": len(pages)}))


def save_pages(path: Path, pages: Sequence[FaxPage], **tiff_options: object) -> Path:
    """Outgoing pages as a TIFF Class F (the spool keeps what was sent, for resends)."""
    return write_fax_tiff(path, [TiffPage(p.bitmap, p.resolution) for p in pages], **tiff_options)


@dataclass(frozen=True)
class ReceivedPage:
    """A page as the receiver decoded it, at the resolution its DCS named."""

    page: DecodedPage
    resolution: Resolution


@dataclass(frozen=True)
class StoredFax:
    tiff: Path  #: the whole call, one TIFF Class F
    preview: Path  #: PNG of page 1, rows doubled at standard resolution so it looks right
    pages: int


def store_received(tiff: Path, pages: Sequence[ReceivedPage], *, remote_ident: str = "",
                   when: datetime | None = None) -> StoredFax:
    """Store a call's received pages; lines the receiver could not decode are already replaced
    by the line above and are recorded in the Class F tags BadFaxLines/CleanFaxData."""
    if not pages:
        raise DocumentError("no pages to store")
    tiff_pages = [TiffPage(p.page.bitmap, p.resolution, p.page.bad_lines, p.page.longest_bad_run)
                  for p in pages]
    write_fax_tiff(tiff, tiff_pages, description=remote_ident, when=when,
                   software="gatewayd fax")
    first = FaxPage(pages[0].page.bitmap, pages[0].resolution)
    if first.resolution is Resolution.STANDARD:
        first = first.at(Resolution.FINE)
    preview = tiff.with_suffix(".png")
    first.bitmap.to_image().save(preview, dpi=(PELS_PER_INCH, LINES_PER_INCH[Resolution.FINE]))
    return StoredFax(tiff, preview, len(pages))

