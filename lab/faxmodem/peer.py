"""Start and watch the fax lab's far end (``faxmodem``) from Python: tests and the demo use this.

``FaxPeer.start(workdir, ...)`` builds the C program if needed, starts it on a new pty (symlinked
as ``workdir/ttyFAX``), and collects the JSON call records it prints, one per call::

    {"event": "call", "call": 1, "role": "receiver", "outcome": "completed",
     "completion_code": 0, "status": "OK", "pages": 2, "bit_rate": 14400, "ecm": false,
     "rtn": 0, "ppr": 0, "remote_ident": "+1 555 0199", "file": ".../rx-1.tif", ...}

``role`` is the far end's: ``receiver`` when the DTE dialled it, ``sender`` when it rang the DTE.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BINARY = HERE / "faxmodem"


class FaxPeerError(Exception):
    """The peer did not build, did not start, or did not report in time."""


def build(force: bool = False) -> Path:
    """Build ``faxmodem`` with its Makefile when missing or older than its sources."""
    newest = max(path.stat().st_mtime for path in HERE.glob("*.[ch]"))
    if force or not BINARY.exists() or BINARY.stat().st_mtime < newest:
        done = subprocess.run(["make", "-C", str(HERE)], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise FaxPeerError(
                "building lab/faxmodem failed (needs gcc, libspandsp-dev, libtiff-dev):\n"
                + done.stdout + done.stderr
            )
    return BINARY


@dataclass(frozen=True)
class PeerOptions:
    """The peer's switches; see ``faxmodem --help``. Times marked *line* are scaled by ``speed``."""

    fclass: str = "1"  #: the modem's personality: "1" (T.31), "2" or "2.0" (T.32)
    receive: bool = True  #: answer the DTE's calls and receive (to ``rx-<n>.tif``)
    send: Path | None = None  #: ring the DTE and send this TIFF
    calls: int = 1  #: calls to place when sending
    ident: str = "+1 555 0100"
    busy: bool = False
    no_answer: bool = False
    ecm: bool = True
    v17: bool = True
    corrupt: tuple[int, ...] = ()  #: pages whose image carrier is spoiled once (1-based)
    corrupt_start_ms: int = 500  #: line ms after the image carrier starts
    corrupt_ms: int = 0  #: line ms; 0 = until the image carrier ends
    corrupt_with: str = "noise"  #: added to the signal; or "silence" (carrier loss)
    corrupt_level_dbm0: float = -30.0  #: -30 always gave RTN on spandsp's receiver
    hangup_page: int = 0  #: the far end hangs up (no DCN) during this page's image; 0 = never
    hangup_ms: int = 1000  #: line ms into that page's image carrier
    speed: float = 3.0  #: pacing, times real time
    ring_delay_s: float = 1.0  #: wall seconds of DTE quiet before ringing
    rings: int = 8
    answer_after_ms: int = 2000  #: line ms from ATD to answer or BUSY
    no_answer_after_ms: int = 20000  #: line ms from ATD to NO ANSWER
    timeout_s: float = 600.0  #: the peer exits by itself after this
    verbose: bool = False  #: spandsp's protocol log into the peer's stderr file
    extra_args: tuple[str, ...] = ()

    def argv(self, workdir: Path) -> list[str]:
        args = ["--class", self.fclass, "--link", str(workdir / "ttyFAX"), "--ident", self.ident,
                "--speed", str(self.speed), "--timeout", str(self.timeout_s),
                "--ring-delay", str(self.ring_delay_s), "--rings", str(self.rings),
                "--answer-after", str(self.answer_after_ms),
                "--no-answer-after", str(self.no_answer_after_ms)]
        if self.receive:
            args += ["--receive", str(workdir / "rx-%d.tif")]
        if self.send is not None:
            args += ["--send", str(self.send), "--calls", str(self.calls)]
        args += ["--busy"] if self.busy else []
        args += ["--no-answer"] if self.no_answer else []
        args += ["--ecm" if self.ecm else "--no-ecm", "--v17" if self.v17 else "--no-v17"]
        if self.corrupt:
            args += ["--corrupt", ",".join(str(p) for p in self.corrupt),
                     "--corrupt-start", str(self.corrupt_start_ms),
                     "--corrupt-ms", str(self.corrupt_ms),
                     "--corrupt-with", self.corrupt_with,
                     "--corrupt-level", str(self.corrupt_level_dbm0)]
        if self.hangup_page:
            args += ["--hangup-page", str(self.hangup_page), "--hangup-ms", str(self.hangup_ms)]
        args += ["--verbose"] if self.verbose else []
        return args + list(self.extra_args)


@dataclass
class FaxPeer:
    """A running ``faxmodem``: its pty, its call records, its files."""

    process: subprocess.Popen[str]
    workdir: Path
    pty: Path  #: symlink to the pty slave: open this as the modem
    options: PeerOptions
    calls: list[dict] = field(default_factory=list)  #: call records received so far
    _records: queue.Queue[dict] = field(default_factory=queue.Queue)

    @classmethod
    def start(cls, workdir: Path, options: PeerOptions | None = None,
              ready_timeout: float = 10.0) -> FaxPeer:
        options = options or PeerOptions()
        workdir.mkdir(parents=True, exist_ok=True)
        binary = build()
        with open(workdir / "faxmodem.log", "w") as stderr:
            process = subprocess.Popen([str(binary), *options.argv(workdir)], stdout=subprocess.PIPE,
                                       stderr=stderr, text=True, start_new_session=True)
        peer = cls(process=process, workdir=workdir, pty=workdir / "ttyFAX", options=options)
        threading.Thread(target=peer._read_stdout, name="faxmodem-stdout", daemon=True).start()
        ready = peer._next_record(ready_timeout)
        if ready is None or ready.get("event") != "ready":
            peer.stop()
            raise FaxPeerError(f"faxmodem did not start: {ready!r}\n{peer.log()}")
        return peer

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._records.put(json.loads(line))
            except json.JSONDecodeError:
                self._records.put({"event": "garbage", "line": line})
        self._records.put({"event": "exit"})

    def _next_record(self, timeout: float) -> dict | None:
        try:
            return self._records.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_call(self, timeout: float = 120.0) -> dict:
        """The next call record; raises FaxPeerError (with the peer's log) on timeout or exit."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            record = self._next_record(left)
            if record is None:
                break
            if record.get("event") == "call":
                self.calls.append(record)
                return record
            if record.get("event") == "exit":
                raise FaxPeerError(f"faxmodem exited ({self.process.wait()}):\n{self.log()}")
        raise FaxPeerError(f"no call record from faxmodem within {timeout:.0f} s:\n{self.log()}")

    def received_tiff(self, call: int = 1) -> Path:
        """Where the peer stores what it received on call number ``call`` (1-based)."""
        return self.workdir / f"rx-{call}.tif"

    def log(self, tail: int = 60) -> str:
        """The last lines of the peer's stderr (spandsp's log with ``verbose``)."""
        path = self.workdir / "faxmodem.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return "\n".join(lines[-tail:])

    def stop(self, timeout: float = 5.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


if __name__ == "__main__":  # pragma: no cover - by hand: python -m lab.faxmodem.peer DIR
    import sys

    lab = FaxPeer.start(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/faxlab"))
    print(f"modem on {lab.pty} (pid {lab.process.pid}); Ctrl-C to stop", file=sys.stderr)
    try:
        while True:
            print(json.dumps(lab.wait_call(timeout=3600)), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sys.exit(lab.stop())
