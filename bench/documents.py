"""Customers' documents in the cage, beside the same rendering in-process, in the same run.

    .venv/bin/python bench/documents.py [--repeat 5] [--pages 50]

* seconds per job: ``render_job`` (a caged child process: Python, Pillow and fpdf start, then
  Ghostscript in its own scratch dir) against ``render`` + ``save_pages`` in this process (what
  the daemon did before the cage) for a one-page PDF, a ``--pages`` PDF, one page of text and a
  photograph; median of ``--repeat``.
* the caller's memory, measured first: this process's peak RSS growth over a ``--pages``
  PostScript job rendered caged, then in-process (the daemon's memory is what the cage protects).
"""

from __future__ import annotations

import argparse
import io
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from drivers.cage import Limits  # noqa: E402
from drivers.fax.documents import render, render_job, save_pages  # noqa: E402


def pdf(pages: int) -> bytes:
    doc = FPDF(format="A4")
    doc.set_font("helvetica", size=12)
    for n in range(pages):
        doc.add_page()
        for line in range(40):
            doc.cell(0, 6, f"page {n + 1}, line {line + 1}: the quick brown fox jumps over the lazy dog",
                     new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def photo() -> bytes:
    image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    ImageDraw.Draw(image).ellipse((300, 200, 1200, 1000), fill=(200, 30, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def median_s(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    limits = Limits(pages=max(100, args.pages))
    samples = {"1-page PDF": ("a.pdf", pdf(1)), f"{args.pages}-page PDF": ("b.pdf", pdf(args.pages)),
               "1 page of text": ("c.txt", ("商务中心 business centre fax. " * 60).encode()),
               "photo 1600x1200 JPEG": ("d.jpg", photo())}
    with tempfile.TemporaryDirectory() as folder:
        place = Path(folder)
        program = f"%!PS\n/Helvetica findfont 30 scalefont setfont\n1 1 {args.pages} {{ 72 700 moveto " \
                  "(a page of the job) show 72 72 468 600 rectstroke showpage pop }} for\n".replace("}}", "}")
        (place / "job.ps").write_bytes(program.encode())
        before = peak_mb()
        render_job([("job.ps", program.encode())], place / "caged.tif", limits)
        caged_growth = peak_mb() - before
        before = peak_mb()
        save_pages(place / "inline.tif", render(place / "job.ps", limits=limits))
        inline_growth = peak_mb() - before
        print(f"peak RSS growth of the caller over a {args.pages}-page PostScript job: "
              f"caged {caged_growth:.0f} MB, in-process {inline_growth:.0f} MB")
        print(f"{'document':24} {'caged child':>12} {'in-process':>12} {'ratio':>6}")
        for label, (name, content) in samples.items():
            source = place / name
            source.write_bytes(content)
            caged = median_s(lambda: render_job([(name, content)], place / "caged.tif", limits), args.repeat)
            inline = median_s(lambda: save_pages(place / "inline.tif", render(source, limits=limits)), args.repeat)
            print(f"{label:24} {caged:11.2f}s {inline:11.2f}s {caged / inline:5.2f}x")


if __name__ == "__main__":
    main()
