"""Documents to fax pages: PDF, PostScript, TIFF, PNG, JPEG or text -> 1-bit pages 1728 pels wide
at 204 x 196 dpi (T.4 A4 at fine resolution), stored as PNG files in the job's spool folder.

Interim: the fax lab's ``drivers/fax/documents.py`` will own rendering; when it lands,
:func:`render` becomes one call to it and the rest of this module goes.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from drivers.fax.t4 import A4_WIDTH
from gatewayd.errors import InvalidValue

X_DPI, Y_DPI = 204, 196
A4_LINES = 2287  #: 297 mm at 7.7 lines/mm
_POSTSCRIPT = (b"%PDF", b"%!")


def render(content: bytes, filename: str) -> list[Image.Image]:
    """The pages of one document, as mode "1" images; ``InvalidValue`` when it cannot be read."""
    if content.startswith(_POSTSCRIPT):
        return _ghostscript(content)
    suffix = Path(filename).suffix.lower()
    if suffix in (".txt", ".text", "") and _is_text(content):
        return _text(content.decode("utf-8"))
    try:
        with Image.open(_bytes_io(content)) as image:
            return [_fit(frame) for frame in _frames(image)]
    except (OSError, ValueError) as err:  # Pillow: UnidentifiedImageError is an OSError
        raise InvalidValue(f"{filename}: not a PDF, PostScript, TIFF, PNG, JPEG or UTF-8 text "
                           f"document ({err})") from err


def save_pages(pages: list[Image.Image], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, page in enumerate(pages, 1):
        path = folder / f"page-{number:03d}.png"
        page.save(path, dpi=(X_DPI, Y_DPI))
        paths.append(path)
    return paths


def _bytes_io(content: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(content)


def _is_text(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in content


def _frames(image: Image.Image) -> list[Image.Image]:
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(image.copy())
    return frames


def _fit(image: Image.Image) -> Image.Image:
    """Scale to 1728 pels across keeping the page's proportions, then to 1 bit."""
    x_dpi, y_dpi = image.info.get("dpi", (0, 0)) or (0, 0)
    aspect = (float(x_dpi) / float(y_dpi)) if x_dpi and y_dpi else 1.0  # pels' height/width
    scale = A4_WIDTH / image.width
    height = max(1, round(image.height * scale * aspect * Y_DPI / X_DPI))
    grey = image.convert("L").resize((A4_WIDTH, height), Image.LANCZOS)
    if image.format == "JPEG":  # a photo: dither; anything else is line art or text: threshold
        return grey.convert("1")
    return grey.point(lambda v: 255 if v > 160 else 0).convert("1", dither=Image.NONE)


def _ghostscript(content: bytes) -> list[Image.Image]:
    with tempfile.TemporaryDirectory(prefix="gatewayd-fax-") as tmp:
        source = Path(tmp) / "document"
        source.write_bytes(content)
        done = subprocess.run(
            ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pngmono",
             f"-r{X_DPI}x{Y_DPI}", "-sPAPERSIZE=a4", "-dFIXEDMEDIA", "-dPDFFitPage",
             f"-sOutputFile={tmp}/p-%04d.png", str(source)],
            capture_output=True, text=True, timeout=120, check=False)
        outputs = sorted(Path(tmp).glob("p-*.png"))
        if done.returncode != 0 or not outputs:
            raise InvalidValue(f"the document could not be rendered: {done.stderr.strip()[:300]}")
        pages = []
        for path in outputs:
            with Image.open(path) as page:
                # A4 at 204 dpi is 1687 pels: centre it on the 1728-pel line.
                canvas = Image.new("1", (A4_WIDTH, page.height), 1)
                canvas.paste(page.convert("1"), ((A4_WIDTH - page.width) // 2, 0))
                pages.append(canvas)
        return pages


def _text(text: str) -> list[Image.Image]:
    """Plain text in a CJK-capable face, ~11 pt, 2 cm margins, wrapped and paged."""
    from gatewayd.billing.receipt_pdf import find_cjk_font

    cjk = find_cjk_font()
    font = ImageFont.truetype(str(cjk.path), 30, index=cjk.index)
    margin, line_height = 160, 44
    per_page = (A4_LINES - 2 * margin) // line_height
    lines = [wrapped for paragraph in text.splitlines() or [""]
             for wrapped in _wrap(paragraph, font, A4_WIDTH - 2 * margin)]
    pages = []
    for start in range(0, max(1, len(lines)), per_page):
        page = Image.new("1", (A4_WIDTH, A4_LINES), 1)
        draw = ImageDraw.Draw(page)
        for row, line in enumerate(lines[start:start + per_page]):
            draw.text((margin, margin + row * line_height), line, font=font, fill=0)
        pages.append(page)
    return pages


def _wrap(paragraph: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy wrap by drawn width (CJK glyphs are twice as wide as Latin ones)."""
    lines, line = [], ""
    for char in paragraph:
        if font.getlength(line + char) > width:
            cut = line.rfind(" ") if char != " " and " " in line else -1
            lines.append(line[:cut] if cut > 0 else line)
            line = (line[cut + 1:] if cut > 0 else "") + char
        else:
            line += char
    return [*lines, line]
