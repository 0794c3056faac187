"""Test helpers for the fax driver: a scripted fake modem on a pseudo-terminal."""

from __future__ import annotations

import os
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
