"""The serial line to one Class 1 modem: AT commands, result codes, DLE-shielded data.

Blocking by design (pyserial is): each modem gets its own thread and only that thread touches
its channel. Ports are opened with ``serial.serial_for_url`` so ``loop://`` serves unit tests and
``spy://dev/ttyUSB0`` hexdumps a misbehaving modem in the field. Lines the modem sends on its own
(``RING``, caller id ``NMBR=``/``NAME=``) are routed to :attr:`unsolicited`, never taken for the
reply to a command (as pyserial's ``examples/at_protocol.py`` does).
"""

from __future__ import annotations

import collections
import enum
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import serial

from . import dle
from .errors import FaxError
from .lock import DEFAULT_LOCK_DIR, PortLock


class ChannelError(FaxError):
    """A local failure of the modem channel (not something the far fax machine did)."""


class ModemTimeout(ChannelError):
    """The modem did not answer in time."""


class ModemNotResponding(ChannelError):
    """The modem stayed silent even after ATZ and a DTR drop."""


class PortGone(ChannelError):
    """The port vanished (USB modem unplugged, pty closed)."""


class ResultCode(enum.Enum):
    OK = "OK"
    CONNECT = "CONNECT"
    ERROR = "ERROR"
    NO_CARRIER = "NO CARRIER"
    BUSY = "BUSY"
    NO_DIALTONE = "NO DIALTONE"
    NO_ANSWER = "NO ANSWER"
    FCERROR = "+FCERROR"  #: T.31 8.3.4: a V.21 carrier came instead of the high-speed one


_FINAL = {code.value: code for code in ResultCode} | {"NO DIAL TONE": ResultCode.NO_DIALTONE}

#: Line prefixes a modem sends unprompted: ring and caller-id delivery (V.253 +VCID, mgetty's list).
UNSOLICITED_PREFIXES = ("RING", "NMBR", "NAME", "DATE", "TIME", "MESG", "DDN_NMBR", "CALLER NUMBER")


class FlowControl(enum.Enum):
    NONE = "none"
    RTSCTS = "rtscts"  #: hardware, what T.31 recommends (clause 4.3)
    XONXOFF = "xonxoff"


@dataclass(frozen=True)
class Reply:
    result: ResultCode
    lines: tuple[str, ...] = ()  #: informational lines before the result (e.g. ``3`` for +FTH=?)


@dataclass(frozen=True)
class Unsolicited:
    text: str
    at: float  #: monotonic time it arrived


def _device_path(url: str) -> str | None:
    """The device a URL opens, for locking and for waiting on a replug; None for loop:// etc."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if scheme == "spy":
        return "/" + rest.split("?", 1)[0].lstrip("/")
    return None


class ModemChannel:
    """One open modem port."""

    #: Read slice: how long one blocking read may take, so deadlines are checked often.
    SLICE = 0.02
    #: Octets per write() call: about 0.6 s of line time at 14400 bit/s.
    WRITE_CHUNK = 1024

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 115200,
        flow: FlowControl = FlowControl.RTSCTS,
        lock_dir: Path | str | None = DEFAULT_LOCK_DIR,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        opener: Callable[..., serial.SerialBase] = serial.serial_for_url,
        on_unsolicited: Callable[[Unsolicited], None] | None = None,
        trace: Callable[[str, bytes], None] | None = None,
    ):
        self.url = url
        self.baudrate = baudrate
        self.flow = flow
        self.clock = clock
        self.sleep = sleep
        self._opener = opener
        self._on_unsolicited = on_unsolicited
        self._trace = trace
        device = _device_path(url)
        self._lock = PortLock(device, lock_dir) if device and lock_dir is not None else None
        self.port: serial.SerialBase | None = None
        self._rx = bytearray()
        #: The last line ended in a CR that was the last byte read: its LF is still to come.
        self._lf_due = False
        self.unsolicited: collections.deque[Unsolicited] = collections.deque(maxlen=64)

    # ------------------------------------------------------------------ open / close

    def open(self) -> None:
        """Lock and open the port: ``PortLockError`` if another program holds it, ``PortGone``
        if it cannot be opened (the lock is released again)."""
        try:
            if self._lock is not None:
                self._lock.acquire()
            self.port = self._opener(
                self.url,
                baudrate=self.baudrate,
                rtscts=self.flow is FlowControl.RTSCTS,
                xonxoff=self.flow is FlowControl.XONXOFF,
                timeout=self.SLICE,
                write_timeout=30,
            )
        except (serial.SerialException, OSError) as err:
            if self._lock is not None:
                self._lock.release()
            raise PortGone(f"cannot open {self.url}: {err}") from err
        self._rx.clear()
        self._lf_due = False

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            except (serial.SerialException, OSError):
                pass  # closing a port that already vanished: nothing left to release
            self.port = None
        if self._lock is not None:
            self._lock.release()

    def reopen(self, wait: float = 30.0, poll: float = 0.5) -> None:
        """Close, wait for the device node to come back (USB replug), open again."""
        self.close()
        device = _device_path(self.url)
        deadline = self.clock() + wait
        while device is not None and not os.path.exists(device):
            if self.clock() >= deadline:
                raise PortGone(f"{device} did not come back within {wait:.0f}s")
            self.sleep(poll)
        self.open()

    def __enter__(self) -> ModemChannel:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ raw I/O

    def _port(self) -> serial.SerialBase:
        if self.port is None:
            raise PortGone(f"{self.url} is not open")
        return self.port

    def write(self, data: bytes) -> None:
        try:
            port = self._port()
            # pyserial's write_timeout bounds one write() call, and a page leaves the modem at
            # line rate (a dense page is 4-5 min at 14400 bit/s, a text page ~50 s): written
            # whole it timed out after 30 s. In chunks, each one must drain within the timeout,
            # so only a modem that stops taking data (flow control held) is an error.
            for start in range(0, len(data), self.WRITE_CHUNK):
                port.write(data[start:start + self.WRITE_CHUNK])
            port.flush()
        except serial.SerialTimeoutException as err:
            raise ModemTimeout(f"{self.url}: write blocked (flow control held)") from err
        except (serial.SerialException, OSError) as err:
            raise PortGone(f"{self.url}: write failed: {err}") from err
        if self._trace:
            self._trace("<--", data)

    def _fill(self, deadline: float) -> bool:
        """Read whatever arrives before ``deadline``; False if nothing came."""
        port = self._port()
        while True:
            try:
                chunk = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError) as err:
                raise PortGone(f"{self.url}: read failed: {err}") from err
            if chunk:
                if self._trace:
                    self._trace("-->", chunk)
                self._rx += chunk
                return True
            if self.clock() >= deadline:
                return False

    def _drop_due_lf(self) -> None:
        # A verbose result ends in CR LF, but the two may come in different reads (seen with the
        # lab's pty under load: "CONNECT\r" | "\n\xff\x03..."). The LF then belongs to the
        # result, not to the frame that follows it; left in, it made the frame unparseable and
        # its CSI was lost.
        if self._lf_due and self._rx:
            if self._rx[0] == 0x0A:
                del self._rx[0]
            self._lf_due = False

    def _take_line(self) -> str | None:
        while True:
            self._drop_due_lf()
            cut = min((i for i in (self._rx.find(b"\r"), self._rx.find(b"\n")) if i >= 0), default=-1)
            if cut < 0:
                return None
            raw = bytes(self._rx[:cut])
            # "\r\n" ends a verbose result; take both, or data after CONNECT would start with "\n".
            end = cut + 2 if self._rx[cut : cut + 2] == b"\r\n" else cut + 1
            self._lf_due = self._rx[cut] == 0x0D and end == len(self._rx)
            del self._rx[:end]
            # A modem doing software flow control (T.31 8.4.1) sprinkles XON/XOFF while we send.
            line = raw.translate(None, b"\x11\x13").decode("ascii", errors="replace").strip()
            if line:
                return line

    def _route(self, line: str) -> bool:
        if line.startswith(UNSOLICITED_PREFIXES):
            event = Unsolicited(line, self.clock())
            self.unsolicited.append(event)
            if self._on_unsolicited:
                self._on_unsolicited(event)
            return True
        return False

    # ------------------------------------------------------------------ commands

    def read_result(self, timeout: float, echo: str | None = None) -> Reply:
        """Lines up to the next final result code; unsolicited lines are routed apart."""
        deadline = self.clock() + timeout
        info: list[str] = []
        while True:
            line = self._take_line()
            if line is None:
                if not self._fill(deadline):
                    raise ModemTimeout(f"{self.url}: no result within {timeout:.1f}s (echo {echo!r})")
                continue
            if line == echo or self._route(line):
                continue
            code = _FINAL.get(line)
            if code is not None:
                return Reply(code, tuple(info))
            info.append(line)

    def command(self, text: str, timeout: float = 3.0) -> Reply:
        """Send ``text`` (without ``\\r``) and return the modem's final result."""
        self.write(text.encode("ascii") + b"\r")
        return self.read_result(timeout, echo=text)

    def expect_ok(self, text: str, timeout: float = 3.0) -> Reply:
        reply = self.command(text, timeout)
        if reply.result is not ResultCode.OK:
            raise ChannelError(f"{self.url}: {text} -> {reply.result.value}")
        return reply

    def wait_unsolicited(self, timeout: float) -> Unsolicited | None:
        """The next unsolicited line (e.g. RING), or None after ``timeout``."""
        deadline = self.clock() + timeout
        while not self.unsolicited:
            line = self._take_line()
            if line is None:
                if not self._fill(deadline):
                    return None
                continue
            self._route(line)  # anything else outside a command is noise from a previous call
        return self.unsolicited.popleft()

    # ------------------------------------------------------------------ data mode

    def send_data(self, data: bytes, end: bool = True) -> None:
        """Write DLE-shielded data; ``end`` appends DLE ETX."""
        self.write(dle.stuff(data) + (dle.END_OF_DATA if end else b""))

    def read_data(self, timeout: float, first_byte_timeout: float | None = None) -> bytes:
        """Data after CONNECT up to DLE ETX. ``timeout`` bounds the whole transfer."""
        deadline = self.clock() + timeout
        first = self.clock() + (first_byte_timeout if first_byte_timeout is not None else timeout)
        out = bytearray()
        got_any = False
        while True:
            self._drop_due_lf()
            result = dle.unstuff(self._rx)
            out += result.data
            got_any = got_any or result.used > 0
            del self._rx[: result.used]
            if result.ended:
                return bytes(out)
            if not self._fill(deadline if got_any else min(first, deadline)):
                raise ModemTimeout(f"{self.url}: data did not end within {timeout:.1f}s")

    def abort_receive(self, timeout: float = 3.0) -> Reply:
        """Any byte from the DTE ends a pending +FRH/+FRM/+FRS (T.31 clause 8.3.3.4)."""
        self.write(b"\x18")
        return self.read_result(timeout)

    # ------------------------------------------------------------------ recovery

    def reset(self, init: tuple[str, ...] = (), dtr_drop: float = 0.5, timeout: float = 3.0) -> None:
        """ATZ; if the modem stays mute drop DTR (most modems reset on it, &D3) and try again."""
        self._rx.clear()
        for attempt in range(2):
            try:
                self.expect_ok("ATZ", timeout)
                break
            except ModemTimeout:
                if attempt:
                    raise ModemNotResponding(f"{self.url}: no answer to ATZ after DTR drop") from None
                self._drop_dtr(dtr_drop)
                self._rx.clear()
        for text in init:
            self.expect_ok(text, timeout)

    def _drop_dtr(self, seconds: float) -> None:
        port = self._port()
        try:
            port.dtr = False
            self.sleep(seconds)
            port.dtr = True
        except (serial.SerialException, OSError):
            # A pty (the lab modem) has no modem control lines; the retry of ATZ still happens.
            return
        self.sleep(seconds)
