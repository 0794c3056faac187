"""Fax benchmarks, each printed beside a baseline measured in the same run.

    .venv/bin/python bench/fax.py [--part encode] [--repeat 5]

Parts (``PARTS``; add one by writing a function that takes the parsed arguments and prints):

* ``encode`` -- our pure-Python T.4/T.6 encoder on a page of text and on a dense page (a
  dithered photograph, the worst case for run-length codes), in pages per second, beside
  Ghostscript alone rasterising the same page straight to G3 (``-sDEVICE=tiffg3``). The bitmap we
  encode is Ghostscript's own rendering of that page (``pbmraw``), so both do the same image.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from drivers.fax.documents import A4_LINES, render, text_pdf  # noqa: E402
from drivers.fax.frames import Coding, Resolution  # noqa: E402
from drivers.fax.t4 import EncodeOptions, decode, encode, min_line_bits  # noqa: E402

FINE = Resolution.FINE
LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua. 商务中心传真服务 0123456789. ")


def _best(seconds: Callable[[], float], repeat: int) -> float:
    """Median of ``repeat`` timings: robust against the other work on a shared machine."""
    return statistics.median(seconds() for _ in range(repeat))


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _sample_pdfs(folder: Path) -> dict[str, Path]:
    text = folder / "text.pdf"
    text.write_bytes(text_pdf("\n\n".join(LOREM * 6 for _ in range(9))))
    photo = Image.radial_gradient("L").resize((1200, 1600))
    draw = ImageDraw.Draw(photo)
    for i in range(0, 1200, 60):
        draw.line((i, 0, 1200 - i, 1600), fill=(i * 7) % 256, width=9)
    photo.save(folder / "photo.png")
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(str(folder / "photo.png"), x=0, y=0, w=210, h=297)
    dense = folder / "dense.pdf"
    dense.write_bytes(bytes(pdf.output()))
    return {"text page": text, "dense page": dense}


def _gs_to_tiffg3(pdf: Path, out: Path) -> None:
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=tiffg3",
                    "-r204x196", f"-g1728x{A4_LINES[FINE]}", "-dFIXEDMEDIA", "-dPDFFitPage",
                    f"-sOutputFile={out}", str(pdf)], check=True, capture_output=True)


def bench_encode(args: argparse.Namespace) -> None:
    if shutil.which("gs") is None:
        sys.exit("Ghostscript (gs) is needed for the baseline")
    print(f"## encode: fine resolution (1728 x {A4_LINES[FINE]}), median of {args.repeat}")
    header = (f"{'page':<11} {'coding':<14} {'ours pages/s':>13} {'gs->tiffg3 pages/s':>19} "
              f"{'ours/gs time':>13} {'octets':>8}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="bench-fax-") as scratch:
        folder = Path(scratch)
        for name, pdf in _sample_pdfs(folder).items():
            bitmap = render(pdf, FINE)[0].bitmap
            gs_seconds = _best(lambda: _timed(lambda: _gs_to_tiffg3(pdf, folder / "gs.tif")),
                               args.repeat)
            for label, options in (
                ("MH", EncodeOptions()),
                ("MH fill 10 ms", EncodeOptions(min_line_bits=min_line_bits(14400, 10))),
                ("MR k=4", EncodeOptions(coding=Coding.MR, k=4)),
                ("MMR", EncodeOptions(coding=Coding.MMR)),
            ):
                data = encode(bitmap, options)
                assert decode(data, options.coding).bitmap == bitmap  # timing a correct coder
                ours = _best(lambda: _timed(lambda: encode(bitmap, options)), args.repeat)
                print(f"{name:<11} {label:<14} {1 / ours:>13.1f} {1 / gs_seconds:>19.1f} "
                      f"{ours / gs_seconds:>12.2f}x {len(data):>8}")
            decode_seconds = _best(lambda: _timed(lambda: decode(encode(bitmap))), args.repeat)
            print(f"{name:<11} {'MH decode':<14} {1 / decode_seconds:>13.1f}")


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    "encode": bench_encode,
    # "end-to-end": seconds per page through the lab's faxmodem (the T.30 engineer's part).
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(PARTS), action="append",
                        help="run only this part (repeatable); default: all")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for part in args.part or list(PARTS):
        PARTS[part](args)
        print()


if __name__ == "__main__":
    main()
