"""The ``[cups]`` config section.

```toml
[cups]
server = "/run/cups/cups.sock"   # cupsd's Unix socket, or "host:port"
poll_interval = 1.0              # seconds between Get-Notifications pulls
catchup_interval = 60.0          # seconds between catch-up scans (Get-Jobs since the low-water job)
lease = 3600                     # subscription lease, seconds; renewed at half-life
stuck_after = 600.0              # a job held or stopped this long is reported in status()

[[cups.queues]]
name = "front-desk-mono"         # the CUPS queue
device = "mfp-1"                 # the physical device it prints on (the SNMP device's name)
price_class = "office-mono"      # the rate table row family billing applies
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers import ConfigProblems

DEFAULT_SERVER = "/run/cups/cups.sock"

#: CUPS' own limit is MaxLeaseDuration (default 86400 s); a lease under a minute would spend
#: more requests renewing than pulling.
LEASE_RANGE = (60, 86400)

_QUEUE_NAME = re.compile(r"[^\s/#]+")  # CUPS refuses spaces, '/' and '#' in printer names
_HOST_PORT = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\s\[\]]+)(?::(?P<port>.*))?")


@dataclass(frozen=True)
class QueueConfig:
    name: str
    device: str
    price_class: str


@dataclass(frozen=True)
class CupsConfig:
    server: str = DEFAULT_SERVER
    poll_interval: float = 1.0
    catchup_interval: float = 60.0
    lease: int = 3600
    stuck_after: float = 600.0
    queues: tuple[QueueConfig, ...] = ()

    def queue(self, name: str) -> QueueConfig | None:
        return next((q for q in self.queues if q.name == name), None)


class _Problems:
    """Collects every problem of a section so the operator fixes them in one go."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, reason: str) -> None:
        self.items.append((key, reason))

    def unknown_keys(self, raw: dict[str, Any], known: set[str], prefix: str = "") -> None:
        for key in sorted(set(raw) - known):
            self.add(f"{prefix}{key}", "unknown key")

    def number(self, raw: dict[str, Any], key: str, default: float, lo: float, hi: float,
               integer: bool = False) -> float:
        value = raw.get(key, default)
        kind = int if integer else (int, float)
        # bool is an int in Python; `lease = true` is a typo, not a lease of 1 s.
        if isinstance(value, bool) or not isinstance(value, kind) or not lo <= value <= hi:
            what = "an integer" if integer else "a number"
            self.add(key, f"must be {what} {_fmt(lo)}-{_fmt(hi)}, got {value!r}")
            return default
        return value

    def text(self, raw: dict[str, Any], key: str, prefix: str) -> str:
        if key not in raw:
            self.add(f"{prefix}{key}", "is required")
            return ""
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            self.add(f"{prefix}{key}", f"must be a non-empty string, got {value!r}")
            return ""
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _check_server(value: Any, problems: _Problems) -> str:
    if not isinstance(value, str) or not value:
        problems.add("server", f"must be a socket path or host:port, got {value!r}")
        return DEFAULT_SERVER
    if value.startswith("/"):
        return value
    m = _HOST_PORT.fullmatch(value)
    if m is None:
        problems.add("server", f"must be a socket path starting with '/' or host:port, "
                               f"got {value!r}")
        return DEFAULT_SERVER
    port = m.group("port")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        problems.add("server", f"port must be an integer 1-65535, got {port!r}")
    return value


def _parse_queues(raw: Any, problems: _Problems) -> tuple[QueueConfig, ...]:
    if not isinstance(raw, list):
        problems.add("queues", f"must be an array of tables ([[cups.queues]]), got {raw!r}")
        return ()
    queues: list[QueueConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        prefix = f"queues[{i}]."
        if not isinstance(entry, dict):
            problems.add(f"queues[{i}]", f"must be a table, got {entry!r}")
            continue
        problems.unknown_keys(entry, {"name", "device", "price_class"}, prefix)
        name = problems.text(entry, "name", prefix)
        if name and not _QUEUE_NAME.fullmatch(name):
            problems.add(f"{prefix}name", f"must be a CUPS queue name (no spaces, '/' or '#'), "
                                          f"got {name!r}")
        elif name in seen:
            problems.add(f"{prefix}name", f"duplicate queue {name!r}")
        seen.add(name)
        device = problems.text(entry, "device", prefix)
        price_class = problems.text(entry, "price_class", prefix)
        queues.append(QueueConfig(name, device, price_class))
    return tuple(queues)


def parse_cups_config(raw: dict[str, Any], base_dir: Path | None = None) -> CupsConfig:
    """Validate the ``[cups]`` table; raise :class:`drivers.ConfigProblems` listing every problem.

    ``base_dir`` (the config file's directory) is what gatewayd's loader passes every delegated
    section; ``[cups]`` has no relative paths, so it is unused.
    """
    problems = _Problems()
    problems.unknown_keys(raw, {"server", "poll_interval", "catchup_interval", "lease",
                                "stuck_after", "queues"})
    server = _check_server(raw.get("server", DEFAULT_SERVER), problems)
    poll = problems.number(raw, "poll_interval", 1.0, 0.05, 60)
    catchup = problems.number(raw, "catchup_interval", 60.0, 1, 86400)
    lease = problems.number(raw, "lease", 3600, *LEASE_RANGE, integer=True)
    stuck = problems.number(raw, "stuck_after", 600.0, 1, 7 * 86400)
    queues = _parse_queues(raw.get("queues", []), problems)
    if problems.items:
        raise ConfigProblems(problems.items)
    return CupsConfig(server=server, poll_interval=float(poll), catchup_interval=float(catchup),
                      lease=int(lease), stuck_after=float(stuck), queues=queues)
