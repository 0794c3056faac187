"""A private cupsd for the tests and the demo: own ServerRoot, a Unix socket, ``file:`` queues.

Why each setting is there (measured on Debian 12, CUPS 2.4.2):

* ``JobPrivateValues none`` / ``SubscriptionPrivateValues none``: Debian's default policy hides
  job names and users from anyone but the owner, and the watcher needs both.
* ``PreserveJobHistory Yes`` / ``PreserveJobFiles Yes``: the catch-up scan reads finished jobs and
  the page counter reads their spooled documents (CUPS-Get-Document).
* ``DirtyCleanInterval 0``: cupsd writes job control files and printers.conf lazily (30 s by
  default); a ``kill -9`` inside that window loses the queues and every job submitted in it,
  control file and all. Sites should set it too (see ``drivers/cups/watcher.py``).
* ``FileDevice Yes``: queues print into files instead of hardware.
* Filters run as user ``lp``: every directory they touch must be reachable by ``lp``, so the lab
  lives under a 0755 directory (pytest's ``tmp_path`` is 0700 and makes every job end in
  "Filter failed"), and ``TempDir`` is world-writable with the sticky bit.

Queues: ``ps`` (generic PostScript PPD from CUPS' sample driver, duplexer installed),
``pdf`` (cups-filters' generic PDF PPD) and ``raw`` (no filters: CUPS reports 0 impressions).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

CUPSD = "/usr/sbin/cupsd"
LPADMIN = "/usr/sbin/lpadmin"


class LabError(Exception):
    """The lab's cupsd could not be set up or did not come up."""


@dataclass(frozen=True)
class LabQueue:
    name: str
    #: lpadmin arguments choosing the driver: ``-m model`` or ``-P ppd``.
    driver: tuple[str, ...]
    #: Printer default options (``-o k=v``), e.g. the installed duplexer.
    options: tuple[tuple[str, str], ...] = ()


#: A4 by default: the PPDs ship with Letter, a business centre in China prints on A4.
_A4 = ("media", "iso_a4_210x297mm")
DEFAULT_QUEUES: tuple[LabQueue, ...] = (
    LabQueue("ps", ("-m", "drv:///sample.drv/generic.ppd"),
             (("Option1", "True"), ("PageSize", "A4"), _A4)),
    LabQueue("pdf", ("-P", "/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd"),
             (("PageSize", "A4"), _A4)),
    LabQueue("raw", ("-m", "raw"), (_A4,)),
)

_CUPSD_CONF = """\
Listen {socket}
LogLevel {log_level}
PreserveJobHistory Yes
PreserveJobFiles Yes
MaxJobs 0
DirtyCleanInterval 0
Browsing No
WebInterface No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

_CUPS_FILES_CONF = """\
ServerRoot {d}/etc
RequestRoot {d}/spool
TempDir {d}/tmp
CacheDir {d}/cache
StateDir {d}/state
ErrorLog {d}/log/error_log
AccessLog {d}/log/access_log
PageLog {d}/log/page_log
Printcap {d}/printcap
FileDevice Yes
SystemGroup root
{user}
"""


def _check_reachable_by_lp(path: Path) -> None:
    """Filters run as ``lp``: every ancestor must be searchable by others."""
    for p in (path, *path.parents):
        if not p.stat().st_mode & stat.S_IXOTH:
            raise LabError(f"{p} is not searchable by other users (mode {p.stat().st_mode:o}); "
                           "CUPS filters run as 'lp' and would fail: use a dir under /tmp")


class CupsLab:
    """Start/stop/kill/restart a private cupsd with a few ``file:`` queues.

    ``with CupsLab() as lab: ...`` uses a fresh directory under /tmp and removes it on exit,
    unless ``GATEWAYD_KEEP_LAB=1`` is set (the spool and error_log are evidence when a test
    fails); a ``directory`` passed in is never removed.
    """

    def __init__(self, directory: Path | None = None, *,
                 queues: tuple[LabQueue, ...] = DEFAULT_QUEUES, log_level: str = "info"):
        self._owns_dir = directory is None and os.environ.get("GATEWAYD_KEEP_LAB") != "1"
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="cupslab-", dir="/tmp"))
            os.chmod(directory, 0o755)  # mkdtemp makes it 0700, which 'lp' cannot enter
        self.dir = directory.resolve()
        self.queues = queues
        self.log_level = log_level
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths -------------------------------------------------------------------------------
    @property
    def socket(self) -> Path:
        return self.dir / "cups.sock"

    @property
    def output_dir(self) -> Path:
        return self.dir / "out"

    @property
    def error_log(self) -> Path:
        return self.dir / "log" / "error_log"

    @property
    def queue_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.queues)

    def output_file(self, queue: str) -> Path:
        return self.output_dir / f"{queue}.prn"

    # -- life cycle ----------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def start(self) -> None:
        fresh = not (self.dir / "etc" / "cupsd.conf").exists()
        if fresh:
            self._write_config()
        self._spawn()
        if fresh:
            for q in self.queues:
                self.add_queue(q)

    def stop(self) -> None:
        """SIGTERM: cupsd saves jobs and subscriptions before it exits."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: what a crash or an OOM kill looks like to the watcher."""
        self._end(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self._spawn()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def add_queue(self, q: LabQueue) -> None:
        device = f"file:{self.output_file(q.name)}"
        opts = [a for k, v in q.options for a in ("-o", f"{k}={v}")]
        self._lpadmin("-p", q.name, "-E", "-v", device, *q.driver, *opts)

    def remove_queue(self, name: str) -> None:
        self._lpadmin("-x", name)

    def lpadmin(self, *args: str) -> None:
        """Any other lpadmin change, e.g. ``("-p", "ps", "-o", "printer-error-policy=...")``."""
        self._lpadmin(*args)

    # -- internals -----------------------------------------------------------------------------
    def _write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        _check_reachable_by_lp(self.dir)
        for sub, mode in (("etc", 0o755), ("spool", 0o710), ("cache", 0o770), ("state", 0o755),
                          ("log", 0o755), ("tmp", 0o1777), ("out", 0o1777)):
            (self.dir / sub).mkdir(exist_ok=True)
            os.chmod(self.dir / sub, mode)
        # Only root may (and must) hand the filters to 'lp'; a non-root cupsd runs them as itself.
        user = "User lp\nGroup lp" if os.geteuid() == 0 else ""
        (self.dir / "etc" / "cupsd.conf").write_text(
            _CUPSD_CONF.format(socket=self.socket, log_level=self.log_level))
        (self.dir / "etc" / "cups-files.conf").write_text(
            _CUPS_FILES_CONF.format(d=self.dir, user=user))

    def _spawn(self) -> None:
        if self.running:
            return
        self.socket.unlink(missing_ok=True)
        log = open(self.dir / "log" / "cupsd.out", "ab")  # noqa: SIM115 -- owned by the child
        with log:
            self._proc = subprocess.Popen(
                [CUPSD, "-f", "-c", str(self.dir / "etc" / "cupsd.conf"),
                 "-s", str(self.dir / "etc" / "cups-files.conf")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self._proc.poll() is not None:
                raise LabError(f"cupsd exited with {self._proc.returncode}; see {self.error_log}")
            if time.monotonic() > deadline:
                raise LabError(f"cupsd did not open {self.socket} within 10 s")
            time.sleep(0.01)

    def _end(self, sig: signal.Signals) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(sig)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def _lpadmin(self, *args: str) -> None:
        done = subprocess.run([LPADMIN, "-h", str(self.socket), *args],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise LabError(f"lpadmin {' '.join(args)}: {done.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the lab's private cupsd until SIGTERM/SIGINT.")
    parser.add_argument("--dir", type=Path, required=True,
                        help="lab directory (created; must be reachable by user lp)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    lab = CupsLab(args.dir, log_level=args.log_level)
    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with lab:
        # Imported here: the lab itself needs no fpdf2, only the demo's sample documents do.
        from lab.cups.documents import make_documents
        docs = lab.dir / "docs"
        make_documents(docs)
        print(f"socket={lab.socket} queues={','.join(lab.queue_names)} out={lab.output_dir} "
              f"documents={docs}", flush=True)
        while not stop and lab.running:
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
