"""Receipts: text columns line up with Chinese in them; the PDF is one page and says it all."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from gatewayd.billing import (
    Colour,
    FaxCallUsage,
    ManualLine,
    PageOutcome,
    PageResult,
    Payment,
    PrintUsage,
    Receipt,
    ReceiptKind,
    Service,
    rate,
    render_text,
)
from gatewayd.billing.receipt_pdf import ReceiptTooLong, find_cjk_font, render_pdf
from gatewayd.textwidth import width, wrap

from .conftest import SHANGHAI, local

AT = local(2025, 3, 5, 14, 5)


@pytest.fixture(scope="module")
def receipt(book, site) -> Receipt:
    fax = FaxCallUsage("9,0085221234567", AT, AT, 192,
                       (PageOutcome(1, PageResult.CONFIRMED), PageOutcome(2, PageResult.ERROR_PAGE),
                        PageOutcome(2, PageResult.CONFIRMED), PageOutcome(3, PageResult.CONFIRMED)))
    copy = PrintUsage(Service.COPY, "A4", Colour.MONO, True, 12, AT, sets=3)
    binding = ManualLine(Service.COPY, "装订 binding", Decimal(2), "本", Decimal("5.00"), AT)
    lines = sum((rate(book, site, u).lines for u in (fax, copy, binding)), ())
    return Receipt(ReceiptKind.FORMAL, "R-2025-000123", AT, "华夏贸易有限公司 1203室", lines,
                   payments=(Payment("现金 cash", Decimal("100.00")),), staff="王芳", ticket="T-88")


def test_wrap_and_width_count_cjk_as_two_cells() -> None:
    assert width("香港 HK") == 7
    assert wrap("华夏贸易有限公司 fax", 8) == ["华夏贸易", "有限公司", "fax"]
    assert all(width(part) <= 10 for part in wrap("+852 Hong Kong 香港, 3 min 12 s → 4 × 60 s", 10))


def test_text_receipt_columns_line_up(receipt: Receipt) -> None:
    text = render_text(receipt, SHANGHAI, cells=72)
    lines = text.splitlines()
    assert all(width(line) <= 72 for line in lines)
    item_cells = 72 - 10 - 10 - 12 - 3
    body = lines[lines.index("-" * 72) + 3 : len(lines) - lines[::-1].index("-" * 72) - 1]
    assert len(body) >= len(receipt.lines)
    for line in body:
        # a row either stays inside the item column (a wrapped description) or reaches the
        # last column, where its amount ends, whatever Chinese came before it
        assert width(line) <= item_cells or width(line) == 72, line
    amounts = [line.split()[-1] for line in body if width(line) == 72]
    assert amounts == ["32.00", "2.00", "3.00", "0.00", "14.40", "10.00"]
    manual = next(line for line in body if line.startswith("装订 binding"))
    assert width(manual[: manual.rindex("2 本") + 3]) == item_cells + 1 + 10  # qty right-aligned
    summary = lines[len(lines) - lines[::-1].index("-" * 72):]
    assert [line for line in summary if width(line) == 72] == [
        "合计 Total (CNY)" + " " * 51 + "61.40",
        "已付 Paid, 现金 cash" + " " * 46 + "100.00",
        "找零 Change" + " " * 56 + "38.60",
    ]
    assert "收据  RECEIPT" in text
    assert "日期 Date: 2025-03-05 14:05" in text  # local time, not UTC


def test_temporary_receipt_says_it_is_exchanged_later(receipt: Receipt) -> None:
    from dataclasses import replace

    temporary = replace(receipt, kind=ReceiptKind.TEMPORARY, lines=receipt.lines[-1:],
                        payments=(Payment("微信 WeChat Pay", Decimal("5.00")),))
    text = render_text(temporary, SHANGHAI)
    assert "临时收据  TEMPORARY RECEIPT" in text
    assert "应付 Balance due" in text and text.count("5.00") >= 2
    assert "临时收据：服务完成后凭此换取正式收据或发票。" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (scripts/debian-packages.txt)")
def test_pdf_is_one_page_and_contains_every_line(receipt: Receipt, tmp_path: Path) -> None:
    assert find_cjk_font().path.name == "NotoSansCJK-Regular.ttc"
    path = tmp_path / "receipt.pdf"
    path.write_bytes(render_pdf(receipt, SHANGHAI))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    squeezed = " ".join(text.split())
    for expected in ("收据 RECEIPT", "R-2025-000123", "华夏贸易有限公司 1203室", "合计 Total (CNY)",
                     "61.40", "找零 Change", "38.60", "page 2 resent (ErrorPage), not charged",
                     "+852 Hong Kong 香港, 3 min 12 s → 4 × 60 s at 8.00/min = 32.00",
                     "装订 binding (manual)"):
        assert expected in squeezed, expected


def test_pdf_refuses_what_cannot_fit_on_one_page(receipt: Receipt) -> None:
    from dataclasses import replace

    long = replace(receipt, lines=receipt.lines * 40)
    with pytest.raises(ReceiptTooLong):
        render_pdf(long, SHANGHAI)
