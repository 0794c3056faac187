"""A receipt as a one-page A4 PDF with a CJK font from Debian's font packages.

fpdf2 embeds (and subsets) a TrueType/OpenType font; Debian's fonts-noto-cjk ships collections
(.ttc), which fpdf2 reads given the index of the face: we look the Simplified Chinese face up by
name rather than trusting an index that differs between font releases.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from .errors import BillingError
from .receipts import HEADINGS, TEMPORARY_NOTE, TITLES, Receipt, ReceiptKind

# (file name searched under /usr/share/fonts, face name inside a collection) in order of taste:
# fonts-noto-cjk, then fonts-wqy-zenhei, then fonts-droid-fallback.
_FONTS = (
    ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("wqy-zenhei.ttc", "WenQuanYi Zen Hei"),
    ("DroidSansFallbackFull.ttf", None),
)
_SIZES = (10.0, 9.0, 8.0, 7.0, 6.0)  # shrink until the receipt fits on one page


class ReceiptFontMissing(BillingError):
    """No CJK font found: install Debian's fonts-noto-cjk (in scripts/debian-packages.txt)."""


class ReceiptTooLong(BillingError):
    """Even at the smallest type size the lines do not fit on one page."""


@dataclass(frozen=True)
class CjkFont:
    path: Path
    index: int  #: face number in a .ttc collection, 0 for a single font


@functools.cache
def find_cjk_font(root: str = "/usr/share/fonts") -> CjkFont:
    for file_name, face in _FONTS:
        for path in sorted(Path(root).rglob(file_name)):
            return CjkFont(path, _face_index(path, face) if face else 0)
    raise ReceiptFontMissing(f"no CJK font under {root}; install fonts-noto-cjk")


def _face_index(path: Path, face: str) -> int:
    from fontTools.ttLib import TTCollection  # fpdf2 depends on fontTools

    if path.suffix.lower() != ".ttc":
        return 0
    collection = TTCollection(str(path), lazy=True)
    names = [font["name"].getDebugName(4) for font in collection.fonts]
    return names.index(face) if face in names else 0


def render_pdf(receipt: Receipt, zone: ZoneInfo, font: CjkFont | None = None) -> bytes:
    font = font or find_cjk_font()
    for size in _SIZES:
        pdf = _layout(receipt, zone, font, size)
        if pdf.page_no() == 1:
            return bytes(pdf.output())
    raise ReceiptTooLong(f"receipt {receipt.number} has too many lines for one page")


def _layout(receipt: Receipt, zone: ZoneInfo, font: CjkFont, size: float) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(receipt.issued_at)  # the same receipt gives the same bytes
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
    pdf.add_page()
    pdf.set_title(f"{TITLES[receipt.kind][1]} {receipt.number}")
    line = size * 0.55  # mm per line at this size, with some leading

    def text_line(text: str, scale: float = 1.0, align: str = "L") -> None:
        pdf.set_font("cjk", size=size * scale)
        pdf.multi_cell(0, line * scale, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    zh, en = TITLES[receipt.kind]
    text_line(receipt.issuer, 1.2, "C")
    text_line(f"{zh}  {en}", 1.6, "C")
    pdf.ln(line)
    for label, value in receipt.header_fields(zone):
        text_line(f"{label}: {value}")
    pdf.ln(line / 2)
    pdf.set_font("cjk", size=size)
    with pdf.table(col_widths=(58, 14, 13, 15), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   line_height=line, headings_style=FontFace(emphasis="", fill_color=(230, 230, 230))
                   ) as table:
        for cells in [HEADINGS, *receipt.line_cells()]:
            row = table.row()
            for cell in cells:
                row.cell(cell)
        for label, amount in receipt.summary():
            row = table.row()
            row.cell(label, colspan=3)
            row.cell(amount)
    pdf.ln(line)
    if any(c.manual for c in receipt.lines):
        text_line("* 手工录入 entered by staff", 0.9)
    if receipt.kind is ReceiptKind.TEMPORARY:
        text_line(TEMPORARY_NOTE[0], 0.9)
        text_line(TEMPORARY_NOTE[1], 0.9)
    pdf.ln(line * 2)
    text_line("客户签名 Customer signature: ________________      经办人 Staff: ________________")
    return pdf
