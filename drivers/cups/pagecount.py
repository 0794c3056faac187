"""Count the pages of a PDF or PostScript document with Ghostscript.

PDF: Ghostscript's ``pdfpagecount`` reads the page tree only (~50 ms). PostScript: the page
count is only known by running the program, so it is rendered on the ``bbox`` device, which
prints one ``%%BoundingBox`` per page; DSC ``%%Pages:`` comments are not trusted because
applications write them wrong often enough. Anything else (PCL, raster, text sent to a raw
queue) cannot be counted here: ``None``.
"""

from __future__ import annotations

import enum
import subprocess
from pathlib import Path

from drivers.cups.errors import PageCountError

GS = "gs"
TIMEOUT_S = 60.0


class DocumentKind(enum.Enum):
    PDF = "pdf"
    POSTSCRIPT = "postscript"
    OTHER = "other"


def sniff(path: Path) -> DocumentKind:
    """By content, not by the client's document-format (often application/octet-stream)."""
    with path.open("rb") as f:
        head = f.read(1024)
    # A PDF may have junk (a PJL header, a BOM) before its header; 1 KiB is what readers allow.
    if b"%PDF-" in head:
        return DocumentKind.PDF
    if head.startswith(b"%!") or head.startswith(b"\x04%!"):
        return DocumentKind.POSTSCRIPT
    return DocumentKind.OTHER


def count_pages(path: Path) -> int | None:
    """Pages of the document at ``path``; None when its format is not one we can count."""
    kind = sniff(path)
    if kind is DocumentKind.PDF:
        out = _gs(["-dNODISPLAY", f"--permit-file-read={path}", "-c",
                   f"({_ps_string(path)}) (r) file runpdfbegin pdfpagecount = quit"], path)
        try:
            return int(out.stdout.split()[-1])
        except (IndexError, ValueError) as err:
            raise PageCountError(f"{path}: Ghostscript printed no page count: "
                                 f"{out.stdout[-200:]!r}") from err
    if kind is DocumentKind.POSTSCRIPT:
        out = _gs(["-dNOPAUSE", "-sDEVICE=bbox", str(path)], path)
        return out.stderr.count("%%BoundingBox:")
    return None


def _ps_string(path: Path) -> str:
    return str(path).replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _gs(args: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run([GS, "-q", "-dBATCH", "-dSAFER", *args], capture_output=True,
                              text=True, errors="replace", timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PageCountError(f"{path}: Ghostscript did not run: {err}") from err
    if done.returncode != 0:
        raise PageCountError(f"{path}: Ghostscript exited {done.returncode}: "
                             f"{done.stderr.strip()[-300:]}")
    return done
