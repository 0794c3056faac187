"""Count the pages of PDF and PostScript documents with Ghostscript.

PDF: Ghostscript's ``pdfpagecount`` reads the page tree only. Starting Ghostscript costs ~50 ms
and counting a page tree ~3 ms, so a burst of jobs is counted by one Ghostscript run over all of
their documents (200 one-page PDFs: 0.7 s), each wrapped in ``stopped`` so a corrupt file
yields "failed" for itself only. PostScript: the page count is only known by running the
program, so it is rendered on the ``bbox`` device, which prints one ``%%BoundingBox`` per page;
DSC ``%%Pages:`` comments are not trusted because applications get them wrong often enough.
Anything else (PCL, raster, text sent to a raw queue) cannot be counted here: ``pages=None``.
"""

from __future__ import annotations

import enum
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers.cups.errors import PageCountError

GS = "gs"
TIMEOUT_S = 120.0
_MARK = "GATEWAYD-PAGES"


class DocumentKind(enum.Enum):
    PDF = "pdf"
    POSTSCRIPT = "postscript"
    OTHER = "other"


@dataclass(frozen=True)
class DocumentPages:
    path: Path
    #: None: a format we do not count, or counting failed (then ``problem`` says why).
    pages: int | None
    problem: str | None = None


def sniff(path: Path) -> DocumentKind:
    """By content, not by the client's document-format (often application/octet-stream)."""
    with path.open("rb") as f:
        head = f.read(1024)
    # A PDF may have junk (a PJL header, a BOM) before its header; 1 KiB is what readers allow.
    if b"%PDF-" in head:
        return DocumentKind.PDF
    if head.startswith((b"%!", b"\x04%!")):
        return DocumentKind.POSTSCRIPT
    return DocumentKind.OTHER


def count_pages(path: Path) -> int | None:
    """Pages of one document; None for formats we cannot count; PageCountError if it failed."""
    (result,) = count_many([path])
    if result.problem is not None:
        raise PageCountError(f"{path}: {result.problem}")
    return result.pages


def count_many(paths: Sequence[Path]) -> list[DocumentPages]:
    """Pages of each document, in order; one Ghostscript run for all the PDFs."""
    kinds = {p: sniff(p) for p in paths}
    pdf_counts = _count_pdfs([p for p in paths if kinds[p] is DocumentKind.PDF])
    results = []
    for p in paths:
        if kinds[p] is DocumentKind.PDF:
            results.append(pdf_counts[p])
        elif kinds[p] is DocumentKind.POSTSCRIPT:
            results.append(_count_postscript(p))
        else:
            results.append(DocumentPages(p, None))
    return results


def _ps_string(path: Path) -> str:
    return str(path).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _count_pdfs(paths: list[Path]) -> dict[Path, DocumentPages]:
    if not paths:
        return {}
    lines = [f"{{ ({_ps_string(p)}) (r) file runpdfbegin ({_MARK} ) print pdfpagecount = "
             f"runpdfend }} stopped {{ ({_MARK} -1) = clear }} if" for p in paths]
    with tempfile.NamedTemporaryFile("w", suffix=".ps", prefix="gatewayd-count-") as prog:
        prog.write("\n".join(lines) + "\n")
        prog.flush()
        permit = [f"--permit-file-read={p}" for p in paths]
        try:
            done = _gs(["-dNODISPLAY", *permit, prog.name])
        except PageCountError as err:
            return {p: DocumentPages(p, None, str(err)) for p in paths}
    counts = [line.split()[1] for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if len(counts) != len(paths):  # the interpreter lost its way: say so for every file
        problem = f"Ghostscript printed {len(counts)} counts for {len(paths)} files"
        return {p: DocumentPages(p, None, problem) for p in paths}
    # A damaged PDF is "repaired" by Ghostscript into 0 pages: that is a failure, not a count.
    return {p: DocumentPages(p, int(c)) if c.isdigit() and int(c) > 0
            else DocumentPages(p, None, "Ghostscript found no pages (damaged PDF?)")
            for p, c in zip(paths, counts, strict=True)}


def _count_postscript(path: Path) -> DocumentPages:
    try:
        done = _gs(["-dNOPAUSE", "-sDEVICE=bbox", str(path)])
    except PageCountError as err:
        return DocumentPages(path, None, str(err))
    return DocumentPages(path, done.stderr.count("%%BoundingBox:"))


def _gs(args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run([GS, "-q", "-dBATCH", "-dSAFER", *args], capture_output=True,
                              text=True, errors="replace", timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PageCountError(f"Ghostscript did not run: {err}") from err
    if done.returncode != 0:
        raise PageCountError(f"Ghostscript exited {done.returncode}: "
                             f"{done.stderr.strip()[-300:]}")
    return done
