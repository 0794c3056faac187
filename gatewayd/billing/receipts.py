"""Receipts (收据): temporary when fees are collected before the service, formal at settlement.

The store numbers receipts; this module only lays one out, as text for a receipt printer or
the terminal (here) and as a one-page PDF (``receipt_pdf``). Labels are bilingual.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .charges import Charge
from .money import format_price
from gatewayd.textwidth import columns, pad, width, wrap


class ReceiptKind(enum.Enum):
    TEMPORARY = "temporary"  #: fees collected before the service; exchanged later
    FORMAL = "formal"  #: at settlement, listing the charge lines
    REFUND = "refund"  #: money given back to the customer


TITLES = {
    ReceiptKind.TEMPORARY: ("临时收据", "TEMPORARY RECEIPT"),
    ReceiptKind.FORMAL: ("收据", "RECEIPT"),
    ReceiptKind.REFUND: ("退款收据", "REFUND RECEIPT"),
}
TEMPORARY_NOTE = ("临时收据：服务完成后凭此换取正式收据或发票。",
                  ("Exchange this temporary receipt for a formal receipt or invoice "
                  "when the service is completed."))
HEADINGS = ("项目 Item", "数量 Qty", "单价 Price", "金额 Amount")


@dataclass(frozen=True, slots=True)
class Payment:
    method: str  #: as staff chose it, e.g. "现金 cash", "挂账 tenant account"
    amount: Decimal
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    kind: ReceiptKind
    number: str  #: given by the store
    issued_at: datetime  #: aware; printed in the site's zone
    customer: str  #: "华夏贸易有限公司 1203室" or a walk-in guest's name
    lines: tuple[Charge, ...]
    currency: str = "CNY"
    payments: tuple[Payment, ...] = ()
    issuer: str = "Business Centre 商务中心"
    staff: str = ""
    ticket: str = ""  #: the service form's number

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    def header_fields(self, zone: ZoneInfo) -> list[tuple[str, str]]:
        fields = [("收据号 No.", self.number),
                  ("日期 Date", f"{self.issued_at.astimezone(zone):%Y-%m-%d %H:%M}"),
                  ("客户 Customer", self.customer)]
        if self.ticket:
            fields.append(("服务单 Ticket", self.ticket))
        if self.staff:
            fields.append(("经办 Staff", self.staff))
        return fields

    def line_cells(self) -> list[tuple[str, str, str, str]]:
        """(item, qty, price, amount) per charge; a note line has no qty or price."""
        cells = []
        for c in self.lines:
            marker = " *" if c.manual else ""
            if c.unit:
                qty, price = f"{c.quantity.normalize():f} {c.unit}", format_price(c.unit_price)
            else:
                qty = price = ""
            cells.append((c.description + marker, qty, price, format_price(c.amount)))
        return cells

    def summary(self) -> list[tuple[str, str]]:
        rows = [(f"合计 Total ({self.currency})", format_price(self.total))]
        for p in self.payments:
            rows.append((f"已付 Paid, {p.method}", format_price(p.amount)))
        if self.payments:
            balance = self.total - self.paid
            if balance > 0:
                rows.append(("应付 Balance due", format_price(balance)))
            elif balance < 0:
                rows.append(("找零 Change", format_price(-balance)))
        return rows


def render_text(receipt: Receipt, zone: ZoneInfo, cells: int = 72) -> str:
    """The receipt as fixed-width text ``cells`` wide (a CJK character is two cells)."""
    rule = "-" * cells
    title_zh, title_en = TITLES[receipt.kind]
    out = [_centre(receipt.issuer, cells), _centre(f"{title_zh}  {title_en}", cells), ""]
    for label, value in receipt.header_fields(zone):
        out += wrap(f"{label}: {value}", cells)
    qty_w, price_w, amount_w = 10, 10, 12
    item_w = cells - qty_w - price_w - amount_w - 3
    widths, aligns = (item_w, qty_w, price_w, amount_w), "<>>>"
    out += [rule, *columns([HEADINGS], widths, aligns), rule]
    out += columns(receipt.line_cells(), widths, aligns)
    out.append(rule)
    for label, amount in receipt.summary():
        out.append(pad(label, cells - amount_w) + pad(amount, amount_w, ">"))
    if any(c.manual for c in receipt.lines):
        out += wrap("* 手工录入 entered by staff", cells)
    if receipt.kind is ReceiptKind.TEMPORARY:
        out += ["", *wrap(TEMPORARY_NOTE[0], cells), *wrap(TEMPORARY_NOTE[1], cells)]
    out += ["", "客户签名 Customer signature: ____________   经办人 Staff: ____________"]
    return "\n".join(line.rstrip() for line in out) + "\n"


def _centre(text: str, cells: int) -> str:
    return " " * max(0, (cells - width(text)) // 2) + text
