"""Column widths for text that mixes Chinese and Latin: a CJK character takes two cells.

East Asian Ambiguous characters (→ ×) are counted one cell wide, as in a UTF-8 terminal and on
receipt printers in their Latin mode.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    cells = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        cells += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return cells


def pad(text: str, cells: int, align: str = "<") -> str:
    """``text`` padded with spaces to ``cells`` display cells (``<`` left, ``>`` right)."""
    gap = " " * max(0, cells - width(text))
    return text + gap if align == "<" else gap + text


def wrap(text: str, cells: int) -> list[str]:
    """Break ``text`` into lines of at most ``cells``: at spaces where possible, anywhere in a
    run of CJK characters (Chinese has no spaces to break at), mid-word only as a last resort."""
    lines: list[str] = []
    line = ""
    for word in _words(text):
        candidate = line + word
        if width(candidate.rstrip()) <= cells:
            line = candidate
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = word.lstrip()
        while width(line) > cells:  # a single word wider than the column
            cut = _fit(line, cells)
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _words(text: str) -> list[str]:
    """Words with their trailing space; each wide character is a word of its own."""
    words: list[str] = []
    current = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if current:
                words.append(current)
            words.append(ch)
            current = ""
        else:
            current += ch
            if ch == " ":
                words.append(current)
                current = ""
    if current:
        words.append(current)
    return words


def _fit(text: str, cells: int) -> int:
    used = 0
    for i, ch in enumerate(text):
        used += width(ch)
        if used > cells:
            return max(i, 1)
    return len(text)


def columns(rows: Sequence[Sequence[str]], widths: Sequence[int], aligns: str,
            gap: str = " ") -> list[str]:
    """Rows of cells laid out in fixed columns; a cell too long for its column wraps onto the
    following lines of its column (only the first column is expected to)."""
    out: list[str] = []
    for row in rows:
        cells = [wrap(cell, w) for cell, w in zip(row, widths)]
        for i in range(max(len(c) for c in cells)):
            parts = [pad(c[i] if i < len(c) else "", w, a) for c, w, a in zip(cells, widths, aligns)]
            out.append(gap.join(parts))
    return out


def fit_widths(rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
