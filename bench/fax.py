"""Fax benchmarks, each printed beside a baseline measured in the same run.

    .venv/bin/python bench/fax.py [--part encode] [--repeat 5]

Parts (``PARTS``; add one by writing a function that takes the parsed arguments and prints):

* ``encode`` -- our pure-Python T.4/T.6 encoder on a page of text and on a dense page (a
  dithered photograph, the worst case for run-length codes), in pages per second, beside
  Ghostscript alone rasterising the same page straight to G3 (``-sDEVICE=tiffg3``). The bitmap we
  encode is Ghostscript's own rendering of that page (``pbmraw``), so both do the same image.
* ``end-to-end`` -- line seconds per page through the lab (our FaxModem dialling the spandsp
  far end at V.17 14400, with and without ECM), beside the line-rate limit for that page: its
  coded size in bits / 14400 plus the T.30 signalling a page costs (training, the post-page
  exchange; under ECM the HDLC framing and PPS/MCF per block). Seconds per page are the
  difference between a 2-page and a 1-page call, as the far end counts line time (8 kHz
  samples), so call set-up and pacing cancel out. The ratio is the figure: 1.00 would mean
  nothing but the line's bit rate limits us.
* ``peers`` -- the same 2-page document (the text page twice) sent through the same lab far end
  by gatewayd (Class 1 MR, Class 1 with ECM and MMR, Class 2.0 through the lab's Class 2.0 modem)
  and by efax (Class 1, Class 2.0), in line seconds per page (2-page minus 1-page call) and per
  call (the 2-page call, set-up included), beside the line-rate limit of the page MR-coded.
  ours / efax is the figure. efax codes MH and has no ECM; in Class 2.0 the modem codes the line
  itself (the lab's: spandsp, MR), so there the two should tie. efax puts 20 header lines above
  each page, ~1 % more rows.
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog  # noqa: E402
from fpdf import FPDF  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from drivers.fax.channel import FlowControl  # noqa: E402
from drivers.fax.config import ModemConfig  # noqa: E402
from drivers.fax.documents import A4_LINES, FaxPage, render, text_pdf  # noqa: E402
from drivers.fax.frames import Coding, Resolution, Session, Speed  # noqa: E402
from drivers.fax.class2_modem import Class2FaxModem  # noqa: E402
from drivers.fax.modem import FaxModem  # noqa: E402
from drivers.fax.t4 import EncodeOptions, decode, encode, min_line_bits  # noqa: E402
from lab.faxmodem.peer import FaxPeer, PeerOptions  # noqa: E402

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


# ---- end-to-end ------------------------------------------------------------------------------

RATE = 14400
V21_PREAMBLE_S = 1.0  #: T.30 5.3.1: 1 s of flags before each V.21 burst
GAP_S = 0.075  #: T.30 5.3.2.3: 75 ms of silence between a signal and its answer
V17_SHORT_TRAIN_S = 0.142  #: V.17 short training (ITU-T V.17 Table 5, ~142 ms)
ECM_PREAMBLE_S = 0.2  #: our flags before the first ECM frame (``ecm.PREAMBLE_SECONDS``)
FRAME_OVERHEAD = 7  #: an ECM frame's address, control, FCD, number, FCS (2) and flag
PACING = 3.0  #: the lab's speed-up; our T.30 timers are scaled to match


def _v21(octets: int) -> float:
    """One V.21 burst of one frame: preamble, the frame with FCS and closing flag at 300 bit/s."""
    return V21_PREAMBLE_S + (octets + 3) * 8 / 300


def page_limit(octets: int, ecm: bool) -> tuple[float, float]:
    """Line seconds a page needs at 14400 bit/s: (image bits / rate, everything else)."""
    image = octets * 8 / RATE
    if not ecm:  # short training, the page, MPS + MCF
        return image, GAP_S + V17_SHORT_TRAIN_S + 2 * GAP_S + _v21(3) + _v21(3)
    frames = math.ceil(octets / 256)
    blocks = math.ceil(frames / 256)
    framing = (ECM_PREAMBLE_S * RATE / 8 + frames * FRAME_OVERHEAD + blocks * 3 * 6) * 8 / RATE
    # per block: short training, the frames, PPS (7 octets) + MCF
    per_block = GAP_S + V17_SHORT_TRAIN_S + 2 * GAP_S + _v21(7) + _v21(3)
    return image, framing + blocks * per_block


def _line_seconds(pages: list[FaxPage], ecm: bool, workdir: Path,
                  fax_class: str = "1") -> tuple[float, str]:
    peer = FaxPeer.start(workdir, PeerOptions(fclass=fax_class, speed=PACING, ecm=True,
                                              timeout_s=1800))
    try:
        cfg = ModemConfig(name="bench", port=str(peer.pty), fax_class=fax_class,
                          flow_control=FlowControl.NONE, lock_dir=str(workdir),
                          station_id="BENCH", timer_scale=1 / PACING, ecm=ecm)
        with (FaxModem(cfg) if fax_class == "1" else Class2FaxModem(cfg)) as modem:
            call = modem.send_fax(pages, "5550199")
        far = peer.wait_call(60)
    finally:
        peer.stop()
    outcome = "ok" if call.status.value == "completed" and far["status"] == "OK" else \
        f"{call.hangup.code.value}/{far['status']}"
    return float(far["line_seconds"]), outcome


def _efax_line_seconds(tiffs: list[Path], fax_class: str, workdir: Path) -> tuple[float, str]:
    peer = FaxPeer.start(workdir, PeerOptions(fclass=fax_class, speed=PACING, ecm=True,
                                              timeout_s=1800))
    try:
        sent = subprocess.run(["efax", "-d", str(peer.pty), "-o" + ("1" if fax_class == "1" else "0"),
                               "-l", "BENCH", "-t", "5550199", *map(str, tiffs)],
                              cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
        far = peer.wait_call(60)
    finally:
        peer.stop()
    outcome = "ok" if sent.returncode == 0 and far["status"] == "OK" else \
        f"efax {sent.returncode}/{far['status']}"
    return float(far["line_seconds"]), outcome


def bench_end_to_end(args: argparse.Namespace) -> None:
    print(f"## end-to-end: fine A4 pages through the lab at V.17 {RATE}, paced {PACING:g}x; "
          "line seconds (the far end's sample count)")
    header = (f"{'page':<11} {'mode':<10} {'octets':>8} {'limit s/page':>13} {'(image+sig)':>14} "
              f"{'ours s/page':>12} {'ours/limit':>11} {'1-page call s':>14}")
    print(header)
    print("-" * len(header))
    # The modem logs every command at debug level: keep the table readable.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory(prefix="bench-fax-e2e-") as scratch:
        folder = Path(scratch)
        samples = _sample_pdfs(folder)
        for name in args.e2e_pages:
            page = render(samples[f"{name} page"], FINE)[0]
            for mode in args.e2e_modes:
                ecm = mode == "ECM MMR"
                session = Session(Speed.V17_14400, FINE, Coding.MMR if ecm else Coding.MR,
                                  ecm=ecm)
                octets = len(page.encode(session))
                image, signalling = page_limit(octets, ecm)
                one, ok1 = _line_seconds([page], ecm, folder / f"{name}-{mode}-1".replace(" ", ""))
                two, ok2 = _line_seconds([page, page], ecm,
                                         folder / f"{name}-{mode}-2".replace(" ", ""))
                per_page = two - one
                limit = image + signalling
                note = "" if ok1 == ok2 == "ok" else f"  ({ok1}, {ok2})"
                print(f"{name:<11} {mode:<10} {octets:>8} {limit:>13.1f} "
                      f"{f'{image:.1f}+{signalling:.1f}':>14} {per_page:>12.1f} "
                      f"{per_page / limit:>10.2f}x {one:>14.1f}{note}", flush=True)


def bench_peers(args: argparse.Namespace) -> None:
    if shutil.which("efax") is None or shutil.which("efix") is None:
        sys.exit("bench peers: efax/efix missing (scripts/debian-packages.txt)")
    print(f"## peers: the text page, fine, through the lab at up to V.17 {RATE}, paced {PACING:g}x; "
          "line seconds (the far end's sample count)")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory(prefix="bench-fax-peers-") as scratch:
        folder = Path(scratch)
        page = render(_sample_pdfs(folder)["text page"], FINE)[0]
        image, signalling = page_limit(len(page.encode(Session(Speed.V17_14400, FINE, Coding.MR))),
                                       ecm=False)
        page.bitmap.to_image().save(folder / "page.pbm")
        subprocess.run(["efix", "-i", "pbm", "-o", "tiffg3", "-n", str(folder / "page.%03d"),
                        str(folder / "page.pbm")], check=True, capture_output=True)
        efax_page = folder / "page.001"
        runs: list[tuple[str, str, Callable[[int, Path], tuple[float, str]]]] = [
            ("gatewayd", "Class 1 MR", lambda n, d: _line_seconds([page] * n, False, d)),
            ("gatewayd", "Class 1 ECM MMR", lambda n, d: _line_seconds([page] * n, True, d)),
            ("gatewayd", "Class 2.0", lambda n, d: _line_seconds([page] * n, False, d, "2.0")),
            ("efax", "Class 1 MH", lambda n, d: _efax_line_seconds([efax_page] * n, "1", d)),
            ("efax", "Class 2.0", lambda n, d: _efax_line_seconds([efax_page] * n, "2.0", d)),
        ]
        results: dict[tuple[str, str], tuple[float, float, str]] = {}
        for sender, mode, run in runs:
            one, ok1 = run(1, folder / f"{sender}-{mode}-1".replace(" ", ""))
            two, ok2 = run(2, folder / f"{sender}-{mode}-2".replace(" ", ""))
            results[sender, mode] = (two - one, two, "" if ok1 == ok2 == "ok" else f"({ok1}, {ok2})")
        limit = image + signalling
        header = (f"{'sender':<9} {'class/coding':<16} {'s/page':>7} {'/limit':>7} "
                  f"{'2-page call s':>14} {'ours/efax page':>15} {'ours/efax call':>15}")
        print(f"line-rate limit of the page (MR): {limit:.1f} s ({image:.1f} image + "
              f"{signalling:.1f} signalling)")
        print(header)
        print("-" * len(header))
        efax = {"1": results["efax", "Class 1 MH"], "2.0": results["efax", "Class 2.0"]}
        for (sender, mode), (per_page, call, note) in results.items():
            base = efax["2.0" if "2.0" in mode else "1"]
            ratio = (f"{per_page / base[0]:>14.2f}x {call / base[1]:>14.2f}x"
                     if sender == "gatewayd" else f"{'':>15} {'':>15}")
            print(f"{sender:<9} {mode:<16} {per_page:>7.1f} {per_page / limit:>6.2f}x "
                  f"{call:>14.1f} {ratio} {note}", flush=True)


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    "encode": bench_encode,
    "end-to-end": bench_end_to_end,
    "peers": bench_peers,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(PARTS), action="append",
                        help="run only this part (repeatable); default: all")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--e2e-pages", nargs="+", default=["text", "dense"],
                        choices=["text", "dense"], help="end-to-end: which pages")
    parser.add_argument("--e2e-modes", nargs="+", default=["MR", "ECM MMR"],
                        choices=["MR", "ECM MMR"], help="end-to-end: with and/or without ECM")
    args = parser.parse_args()
    for part in args.part or list(PARTS):
        PARTS[part](args)
        print()


if __name__ == "__main__":
    main()
