"""The ``[snmp]`` config section: parsed and validated into frozen dataclasses.

Example (``/etc/gatewayd/gatewayd.toml``)::

    [snmp]
    poll_interval = 60                   # seconds; each device may override
    secrets_file = "snmp-secrets.toml"   # mode 0600, owned by the daemon's user
    profile_files = ["site-profiles.toml"]

    [[snmp.devices]]
    name = "copier-1f"
    host = "10.0.0.21"
    version = "2c"                       # community comes from the secrets file

    [[snmp.devices]]
    name = "copier-2f"
    host = "10.0.0.22"
    version = "3"
    user = "gatewayd"
    auth_protocol = "SHA-256"
    priv_protocol = "AES"
    profile = "sharp"

Secrets file (same keys, per device)::

    [devices.copier-1f]
    community = "s3cret"
    [devices.copier-2f]
    auth_key = "..."
    priv_key = "..."
"""

from __future__ import annotations

import enum
import math
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers import ConfigProblems
from drivers.snmp.profiles import ProfileBook, load_profiles
from drivers.snmp.stability import SettlePolicy


class SnmpVersion(enum.Enum):
    V1 = "1"
    V2C = "2c"
    V3 = "3"


class AuthProtocol(enum.Enum):
    MD5 = "MD5"
    SHA = "SHA"  #: SHA-1 (HMAC-SHA-96, RFC 3414)
    SHA224 = "SHA-224"  #: RFC 7860
    SHA256 = "SHA-256"
    SHA384 = "SHA-384"
    SHA512 = "SHA-512"


class PrivProtocol(enum.Enum):
    DES = "DES"
    TRIPLE_DES = "3DES"
    AES = "AES"  #: AES-128 CFB (RFC 3826)
    AES192 = "AES-192"  #: key extension as Cisco/pysnmp ("Reeder")
    AES256 = "AES-256"
    AES192_BLUMENTHAL = "AES-192-BLUMENTHAL"  #: draft-blumenthal-aes-usm key extension
    AES256_BLUMENTHAL = "AES-256-BLUMENTHAL"


@dataclass(frozen=True)
class Community:
    """SNMPv1/v2c credentials."""

    community: str = field(repr=False)


@dataclass(frozen=True)
class UsmUser:
    """SNMPv3 USM credentials; security level follows from which keys are set."""

    user: str
    auth_protocol: AuthProtocol | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: PrivProtocol | None = None
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""  #: SNMPv3 context name (snmpsim selects the recording by it)


@dataclass(frozen=True)
class DeviceConfig:
    name: str
    host: str
    port: int
    version: SnmpVersion
    credentials: Community | UsmUser
    timeout: float  #: seconds per try
    retries: int  #: extra tries after the first
    poll_interval: float  #: seconds between routine readings
    profile: str  #: "auto" or a profile name
    max_pages_per_minute: int  #: above this a counter jump is flagged implausible


@dataclass(frozen=True)
class SnmpConfig:
    devices: tuple[DeviceConfig, ...]
    profiles: ProfileBook
    billing: SettlePolicy
    max_concurrent: int  #: SNMP requests in flight at once, over all devices
    warnings: tuple[str, ...] = ()  #: for the loader to log (secrets in the main file...)

    def device(self, name: str) -> DeviceConfig:
        return next(d for d in self.devices if d.name == name)


_SECTION_KEYS = {"poll_interval", "timeout", "retries", "max_concurrent", "secrets_file",
                 "profile_files", "stable_polls", "billing_poll_interval", "billing_max_wait",
                 "max_pages_per_minute", "devices"}
_SECRET_KEYS = ("community", "auth_key", "priv_key")
_DEVICE_KEYS = {"name", "host", "port", "version", "user", "auth_protocol", "priv_protocol",
                "context", "timeout", "retries", "poll_interval", "profile",
                "max_pages_per_minute", *_SECRET_KEYS}
_VERSIONS = {"1": SnmpVersion.V1, "v1": SnmpVersion.V1, "2c": SnmpVersion.V2C,
             "v2c": SnmpVersion.V2C, "3": SnmpVersion.V3, "v3": SnmpVersion.V3}
# RFC 3414 section 11.2: USM passphrases shorter than 8 characters are refused by agents.
_MIN_PASSPHRASE = 8


class _Problems:
    """Collects (key, reason) pairs so one run reports every problem, not just the first."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, reason: str) -> None:
        self.items.append((key, reason))


def parse_snmp_config(raw: dict[str, Any], base_dir: Path) -> SnmpConfig:
    """Validate the ``[snmp]`` table; relative paths are resolved against ``base_dir``."""
    problems = _Problems()
    warnings: list[str] = []
    _unknown(raw, _SECTION_KEYS, "", problems)
    defaults = {
        "poll_interval": _number(raw, "poll_interval", 60.0, problems, minimum=1.0),
        "timeout": _number(raw, "timeout", 2.0, problems, minimum=0.1),
        "retries": _integer(raw, "retries", 1, problems, 0, 10),
        "max_pages_per_minute": _integer(raw, "max_pages_per_minute", 150, problems, 1, 100000),
    }
    billing = SettlePolicy(
        stable_polls=_integer(raw, "stable_polls", 3, problems, 1, 20),
        poll_every=_number(raw, "billing_poll_interval", 2.0, problems, minimum=0.1),
        max_wait=_number(raw, "billing_max_wait", 60.0, problems, minimum=1.0),
    )
    max_concurrent = _integer(raw, "max_concurrent", 64, problems, 1, 10000)
    secrets = _read_secrets(raw.get("secrets_file"), base_dir, problems, warnings)
    profiles = _profiles(raw.get("profile_files", []), base_dir, problems)
    devices_raw = raw.get("devices", [])
    if not isinstance(devices_raw, list) or not all(isinstance(d, dict) for d in devices_raw):
        problems.add("devices", "must be an array of tables ([[snmp.devices]])")
        devices_raw = []
    devices: list[DeviceConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(devices_raw):
        device = _device(i, entry, defaults, secrets, profiles, problems, warnings)
        if device is None:
            continue
        if device.name in seen:
            problems.add(f"devices[{i}].name", f"duplicate device name {device.name!r}")
        seen.add(device.name)
        devices.append(device)
    unused = sorted(set(secrets) - seen)
    if unused and not problems.items:
        warnings.append(f"secrets_file has entries for unknown devices: {', '.join(unused)}")
    if problems.items:
        raise ConfigProblems(problems.items)
    assert profiles is not None  # a None profiles always came with a problem
    return SnmpConfig(tuple(devices), profiles, billing, max_concurrent, tuple(warnings))


def _unknown(table: dict[str, Any], allowed: set[str], prefix: str, problems: _Problems) -> None:
    for key in sorted(set(table) - allowed):
        problems.add(f"{prefix}{key}", f"unknown key; expected one of {', '.join(sorted(allowed))}")


def _number(table: dict[str, Any], key: str, default: float, problems: _Problems, *,
            minimum: float, prefix: str = "") -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < minimum:
        problems.add(prefix + key, f"must be a number >= {minimum:g} (seconds), got {value!r}")
        return default
    return float(value)


def _integer(table: dict[str, Any], key: str, default: int, problems: _Problems, low: int,
             high: int, prefix: str = "") -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(prefix + key, f"must be an integer {low}-{high}, got {value!r}")
        return default
    return value


def _read_secrets(name: object, base_dir: Path, problems: _Problems,
                  warnings: list[str]) -> dict[str, dict[str, Any]]:
    if name is None:
        return {}
    if not isinstance(name, str) or not name:
        problems.add("secrets_file", f"must be a file path, got {name!r}")
        return {}
    path = base_dir / name
    try:
        info = path.stat()
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except OSError as err:
        problems.add("secrets_file", f"cannot read {path}: {err.strerror}")
        return {}
    except tomllib.TOMLDecodeError as err:
        problems.add("secrets_file", f"{path} is not valid TOML: {err}")
        return {}
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Communities and USM keys grant access to every copier: refuse rather than warn.
        problems.add("secrets_file", f"{path} is accessible by group/others (mode "
                     f"{stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")
    if info.st_uid != os.geteuid():
        warnings.append(f"secrets_file {path} is owned by uid {info.st_uid}, not by the daemon's "
                        f"user (uid {os.geteuid()}); chown it")
    devices = doc.get("devices", {})
    extra = sorted(set(doc) - {"devices"})
    if extra or not isinstance(devices, dict):
        problems.add("secrets_file", f"{path}: expected only [devices.<name>] tables with "
                     f"{', '.join(_SECRET_KEYS)}")
        return {}
    for dev, body in devices.items():
        bad = sorted(set(body) - set(_SECRET_KEYS)) if isinstance(body, dict) else ["?"]
        if bad:
            problems.add("secrets_file", f"{path}: [devices.{dev}] may hold only "
                         f"{', '.join(_SECRET_KEYS)}, found {', '.join(bad)}")
    return {k: v for k, v in devices.items() if isinstance(v, dict)}


def _profiles(files: object, base_dir: Path, problems: _Problems) -> ProfileBook | None:
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        problems.add("profile_files", f"must be a list of file paths, got {files!r}")
        files = []
    try:
        return load_profiles([base_dir / f for f in files])
    except ConfigProblems as err:
        for key, reason in err.problems:
            problems.add(key, reason)
        return None


def _device(i: int, entry: dict[str, Any], defaults: dict[str, Any],
            secrets: dict[str, dict[str, Any]], profiles: ProfileBook | None,
            problems: _Problems, warnings: list[str]) -> DeviceConfig | None:
    pre = f"devices[{i}]."
    before = len(problems.items)
    _unknown(entry, _DEVICE_KEYS, pre, problems)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(pre + "name", "required: a non-empty string naming the copier")
        name = f"#{i}"
    host = entry.get("host")
    if not isinstance(host, str) or not host.strip():
        problems.add(pre + "host", "required: the copier's IP address or host name")
    port = _integer(entry, "port", 161, problems, 1, 65535, pre)
    version = _VERSIONS.get(str(entry.get("version", "2c")).lower())
    if version is None or isinstance(entry.get("version"), bool):
        problems.add(pre + "version",
                     f"must be \"1\", \"2c\" or \"3\", got {entry.get('version')!r}")
        version = SnmpVersion.V2C
    merged = dict(entry)
    for key, value in secrets.get(name, {}).items():
        if key in entry:
            problems.add(pre + key, "given both here and in secrets_file; keep it in secrets_file")
        merged[key] = value
    for key in _SECRET_KEYS:
        if key in entry and key not in secrets.get(name, {}):
            warnings.append(f"devices[{i}].{key} ({name}) is in the main config file; "
                            f"move it to secrets_file")
    credentials = (_usm(pre, merged, problems) if version is SnmpVersion.V3
                   else _community(pre, merged, problems))
    profile = entry.get("profile", "auto")
    if profiles is not None and profile != "auto" and profile not in profiles:
        problems.add(pre + "profile", f"unknown profile {profile!r}; use \"auto\" or one of "
                     f"{', '.join(profiles.names)}")
    device = DeviceConfig(
        name=name, host=str(host), port=port, version=version, credentials=credentials,
        timeout=_number(entry, "timeout", defaults["timeout"], problems, minimum=0.1, prefix=pre),
        retries=_integer(entry, "retries", defaults["retries"], problems, 0, 10, pre),
        poll_interval=_number(entry, "poll_interval", defaults["poll_interval"], problems,
                              minimum=1.0, prefix=pre),
        profile=str(profile),
        max_pages_per_minute=_integer(entry, "max_pages_per_minute",
                                      defaults["max_pages_per_minute"], problems, 1, 100000, pre),
    )
    return device if len(problems.items) == before else None


def _community(pre: str, merged: dict[str, Any], problems: _Problems) -> Community:
    for key in ("user", "auth_protocol", "auth_key", "priv_protocol", "priv_key", "context"):
        if key in merged:
            problems.add(pre + key, "only for version \"3\"; SNMPv1/v2c uses 'community'")
    community = merged.get("community")
    if not isinstance(community, str) or not community:
        problems.add(pre + "community", "required for SNMPv1/v2c (here or in secrets_file)")
        return Community("")
    return Community(community)


def _usm(pre: str, merged: dict[str, Any], problems: _Problems) -> UsmUser:
    if "community" in merged:
        problems.add(pre + "community", "not used with version \"3\"; give 'user' and keys")
    user = merged.get("user")
    if not isinstance(user, str) or not user:
        problems.add(pre + "user", "required for SNMPv3: the USM user name")
        user = ""
    auth = _protocol(pre, merged, "auth", AuthProtocol, problems)
    priv = _protocol(pre, merged, "priv", PrivProtocol, problems)
    no_auth_given = merged.get("auth_protocol") is None and merged.get("auth_key") is None
    if priv[0] is not None and no_auth_given:  # an invalid auth setting is reported already
        problems.add(pre + "priv_protocol", "privacy needs authentication: set auth_protocol "
                     "and auth_key too (SNMPv3 has no noAuthPriv level)")
    context = merged.get("context", "")
    if not isinstance(context, str):
        problems.add(pre + "context", f"must be a string, got {context!r}")
        context = ""
    return UsmUser(user, auth[0], auth[1], priv[0], priv[1], context)


def _protocol(pre: str, merged: dict[str, Any], kind: str,
              enum_type: type[AuthProtocol] | type[PrivProtocol], problems: _Problems
              ) -> tuple[Any, str | None]:
    name, key = merged.get(f"{kind}_protocol"), merged.get(f"{kind}_key")
    if name is None and key is None:
        return None, None
    choices = ", ".join(m.value for m in enum_type)
    try:
        protocol = enum_type(str(name).upper())
    except ValueError:
        problems.add(f"{pre}{kind}_protocol", f"must be one of {choices}, got {name!r}")
        return None, None
    if not isinstance(key, str) or len(key) < _MIN_PASSPHRASE:
        problems.add(f"{pre}{kind}_key", f"required with {kind}_protocol: a passphrase of at "
                     f"least {_MIN_PASSPHRASE} characters (RFC 3414), here or in secrets_file")
        return None, None
    return protocol, key
