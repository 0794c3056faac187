"""Run snmpsim on 127.0.0.1 serving printer recordings; make pages happen, devices sleep.

    with SnmpLab(Path("tests/data/snmprec")) as lab:
        lab.host, lab.port                 # 127.0.0.1, a free UDP port
        lab.copies("sharp", 5)             # 5 mono copies: total, copy, copy.mono, mono...
        lab.sleep("sharp"); lab.wake("sharp")

Each recording is a device; its SNMP community is the file stem. SNMPv3 users reach a device
with the context name = community.

How it works, measured with snmpsim 1.2.2:
* snmpsim maps communities to files once, at start; it re-reads a file when its mtime (whole
  seconds) changes, rebuilding the index if the file is newer than it. So ``copies``/``set``
  rewrite the file atomically and push its mtime at least one second forward.
* A file that disappears makes snmpsim drop requests for that community (it logs a traceback):
  ``sleep`` renames the file away, ``wake`` renames it back. The device then times out, just like
  a copier in deep sleep.
* As root, snmpsim insists on dropping privileges (nobody/nogroup): the data and cache dirs are
  created world-readable under a temp dir, and the interpreter must be reachable by nobody.

CLI (for ``make demo``; the state lives in --workdir so separate commands can act on it)::

    python -m lab.snmp.agent serve --recordings tests/data/snmprec --workdir /tmp/lab --port 16100
    python -m lab.snmp.agent copies --workdir /tmp/lab sharp 5 [--colour]
    python -m lab.snmp.agent sleep --workdir /tmp/lab sharp
    python -m lab.snmp.agent wake --workdir /tmp/lab sharp
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from drivers.snmp.oid import HR_DEVICE_DESCR_1, SYS_DESCR, SYS_OBJECT_ID
from drivers.snmp.profiles import DeviceIdentity, load_profiles
from lab.snmp.records import Recording

HOST = "127.0.0.1"
EXT = ".snmprec"
ASLEEP = ".asleep"
STARTUP_TIMEOUT = 60.0  # indexing 1,000 communities' files the first time takes a while


class LabError(Exception):
    """The lab could not start or act (snmpsim missing, port busy, unknown community...)."""


@dataclass(frozen=True)
class V3User:
    user: str
    auth_key: str
    auth_proto: str  #: snmpsim spelling: MD5 SHA SHA224 SHA256 SHA384 SHA512
    priv_key: str
    priv_proto: str  #: snmpsim spelling: DES 3DES AES AES192 AES256 ...


#: Two users: the common SHA/AES pair and SHA-256/AES-256.
V3_USERS = (
    V3User("labuser", "lab-auth-key-1", "SHA", "lab-priv-key-1", "AES"),
    V3User("labuser256", "lab-auth-key-2", "SHA256", "lab-priv-key-2", "AES256"),
)


class SnmpLab:
    """snmpsim serving a folder of recordings; a context manager that always stops it."""

    def __init__(self, recordings: Path | Iterable[Path], *, workdir: Path | None = None,
                 port: int | None = None, v3_users: Iterable[V3User] = V3_USERS,
                 communities: Mapping[str, str] | None = None,
                 clones: Mapping[str, str] | None = None):
        """``communities`` maps extra community names to a recording stem, served as hard links
        (the benchmark serves 1,000 "devices" from a few files this way; they share counters;
        snmpsim names a symlink's community after its target, so symlinks would not do).
        ``clones`` maps extra names to a recording stem copied as an independent device."""
        files = sorted(recordings.glob(f"*{EXT}")) if isinstance(recordings, Path) \
            else list(recordings)
        if not files:
            raise LabError(f"no {EXT} recordings in {recordings}")
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="snmplab-")) if workdir is None else workdir
        self.data_dir = self.workdir / "data"
        self.cache_dir = self.workdir / "cache"
        self.host = HOST
        self.port = port or free_udp_port()
        self.v3_users = tuple(v3_users)
        self._process: subprocess.Popen[bytes] | None = None
        self._prepare(files, communities or {}, clones or {})

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> SnmpLab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        log = open(self.workdir / "snmpsim.log", "ab")
        with log:
            self._process = subprocess.Popen(self._command(), stdout=log, stderr=log,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready()
        (self.workdir / "port").write_text(str(self.port))

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def communities(self) -> list[str]:
        return sorted(p.name[: -len(EXT)] for p in self.data_dir.glob(f"*{EXT}"))

    # -- making things happen ---------------------------------------------------------------------

    def copies(self, community: str, pages: int, *, colour: bool = False,
               media: str | None = None) -> dict[str, int]:
        """Advance the counters ``pages`` mono (or colour) copies would, per the device's profile.

        Returns the new value of every counter touched, by profile counter name.
        """
        return copy_pages(self.data_dir, community, pages, colour=colour, media=media)

    def set(self, community: str, values: Mapping[str, int | str]) -> None:
        """Overwrite recorded values by OID (reset a counter, swap a serial, reboot uptime...)."""
        edit(self.data_dir, community, lambda rec: [rec.set(o, v) for o, v in values.items()])

    def get(self, community: str, oid: str) -> str | None:
        return Recording.parse(_path(self.data_dir, community).read_text()).get(oid)

    def sleep(self, community: str) -> None:
        sleep_device(self.data_dir, community)

    def wake(self, community: str) -> None:
        wake_device(self.data_dir, community)

    # -- internals --------------------------------------------------------------------------------

    def _prepare(self, files: list[Path], communities: Mapping[str, str],
                 clones: Mapping[str, str]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        for source in files:
            shutil.copyfile(source, self.data_dir / source.name)
        for name, stem in clones.items():
            shutil.copyfile(self.data_dir / f"{stem}{EXT}", self.data_dir / f"{name}{EXT}")
        for name, stem in communities.items():
            link = self.data_dir / f"{name}{EXT}"
            if not link.exists():
                os.link(self.data_dir / f"{stem}{EXT}", link)
        # snmpsim runs as nobody when we are root: it must read the data and write its index.
        for path in (self.workdir, self.data_dir, *self.data_dir.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.cache_dir.chmod(0o777)
        if os.geteuid() == 0:
            _check_reachable_by_others(Path(sys.prefix))
            _check_reachable_by_others(self.workdir)

    def _command(self) -> list[str]:
        responder = Path(sys.executable).parent / "snmpsim-command-responder"
        if not responder.exists():
            found = shutil.which("snmpsim-command-responder")
            if found is None:
                raise LabError("snmpsim-command-responder not found: pip install snmpsim pysmi")
            responder = Path(found)
        cmd = [str(responder), f"--data-dir={self.data_dir}", f"--cache-dir={self.cache_dir}",
               f"--agent-udpv4-endpoint={self.host}:{self.port}", "--log-level=error"]
        if os.geteuid() == 0:
            cmd += ["--process-user=nobody", "--process-group=nogroup"]
        for user in self.v3_users:
            cmd += [f"--v3-user={user.user}", f"--v3-auth-key={user.auth_key}",
                    f"--v3-auth-proto={user.auth_proto}", f"--v3-priv-key={user.priv_key}",
                    f"--v3-priv-proto={user.priv_proto}"]
        return cmd

    def _wait_ready(self) -> None:
        probe_community = self.communities[0]
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise LabError(f"snmpsim exited with {self._process.returncode}; see "
                                   f"{self.workdir / 'snmpsim.log'}")
                sock.sendto(_v2c_get_sysuptime(probe_community), (self.host, self.port))
                try:
                    sock.recv(4096)
                    return
                except (TimeoutError, ConnectionRefusedError):
                    time.sleep(0.1)
        self.stop()
        raise LabError(f"snmpsim did not answer on {self.host}:{self.port} within "
                       f"{STARTUP_TIMEOUT:.0f} s")


# -- data-dir operations, usable without the SnmpLab object (the CLI, another process) ------------

def copy_pages(data_dir: Path, community: str, pages: int, *, colour: bool = False,
               media: str | None = None) -> dict[str, int]:
    touched: dict[str, int] = {}

    def apply(rec: Recording) -> None:
        profile = load_profiles().detect(DeviceIdentity(
            rec.get(SYS_OBJECT_ID) or "", rec.get(SYS_DESCR) or "",
            rec.get(HR_DEVICE_DESCR_1) or ""))
        if profile is None:
            raise LabError(f"{community}: no profile matches this recording")
        for spec in profile.counters:
            if rec.get(spec.oid) is not None and _copy_touches(spec.name, colour, media):
                modulus = 2**32 if rec.tag(spec.oid) == "65" else None  # Counter32 wraps
                touched[spec.name] = rec.add(spec.oid, pages, modulus)

    edit(data_dir, community, apply)
    return touched


def _copy_touches(name: str, colour: bool, media: str | None) -> bool:
    """Whether a copy changes the counter called ``name`` (profiles' naming convention)."""
    tone = "colour" if colour else "mono"
    return name in ("total", "copy", "vendor_total", "engine", tone, f"copy.{tone}") \
        or (media is not None and name == f"copy.{media}")


def edit(data_dir: Path, community: str, change) -> None:  # type: ignore[no-untyped-def]
    path = _path(data_dir, community)
    rec = Recording.parse(path.read_text())
    change(rec)
    before = path.stat().st_mtime
    temp = path.with_name(f".{path.name}.new")
    temp.write_text(rec.dumps())
    temp.chmod(0o644)
    os.replace(temp, path)
    # snmpsim compares whole-second mtimes: make sure this one differs from the last.
    stamp = max(time.time(), int(before) + 1.0)
    os.utime(path, (stamp, stamp))


def sleep_device(data_dir: Path, community: str) -> None:
    path = _path(data_dir, community)
    path.rename(path.with_name(path.name + ASLEEP))


def wake_device(data_dir: Path, community: str) -> None:
    asleep = data_dir / f"{community}{EXT}{ASLEEP}"
    if not asleep.exists():
        raise LabError(f"{community} is not asleep")
    asleep.rename(data_dir / f"{community}{EXT}")


def _path(data_dir: Path, community: str) -> Path:
    path = data_dir / f"{community}{EXT}"
    if not path.exists():
        raise LabError(f"no device {community!r} in {data_dir} (asleep, or not a recording)")
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _check_reachable_by_others(path: Path) -> None:
    for folder in [path, *path.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            raise LabError(f"{folder} is not searchable by others (mode "
                           f"{stat.S_IMODE(folder.stat().st_mode):04o}): snmpsim, running as "
                           f"nobody, cannot reach {path}. Use a venv and workdir outside it.")


def _ber(tag: int, body: bytes) -> bytes:
    assert len(body) < 128  # short-form lengths suffice for this one probe packet
    return bytes([tag, len(body)]) + body


def _v2c_get_sysuptime(community: str) -> bytes:
    """A hand-built SNMPv2c GET of sysUpTime.0: readiness probe without importing pysnmp."""
    varbind = _ber(0x30, _ber(0x06, bytes([0x2B, 6, 1, 2, 1, 1, 3, 0])) + b"\x05\x00")
    pdu = _ber(0xA0, _ber(0x02, b"\x01") + _ber(0x02, b"\x00") + _ber(0x02, b"\x00")
               + _ber(0x30, varbind))
    return _ber(0x30, _ber(0x02, b"\x01") + _ber(0x04, community.encode()) + pdu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.snmp.agent", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run snmpsim until SIGTERM/SIGINT")
    serve.add_argument("--recordings", type=Path, default=Path("tests/data/snmprec"))
    serve.add_argument("--workdir", type=Path, required=True)
    serve.add_argument("--port", type=int, default=0)
    for name in ("copies", "sleep", "wake"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--workdir", type=Path, required=True)
        cmd.add_argument("community")
        if name == "copies":
            cmd.add_argument("pages", type=int)
            cmd.add_argument("--colour", action="store_true")
            cmd.add_argument("--media")
    args = parser.parse_args(argv)
    data = args.workdir / "data"
    if args.command == "copies":
        print(copy_pages(data, args.community, args.pages, colour=args.colour, media=args.media))
    elif args.command == "sleep":
        sleep_device(data, args.community)
    elif args.command == "wake":
        wake_device(data, args.community)
    else:
        return _serve(args.recordings, args.workdir, args.port or None)
    return 0


def _serve(recordings: Path, workdir: Path, port: int | None) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    lab = SnmpLab(recordings, workdir=workdir, port=port)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with lab:
        print(f"snmpsim on {lab.host}:{lab.port}; communities: {', '.join(lab.communities)}",
              flush=True)
        while not stop and lab._process is not None and lab._process.poll() is None:
            time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
