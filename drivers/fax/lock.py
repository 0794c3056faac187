"""UUCP lock files, so gatewayd never fights mgetty, HylaFAX or minicom over a port.

The HDB ("HoneyDanBer") convention those programs share: ``/var/lock/LCK..<device>`` holds the
owner's pid as ten right-aligned ASCII digits and a newline. A lock whose pid no longer exists is
stale and may be removed. The file is created under a temporary name and hard-linked into place so
no other process ever sees a half-written lock.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .errors import FaxError

DEFAULT_LOCK_DIR = Path("/var/lock")


class PortLockError(FaxError):
    """The port's lock could not be taken."""


class PortBusy(PortLockError):
    """A live process holds the port: mgetty, minicom, another fax program."""

    def __init__(self, device: str, pid: int):
        self.device = device
        self.pid = pid
        self.owner = process_name(pid)
        super().__init__(f"{device}: port locked by pid {pid} ({self.owner})")


def process_name(pid: int) -> str:
    """What the lock's owner is called (``/proc/<pid>/comm``), for the person who must stop it."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() or "unknown"
    except OSError:
        return "unknown"  # gone since, or /proc hidden (hidepid)


def lock_name(device: str) -> str:
    """``/dev/ttyS0`` -> ``LCK..ttyS0``; ``/dev/pts/3`` -> ``LCK..pts_3`` (no slash in a file name)."""
    name = device.removeprefix("/dev/") if device.startswith("/dev/") else os.path.basename(device)
    return "LCK.." + name.replace("/", "_")


def format_pid(pid: int) -> bytes:
    return f"{pid:>10d}\n".encode("ascii")


def read_pid(path: Path) -> int | None:
    """The pid in a lock file (HDB ASCII, or the old 4-byte binary form), None if unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    text = raw.strip()
    if text.isdigit():
        return int(text)
    if len(raw) == 4:  # pre-HDB binary int, still written by a few old tools
        return int.from_bytes(raw, "little")
    return None


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user (e.g. uucp's mgetty)
    return True


class PortLock:
    """The lock for one device; use as a context manager or call acquire()/release()."""

    def __init__(self, device: str, lock_dir: Path | str = DEFAULT_LOCK_DIR, pid: int | None = None):
        self.device = device
        self.path = Path(lock_dir) / lock_name(device)
        self.pid = os.getpid() if pid is None else pid
        self.held = False

    def acquire(self) -> None:
        # Two rounds: the second after removing a stale lock; a third would mean a race we lost.
        for _ in range(2):
            if self._try_link():
                self.held = True
                return
            owner = read_pid(self.path)
            if owner == self.pid:
                self.held = True
                return
            if owner is not None and pid_alive(owner):
                raise PortBusy(self.device, owner)
            self._remove_stale()
        owner = read_pid(self.path) or 0
        raise PortBusy(self.device, owner)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if read_pid(self.path) == self.pid:
            self.path.unlink(missing_ok=True)

    def _try_link(self) -> bool:
        tmp = self.path.with_name(f".{self.path.name}.{self.pid}")
        try:
            tmp.write_bytes(format_pid(self.pid))
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        except OSError as err:  # lock dir missing or not ours to write (group uucp/dialout?)
            raise PortLockError(f"{self.device}: cannot create lock {self.path}: {err}") from err
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def _remove_stale(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise PortLockError(f"cannot remove stale lock {self.path}: {err}") from err

    def __enter__(self) -> PortLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
