"""Test helpers for the fax driver: a scripted fake modem on a pseudo-terminal."""

from __future__ import annotations

import os
import random
import select
import threading
import tty


class ScriptedModem:
    """Plays the modem's side of an AT transcript on the master end of a pty.

    ``script`` is a list of ``(expect, reply)``: wait until the DTE has written ``expect``
    (``None``: don't wait), then write ``reply``. Everything the DTE wrote is kept in
    :attr:`received`. Written in the spirit of spandsp's ``t31_tests.c`` tables.
    """

    def __init__(self, script: list[tuple[bytes | None, bytes]]):
        self.script = list(script)
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.received = bytearray()
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ScriptedModem:
        self._thread.start()
        return self

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            self.received += os.read(self.master, 4096)
        except OSError:
            self._stop.set()
            return False
        return True

    def _run(self) -> None:
        seen = 0
        for expect, reply in self.script:
            if expect is not None:
                while self.received.find(expect, seen) < 0:
                    if self._stop.is_set():
                        return
                    self._read(0.05)
                seen = self.received.find(expect, seen) + len(expect)
            if reply:
                os.write(self.master, reply)
        while not self._stop.is_set():
            self._read(0.05)

    def hang_up(self) -> None:
        """Close the master: the DTE's next read or write on the slave fails (like an unplug)."""
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


# ---------------------------------------------------------------- two engines back to back

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image, ImageDraw

from drivers.fax import class1, frames, t4, t30_table
from drivers.fax.documents import FaxPage
from drivers.fax.t30 import T30Engine

V21_PREAMBLE = 1.0  # s of flags before the first frame (T.30 5.3.1)
TRAINING = 1.4  # s, V.17 long training, near enough for all modulations


@dataclass
class Transmission:
    """One carrier on the simulated line."""

    side: int
    start: float
    end: float
    frames: tuple[bytes, ...] = ()  # V.21 HDLC frames, FCS included (as +FRH delivers them)
    image: bytes | None = None
    speed: frames.Speed | None = None
    bad_fcs: int = 0
    label: str = ""


#: A manipulator sees each transmission (and how many came before on that side) and returns it,
#: a changed copy, or None to lose it -- pymodbus' NullModem.set_manipulator, for fax.
Manipulator = Callable[[Transmission, int], "Transmission | None"]


@dataclass
class BackToBack:
    """Two engines joined by a simulated line in virtual time. ``busy``/``no_answer`` make the
    sender's Dial fail like the network would."""

    a: T30Engine
    b: T30Engine
    manipulator: Manipulator | None = None
    busy: bool = False
    no_answer: bool = False
    now: float = 0.0
    line: list[Transmission] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    hung_up: set[int] = field(default_factory=set)

    def run(self, limit: float = 600.0) -> None:
        engines = (self.a, self.b)
        pending: list[tuple[class1.Command | None, float]] = []
        for i, eng in enumerate(engines):
            cmd = eng.start(0.0)
            pending.append((cmd, 0.0))
            self._post(i, cmd, 0.0)
        while any(cmd is not None for cmd, _ in pending):
            options = [(self._completion(i, cmd, at), i) for i, (cmd, at) in enumerate(pending)
                       if cmd is not None]
            (when, event), i = min(options, key=lambda o: o[0][0])
            assert when <= limit, f"simulation ran past {limit}s: {self.log[-10:]}"
            self.now = when
            self.log.append(f"{when:7.2f} {'AB'[i]} {type(pending[i][0]).__name__} -> {event!r:.80}")
            cmd = engines[i].handle(event, when)
            pending[i] = (cmd, when)
            if cmd is not None:
                self._post(i, cmd, when)
        for eng in engines:  # every step the engines took is a row of the declared machine
            for at, before, signal, after in eng.trace:
                row = t30_table.transition(before, signal)
                assert after in row.to, (f"{eng.role.value} at {at:.2f}: {before.name} --{signal.name}--> "
                                         f"{after.name} by {row.action.__name__}, declared {sorted(t.name for t in row.to)}")

    # each side's transmissions go on the line when the command is posted
    def _post(self, side: int, cmd: class1.Command, at: float) -> None:
        match cmd:
            case class1.SendFrames() | class1.Answer() as c:
                fs = c.frames
                # after ATA the modem sends ~3 s of CED first (T.30 4.2.2.1)
                start = at + (3.0 if isinstance(c, class1.Answer) else c.silence_ms / 1000)
                raw = tuple(frames.encode(f, c.x_bit) for f in fs)
                raw = tuple(r + frames.fcs(r) for r in raw)
                dur = V21_PREAMBLE + sum(len(r) for r in raw) * 8 / 300
                self._add(Transmission(side, start, start + dur, frames=raw,
                                       label="+".join(f.fcf.name for f in fs)))
            case class1.SendImage(speed=speed, data=data, silence_ms=ms):
                start = at + ms / 1000
                dur = TRAINING + len(data) * 8 / speed.bit_rate
                self._add(Transmission(side, start, start + dur, image=data, speed=speed,
                                       label=f"image {len(data)}B @{speed.bit_rate}"))
            case class1.HangUp():
                self.hung_up.add(side)

    def _add(self, t: Transmission) -> None:
        if self.manipulator is not None:
            count = sum(1 for x in self.line if x.side == t.side)
            changed = self.manipulator(t, count)
            self.line.append(replace(t, frames=(), image=None, label="(lost) " + t.label)
                             if changed is None else changed)
            return
        self.line.append(t)

    def _incoming(self, side: int, after: float) -> Transmission | None:
        for t in self.line:
            if t.side != side and t.end > after and not t.label.startswith("(lost)"):
                return t
        return None

    def _completion(self, side: int, cmd: class1.Command, at: float):
        other = 1 - side
        match cmd:
            case class1.Dial(timeout=timeout):
                if self.busy:
                    return at + 5, class1.CallFailed("BUSY")
                if self.no_answer:
                    return at + timeout, class1.CallFailed("NO ANSWER")
                return self._receive_frames(side, at, timeout)
            case class1.Answer() | class1.SendFrames() | class1.SendImage():
                mine = [t for t in self.line if t.side == side]
                return mine[-1].end, class1.Done()
            case class1.ReceiveFrames(timeout=timeout):
                return self._receive_frames(side, at, timeout)
            case class1.ReceiveImage(speed=speed, timeout=timeout):
                t = self._incoming(side, at)
                if other in self.hung_up and (t is None or t.start > at + timeout):
                    return at + 0.1, class1.CarrierLost("NO CARRIER")
                if t is None or t.start > at + timeout:
                    return at + timeout, class1.TimedOut()
                if t.image is None:
                    return max(at, t.start) + 0.3, class1.WrongCarrier()
                if t.speed is not speed:
                    return at + timeout, class1.TimedOut()
                return t.end, class1.ImageReceived(t.image)
            case class1.HangUp():
                return at + 0.1, class1.Done()
        raise AssertionError(cmd)

    def _receive_frames(self, side: int, at: float, timeout: float):
        # A V.21 receiver does not see a high-speed carrier: skip images, take the next frames.
        t = next((t for t in self.line if t.side != side and t.end > at and t.image is None
                  and not t.label.startswith("(lost)")), None)
        if (1 - side) in self.hung_up and (t is None or t.start > at + timeout):
            return at + 0.1, class1.CarrierLost("NO CARRIER")
        if t is None or t.start > at + timeout:
            return at + timeout, class1.TimedOut()
        return t.end, class1.FramesReceived(t.frames, t.bad_fcs)


# ---------------------------------------------------------------- test pages


def bar_bitmap(rows: int = 1145, bar_every: int = 40, width: int = t4.A4_WIDTH) -> t4.Bitmap:
    """White rows with a centred 64-pel black bar every ``bar_every`` rows: cheap to code, and
    long enough on the line (MH ~30 bits a row) to place a noise window inside it."""
    stride = width // 8
    blank = bytes(stride)
    bar = bytearray(stride)
    bar[(width // 2 - 32) // 8:(width // 2 + 32) // 8] = b"\xff" * 8
    return t4.Bitmap.from_rows(width, [bytes(bar) if i % bar_every == bar_every // 2 else blank
                                       for i in range(rows)])


def bar_page(rows: int = 1145, bar_every: int = 40,
             resolution: frames.Resolution = frames.Resolution.FINE) -> FaxPage:
    return FaxPage(bar_bitmap(rows, bar_every), resolution)


def text_bitmap(rows: int = 400, seed: int = 1) -> t4.Bitmap:
    """Bands of "type" 12 rows high (vertical strokes, so rows repeat like glyphs do) between
    12-row gaps: MR and MMR code it smaller than MH, as they do real text."""
    rng = random.Random(seed)
    stride = t4.A4_WIDTH // 8
    out = []
    for band in range(0, rows, 24):
        row = bytearray(stride)
        for _ in range(40):
            start = rng.randrange(16, stride - 24)
            for k in range(rng.randrange(1, 4)):
                row[start + k] = rng.choice((0x3C, 0xFF, 0x81, 0x7E, 0x18))
        for i in range(band, min(band + 24, rows)):
            out.append(bytes(row) if i - band < 12 and (i - band) % 5 else bytes(stride))
    return t4.Bitmap.from_rows(t4.A4_WIDTH, out)


def two_page_tiff(path: Path) -> Path:
    """A 2-page fax TIFF (G3, 204x98 dpi) for the lab's far end to send: one bar per page."""
    return bar_tiff(path, 2)


def bar_tiff(path: Path, pages: int) -> Path:
    """A fax TIFF (G3, 204x98 dpi) of ``pages`` pages: a header strip at the top, as fax
    machines print, longer page by page (noise later in a page leaves it intact, so a resent
    page is known by it), and one bar, lower page by page."""
    images = []
    for n in range(pages):
        im = Image.new("1", (1728, 1100), 1)
        draw = ImageDraw.Draw(im)
        draw.rectangle([100, 20, 300 + 100 * n, 40], fill=0)
        draw.rectangle([100, 100 + n * 300, 1600, 160 + n * 300], fill=0)
        images.append(im)
    images[0].save(path, save_all=True, append_images=images[1:], compression="group3", dpi=(204, 98))
    return path
