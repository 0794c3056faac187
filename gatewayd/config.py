"""The daemon's configuration: one TOML file, validated as a whole before anything starts.

Every problem is reported at once, one line each, naming the file, the dotted key and the reason,
so an operator fixes the file in one pass. The core sections are described by ``SECTIONS`` below;
the sections owned by billing and the drivers are handed to their own parsers, which report
problems the same way (``drivers.ConfigProblems``).
"""

from __future__ import annotations

import grp
import importlib
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from drivers import ConfigProblems
from drivers.cage import Limits

DEFAULT_PATH = Path("/etc/gatewayd/gatewayd.toml")


class ConfigError(Exception):
    """The configuration file cannot be used; ``lines`` holds one message per problem."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Key:
    """One key of a core section: its type, default, and an optional check returning a reason."""

    type: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    check: Callable[[Any], str | None] | None = None


def _timezone(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use an IANA name such as 'Asia/Shanghai')"
    return None


def _country(value: str) -> str | None:
    if len(value) != 2 or not value.isalpha() or not value.isupper():
        return f"must be a two-letter ISO 3166 country code such as 'CN', got {value!r}"
    return None


def _currency(value: str) -> str | None:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        return f"must be a three-letter ISO 4217 currency code such as 'CNY', got {value!r}"
    return None


def _mode(value: str) -> str | None:
    try:
        mode = int(value, 8)
    except ValueError:
        return f"must be an octal file mode such as '0660', got {value!r}"
    if not 0 <= mode <= 0o777:
        return f"must be between '0000' and '0777', got {value!r}"
    return None


def _group(value: str) -> str | None:
    try:
        grp.getgrnam(value)
    except KeyError:
        return f"no such group {value!r} on this machine"
    return None


def _absolute(value: str) -> str | None:
    if not Path(value).is_absolute():
        return f"must be an absolute path, got {value!r}"
    return None


def _database_url(value: str) -> str | None:
    if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        return f"must be a sqlite:// or postgresql:// URL, got {value!r}"
    return None


def _positive(value: int) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


def _argv(value: list[Any]) -> str | None:
    return None if all(isinstance(a, str) for a in value) else f"must be a list of strings, got {value!r}"


def _listen(value: str) -> str | None:
    """``host:port`` on a loopback or local address; empty switches the console off."""
    import ipaddress

    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return f"must be an IP address and port such as '127.0.0.1:8631' (or empty for off), got {value!r}"
    if not sep or not port.isdigit() or int(port) > 65535:
        return f"must end in a port number 0-65535, such as '127.0.0.1:8631', got {value!r}"
    return None


def _level(value: str) -> str | None:
    levels = ("debug", "info", "warning", "error")
    return None if value in levels else f"must be one of {', '.join(levels)}, got {value!r}"


SECTIONS: dict[str, dict[str, Key]] = {
    "site": {
        "name": Key(str, required=True),
        "country": Key(str, "CN", check=_country),
        "timezone": Key(str, "Asia/Shanghai", check=_timezone),
        "currency": Key(str, "CNY", check=_currency),
        "dial_plan": Key(dict, {}),  # checked by gatewayd.billing
    },
    "paths": {
        "state_dir": Key(str, "/var/lib/gatewayd", check=_absolute),
        "spool_dir": Key(str, "", check=lambda v: v and _absolute(v)),
        # below this much free room on the spool's filesystem: a warning in status and the log
        "min_free_mb": Key(int, 500, check=_positive),
    },
    "database": {
        "url": Key(str, "", check=lambda v: v and _database_url(v)),
    },
    "api": {
        "socket": Key(str, "/run/gatewayd/api.sock", check=_absolute),
        "mode": Key(str, "0660", check=_mode),
        "group": Key(str, "", check=lambda v: v and _group(v)),
        "max_body_bytes": Key(int, 1 << 20, check=_positive),
        # 0: the descriptor limit less a reserve (api.server.connection_cap)
        "max_connections": Key(int, 0, check=lambda v: None if v >= 0 else f"must be 0 or more, got {v}"),
        "request_timeout": Key(int, 10, check=_positive),  # a request's first byte to its last
        "idle_timeout": Key(int, 60, check=_positive),  # a kept-alive connection between requests
    },
    "logging": {
        "level": Key(str, "info", check=_level),
    },
    # What a customer's document (fax or print upload) may become; over a limit is a 422 naming it.
    "documents": {
        "max_pages": Key(int, Limits.pages, check=_positive),
        "max_pixels_per_page": Key(int, Limits.pixels_per_page, check=_positive),
        "max_bytes_rendered": Key(int, Limits.bytes_rendered, check=_positive),
        "max_seconds": Key(int, int(Limits.seconds), check=_positive),
    },
    # The desk's registers (gatewayd.desk): the procedures' deadlines and the mail notify command.
    "desk": {
        "mail_hold_days": Key(int, 3, check=_positive),  # 查无此人 items held, then returned to the post
        "complaint_reply_days": Key(int, 3, check=_positive),  # a complaint's reply is due within
        "visit_reply_days": Key(int, 5, check=_positive),  # a visit opinion's written answer is due within
        "room_hours_per_day": Key(int, 10, check=_positive),  # a meeting room's bookable hours (occupancy)
        "sweep_s": Key((int, float), 300, check=_positive),  # how often kept typing files are checked
        "notify_command": Key(list, [], check=_argv),  # run for each accountable mail item logged
    },
    "console": {
        "listen": Key(str, "127.0.0.1:8631", check=lambda v: v and _listen(v)),
        "session_timeout_s": Key(int, 8 * 3600, check=_positive),
        "max_connections": Key(int, 64, check=_positive),  # browsers at the desk; also kept below the fd limit
    },
}

# Sections parsed elsewhere: name -> "module:function"; the function takes the section's dict and
# the config file's directory and raises drivers.ConfigProblems. Imported only when present, so a
# site without printers needs no pycups.
DELEGATED: dict[str, str] = {
    "rates": "gatewayd.billing.config:parse_rates_section",
    "cups": "drivers.cups.config:parse_cups_config",
    "snmp": "drivers.snmp.config:parse_snmp_config",
    "fax": "drivers.fax.config:parse_fax_config",
}


@dataclass(frozen=True)
class Config:
    path: Path
    site: dict[str, Any]
    paths: dict[str, Any]
    database: dict[str, Any]
    api: dict[str, Any]
    logging: dict[str, Any]
    documents: dict[str, Any]
    desk: dict[str, Any]
    console: dict[str, Any]
    sections: dict[str, Any] = field(default_factory=dict)  # parsed delegated sections
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return Path(self.paths["state_dir"])

    @property
    def spool_dir(self) -> Path:
        return Path(self.paths["spool_dir"] or self.state_dir / "spool")

    @property
    def database_url(self) -> str:
        return self.database["url"] or f"sqlite:///{self.state_dir / 'gatewayd.sqlite3'}"

    @property
    def socket_path(self) -> Path:
        return Path(self.api["socket"])

    @property
    def limits(self) -> Limits:
        d = self.documents
        return Limits(pages=d["max_pages"], pixels_per_page=d["max_pixels_per_page"],
                      bytes_rendered=d["max_bytes_rendered"], seconds=float(d["max_seconds"]))

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.site["timezone"])


def _type_name(t: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", dict: "a table", list: "a list",
             (int, float): "a number"}
    return names.get(t, getattr(t, "__name__", str(t)))  # type: ignore[arg-type]


def _check_section(name: str, raw: Any, spec: dict[str, Key], problems: list[str]) -> dict:
    if not isinstance(raw, dict):
        problems.append(f"{name}: must be a table, got {type(raw).__name__}")
        return {key: rule.default for key, rule in spec.items()}
    values: dict[str, Any] = {}
    for key in raw:
        if key not in spec:
            problems.append(f"{name}.{key}: unknown key (known: {', '.join(spec)})")
    for key, rule in spec.items():
        if key not in raw:
            if rule.required:
                problems.append(f"{name}.{key}: missing required value")
            values[key] = rule.default
            continue
        value = raw[key]
        # bool is an int in Python; a port of `true` is still a mistake.
        if not isinstance(value, rule.type) or (isinstance(value, bool) and rule.type is not bool):
            problems.append(
                f"{name}.{key}: must be {_type_name(rule.type)}, got {type(value).__name__} {value!r}"
            )
            values[key] = rule.default
            continue
        reason = rule.check(value) if rule.check else None
        if reason:
            problems.append(f"{name}.{key}: {reason}")
        values[key] = value
    return values


def parse(raw: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    for name in raw:
        if name not in SECTIONS and name not in DELEGATED:
            problems.append(f"{name}: unknown section (known: {', '.join([*SECTIONS, *DELEGATED])})")
    core = {name: _check_section(name, raw.get(name, {}), spec, problems) for name, spec in SECTIONS.items()}
    if "site" not in raw:
        problems.append("site: missing required section (at least site.name)")
    sections: dict[str, Any] = {}
    if isinstance(raw.get("site"), dict):
        from gatewayd.billing.site import parse_site  # the dial plan is billing's to check

        try:
            sections["site"] = parse_site(raw["site"])
        except ConfigProblems as err:
            problems.extend(f"site.{key}: {reason}" for key, reason in err.problems)
    for name, target in DELEGATED.items():
        if name not in raw:
            continue
        module_name, func_name = target.split(":")
        try:
            parser = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError):
            problems.append(f"{name}: this build of gatewayd does not support the [{name}] section yet")
            continue
        if not isinstance(raw[name], dict):
            problems.append(f"{name}: must be a table ([{name}]), got {type(raw[name]).__name__} {raw[name]!r}")
            continue
        try:
            sections[name] = parser(raw[name], path.parent)
        except ConfigProblems as err:
            problems.extend(f"{name}.{key}: {reason}" for key, reason in err.problems)
    if not problems:
        problems += _path_problems(Config(path=path, raw=raw, sections=sections, **core))
    if problems:
        raise ConfigError([f"{path}: {line}" for line in problems])
    return Config(path=path, raw=raw, sections=sections, **core)


def _where_problem(path: Path, want: str) -> str | None:
    """Why ``path`` cannot be the ``want`` ("directory", "file", "socket") the daemon makes or
    opens there, or None. Nothing is created; only what exists is looked at."""
    import stat

    try:  # a socket path is never followed (claim_socket_path removes only a socket)
        mode = (path.lstat() if want == "socket" else path.stat()).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as err:
        return f"{path} cannot be looked at: {err.strerror}"
    if mode is not None:
        is_ok = {"directory": stat.S_ISDIR, "file": stat.S_ISREG, "socket": stat.S_ISSOCK}[want](mode)
        return None if is_ok else f"{path} exists and is not a {want}"
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{path} is under {parent}, which is not a directory"
        if parent.is_symlink():
            return f"{path} is under {parent}, a dangling symbolic link"
    return None


def _path_problems(config: Config) -> list[str]:
    """Paths the daemon will create or open, checked before ``run`` trips over them."""
    wanted = [("paths.state_dir", config.state_dir, "directory"),
              ("paths.spool_dir", config.spool_dir, "directory"),
              ("api.socket", config.socket_path, "socket")]
    if config.database_url.startswith("sqlite:///"):
        wanted.append(("database.url", Path(config.database_url.removeprefix("sqlite:///")), "file"))
    return [f"{key}: {reason}" for key, place, want in wanted
            if (reason := _where_problem(place, want))]


def _merge(into: dict[str, Any], extra: dict[str, Any], where: str, problems: list[str]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, f"{where}{key}.", problems)
        elif key in into:
            problems.append(f"{where}{key}: set both here and in the main file")
        else:
            into[key] = value


def _with_includes(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """``include = ["rates.toml"]``: tables kept in other files (the price list, say), merged in.

    A key set in two files is an error rather than a silent override: an operator reading either
    file must be able to trust what it says.
    """
    includes = raw.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError([f"{path}: include: must be a list of file names, got {includes!r}"])
    problems: list[str] = []
    for name in includes:
        included = path.parent / name
        try:
            extra = tomllib.loads(included.read_text(encoding="utf-8"))
        except OSError as err:
            problems.append(f"{path}: include: cannot read {included}: {err.strerror}")
            continue
        except UnicodeDecodeError as err:
            problems.append(f"{included}: {_not_utf8(err)}")
            continue
        except tomllib.TOMLDecodeError as err:
            problems.append(f"{included}: not valid TOML: {err}")
            continue
        if "include" in extra:
            problems.append(f"{included}: include: included files cannot include others")
        before = len(problems)
        _merge(raw, extra, "", problems)
        problems[before:] = [f"{included}: {line}" for line in problems[before:]]
    if problems:
        raise ConfigError(problems)
    return raw


def _not_utf8(err: UnicodeDecodeError) -> str:
    return f"not UTF-8 text: byte 0x{err.object[err.start]:02x} at offset {err.start}"


def load(path: Path, *, state_dir: Path | None = None, socket: Path | None = None) -> Config:
    """Read and validate ``path``; ``state_dir``/``socket`` override the file (demo, tests)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"{path}: cannot read: {err.strerror}"]) from err
    except UnicodeDecodeError as err:
        raise ConfigError([f"{path}: {_not_utf8(err)}"]) from err
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{path}: not valid TOML: {err}"]) from err
    raw = _with_includes(raw, path)
    if state_dir is not None:
        raw.setdefault("paths", {})["state_dir"] = str(state_dir.resolve())
    if socket is not None:
        raw.setdefault("api", {})["socket"] = str(socket.resolve())
    return parse(raw, path)
