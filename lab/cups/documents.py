"""Documents for the tests and the demo, made with fpdf2: 1 and 3 pages, A4 and A3, black or coloured text."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF


def _pdf(path: Path, pages: int, size: str, colour: bool) -> Path:
    pdf = FPDF(format=size)
    pdf.set_font("helvetica", size=36)
    for n in range(1, pages + 1):
        pdf.add_page()
        if colour:
            pdf.set_text_color(200, 30, 30)
        pdf.cell(text=f"{size} page {n} of {pages}")
    pdf.output(str(path))
    path.chmod(0o644)
    return path


def make_documents(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return {f"{pages}p-{size}-{'colour' if colour else 'mono'}":
            _pdf(directory / f"{pages}p-{size}-{'colour' if colour else 'mono'}.pdf",
                 pages, size, colour)
            for pages in (1, 3) for size in ("A4", "A3") for colour in (False, True)}
