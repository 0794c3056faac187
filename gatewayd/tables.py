"""Plain-text tables for gatewayctl that line up with Chinese and English text alike."""

from __future__ import annotations

from typing import Sequence

from gatewayd.textwidth import pad, width


def render(headers: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Sequence[int] = ()) -> str:
    """Columns listed in ``numeric`` are right-aligned (amounts, counts)."""
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(pad(c, widths[i], ">" if i in numeric else "<") for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
