"""Count the pages of PDF and PostScript documents with Ghostscript.

PDF: Ghostscript's ``pdfpagecount`` reads the page tree only. Starting Ghostscript costs ~50 ms
and counting a page tree ~3 ms, so a burst of jobs is counted by one Ghostscript run over all of
their documents (200 one-page PDFs: 0.7 s), each wrapped in ``stopped`` so a corrupt file
yields "failed" for itself only. PostScript: the page count is only known by running the
program, so it is rendered on the ``bbox`` device, which prints one ``%%BoundingBox`` per page;
DSC ``%%Pages:`` comments are not trusted because applications get them wrong often enough.
Both run caged (``drivers.cage``): the documents are copied into a scratch dir that is all the
program may see, within the site's limits; a PostScript job is stopped at its first page past
the page limit.
Anything else (PCL, raster, text sent to a raw queue) cannot be counted here: ``pages=None``.
"""

from __future__ import annotations

import enum
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers import cage
from drivers.cage import Limits, LimitExceeded
from drivers.cups.errors import PageCountError

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


def count_pages(path: Path, limits: Limits = Limits()) -> int | None:
    """Pages of one document; None for formats we cannot count; PageCountError if it failed."""
    (result,) = count_many([path], limits)
    if result.problem is not None:
        raise PageCountError(f"{path}: {result.problem}")
    return result.pages


def count_many(paths: Sequence[Path], limits: Limits = Limits()) -> list[DocumentPages]:
    """Pages of each document, in order; one Ghostscript run for all the PDFs."""
    kinds = {p: sniff(p) for p in paths}
    pdf_counts = _count_pdfs([p for p in paths if kinds[p] is DocumentKind.PDF], limits)
    results = []
    for p in paths:
        if kinds[p] is DocumentKind.PDF:
            results.append(pdf_counts[p])
        elif kinds[p] is DocumentKind.POSTSCRIPT:
            results.append(_count_postscript(p, limits))
        else:
            results.append(DocumentPages(p, None))
    return results


def _count_pdfs(paths: list[Path], limits: Limits) -> dict[Path, DocumentPages]:
    if not paths:
        return {}
    with cage.scratch(prefix="gatewayd-count-") as place:
        copies = [place / f"{i}.pdf" for i in range(len(paths))]
        for path, copy in zip(paths, copies, strict=True):
            shutil.copyfile(path, copy)
        lines = [f"{{ ({c}) (r) file runpdfbegin ({_MARK} ) print pdfpagecount = "
                 f"runpdfend }} stopped {{ ({_MARK} -1) = clear }} if" for c in copies]
        (place / "count.ps").write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            done = _gs(place, limits, ["-dNODISPLAY", str(place / "count.ps")])
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


def _count_postscript(path: Path, limits: Limits) -> DocumentPages:
    with cage.scratch(prefix="gatewayd-count-") as place:
        shutil.copyfile(path, place / "document.ps")

        def watch() -> None:  # bbox prints one line per page on stderr
            if (place / ".stderr").read_bytes().count(b"%%BoundingBox:") > limits.pages:
                raise LimitExceeded("pages", f"more than {limits.pages} pages")

        try:
            done = _gs(place, limits, ["-sDEVICE=bbox", str(place / "document.ps")], watch)
        except PageCountError as err:
            return DocumentPages(path, None, str(err))
    return DocumentPages(path, done.stderr.count("%%BoundingBox:"))


def _gs(place: Path, limits: Limits, args: list[str],
        watch: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        done = cage.run([*cage.gs_argv(place), *args], place, limits, watch=watch)
    except cage.CageError as err:
        raise PageCountError(str(err)) from err
    except OSError as err:
        raise PageCountError(f"Ghostscript did not run: {err}") from err
    if done.returncode != 0:
        raise PageCountError(f"Ghostscript exited {done.returncode}: {cage.gs_reason(done)}")
    return done
