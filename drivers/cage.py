"""A cage for programs run on customers' bytes (Ghostscript, and our own renderer's child).

A customer's PostScript is a program: with only ``-dSAFER``, Ghostscript 10 still lets it read,
list and write the temporary directory (``TMPDIR``, which it permits by default), where the demo
keeps the daemon's state. So every such program runs in a :class:`Scratch` directory of its own,
empty but for the inputs copied into it, which is the only path it may read or write: its cwd,
its ``TMPDIR`` and ``HOME``, and Ghostscript's ``--permit-file-*`` lists (:func:`gs_argv`). The
child gets resource limits (CPU seconds, address space, file size), its own session so a timeout
kills it and everything it started, no inherited descriptors, and a wall-clock deadline.

:class:`Limits` are what a document may become; going over one raises :class:`LimitExceeded`
naming the limit, which the API turns into a 422.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """What one document (or one fax job's documents together) may become."""

    pages: int = 100  #: pages per job
    pixels_per_page: int = 40_000_000  #: an image's width x height (A4 at 600 dpi is 35 M)
    bytes_rendered: int = 256 << 20  #: everything the renderer writes, in its scratch dir
    seconds: float = 60.0  #: wall clock for the whole rendering
    memory_bytes: int = 1 << 30  #: address space of the child

    #: The config keys (``[documents]``) naming each limit, for the messages.
    KEYS = {"pages": "max_pages", "pixels_per_page": "max_pixels_per_page",
            "bytes_rendered": "max_bytes_rendered", "seconds": "max_seconds"}


class CageError(Exception):
    """The caged program failed or could not be run; ``str()`` says why, for the customer."""


class LimitExceeded(CageError):
    """A document went over one of the :class:`Limits`; ``limit`` is its config key."""

    def __init__(self, limit: str, detail: str):
        self.limit = limit
        super().__init__(f"{detail} (limit documents.{Limits.KEYS.get(limit, limit)})")


@contextmanager
def scratch(prefix: str = "gatewayd-cage-") -> Iterator[Path]:
    """A new empty private directory, removed with all it holds afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))  # mode 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def safe_name(name: str, default: str = "document") -> str:
    """A customer's file name as a plain name inside the scratch dir (no path, no NUL)."""
    base = Path(name.replace("\0", "")).name.lstrip(".")
    return base[:100] or default


def gs_argv(place: Path) -> list[str]:
    """Ghostscript with SAFER and ``place`` as the only path its program may read or write."""
    gs = shutil.which("gs")
    if gs is None:
        raise CageError("Ghostscript (gs) is missing: install the ghostscript package")
    permit = f"{place}/"
    return [gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"--permit-file-read={permit}",
            f"--permit-file-write={permit}", f"--permit-file-control={permit}"]


def gs_reason(done: subprocess.CompletedProcess[str]) -> str:
    """Why Ghostscript failed: PostScript's own error line ("Error: /invalidfileaccess in
    --file--", on stdout under -q) says most, else the last line it wrote."""
    said = f"{done.stdout}\n{done.stderr}".strip().splitlines()
    reason = next((line for line in said if "Error: " in line), said[-1] if said else "")
    return reason.strip()[-300:]


def used_bytes(place: Path) -> int:
    return sum(p.stat().st_size for p in place.rglob("*") if p.is_file())


def _limited(argv: Sequence[str], limits: Limits) -> list[str]:
    """``argv`` under util-linux's prlimit (Debian: essential): rlimits set in the child by exec,
    not by a preexec_fn, which is unsafe in a daemon with threads."""
    prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
    cpu = int(limits.seconds) + 1
    return [prlimit, f"--cpu={cpu}:{cpu + 1}", f"--as={limits.memory_bytes}",
            f"--fsize={limits.bytes_rendered}", "--core=0", "--", *argv]


def run(argv: Sequence[str], place: Path, limits: Limits, *,
        watch: Callable[[], None] | None = None, env: dict[str, str] | None = None,
        poll_s: float = 0.05) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` caged in ``place``; ``watch()`` is called while it runs and may raise
    (:class:`LimitExceeded`) to stop it. Output goes to files in ``place`` (bounded by the file
    size limit), not to pipes that could fill the daemon's memory. Raises :class:`LimitExceeded`
    on the deadline or a limit signal; the caller judges the exit status."""
    out, err = place / ".stdout", place / ".stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            _limited(argv, limits), cwd=place, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            env={"PATH": os.defpath, "LANG": "C.UTF-8", **(env or {}),
                 "TMPDIR": str(place), "HOME": str(place)},
            start_new_session=True, close_fds=True)
    deadline = time.monotonic() + limits.seconds
    try:
        while child.poll() is None:
            if time.monotonic() > deadline:
                raise LimitExceeded("seconds", f"rendering took longer than {limits.seconds:g} s")
            if watch is not None:
                watch()
            time.sleep(poll_s)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise LimitExceeded("seconds", f"rendering used more than {int(limits.seconds) + 1} s of CPU")
    if child.returncode == -signal.SIGXFSZ:
        raise LimitExceeded("bytes_rendered", f"rendering wrote more than {limits.bytes_rendered} bytes")
    return subprocess.CompletedProcess(list(argv), child.returncode, _tail(out), _tail(err))


def _tail(path: Path, size: int = 64 << 10) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - size))
        return f.read().decode("utf-8", "replace")
