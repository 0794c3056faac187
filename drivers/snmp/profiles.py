"""Device profiles: which OIDs hold a model's counters, serial and status, and how to recognise it.

Profiles are data (TOML files): the built-in ones live in ``drivers/snmp/profiles/``; a site adds
its own with ``[snmp] profile_files``. A site file whose ``name`` equals a built-in one replaces it.
File format (see ``profiles/printer-mib.toml`` for a commented example)::

    name = "sharp"                # unique; what `profile = "..."` in the config names
    extends = "printer-mib"       # inherit counters/serial/status, then override by name
    priority = 50                 # among matching profiles the highest wins (printer-mib is 0)
    copy_counters = ["copy.mono", "copy.colour"]   # what a copy ticket bills
    serial_oids = ["1.3.6..."]    # first non-empty answer wins
    printer_status_oid = "..."    # hrPrinterStatus
    device_status_oid = "..."     # hrDeviceStatus
    [[match]]                     # any rule matching selects the profile
    sys_object_id = "1.3.6.1.4.1.2385"   # arc-wise prefix of sysObjectID.0
    sys_descr = "^SHARP "         # regex searched in sysDescr.0 (optional)
    model = "^MX-"                # regex searched in hrDeviceDescr.1 (optional)
    [counters.total]
    oid = "1.3.6.1.2.1.43.10.2.1.4.1.1"
    unit_oid = "1.3.6.1.2.1.43.10.2.1.3.1.1"   # or: unit = "impressions" | "sheets" | "pages"
    wraps_at = 4294967296         # optional modulus; default from the SNMP type (Counter32)
    required = true               # a reading without it is refused (default false: omitted)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from drivers import ConfigProblems
from drivers.snmp.oid import has_prefix, is_oid
from drivers.snmp.reading import Unit

_FIXED_UNITS = {u.value: u for u in (Unit.IMPRESSIONS, Unit.SHEETS, Unit.PAGES)}
_TOP_KEYS = {"name", "description", "extends", "priority", "copy_counters", "serial_oids",
             "printer_status_oid", "device_status_oid", "match", "counters"}
_MATCH_KEYS = {"sys_object_id", "sys_descr", "model"}
_COUNTER_KEYS = {"oid", "unit", "unit_oid", "wraps_at", "required"}
_COUNTER_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class CounterSpec:
    name: str
    oid: str
    unit: Unit | None  #: fixed unit, or None when read from ``unit_oid``
    unit_oid: str | None
    wraps_at: int | None
    required: bool


@dataclass(frozen=True)
class MatchRule:
    sys_object_id: str | None
    sys_descr: re.Pattern[str] | None
    model: re.Pattern[str] | None

    def matches(self, identity: DeviceIdentity) -> bool:
        return (
            (self.sys_object_id is None
             or (is_oid(identity.sys_object_id)
                 and has_prefix(identity.sys_object_id, self.sys_object_id)))
            and (self.sys_descr is None or bool(self.sys_descr.search(identity.sys_descr)))
            and (self.model is None or bool(self.model.search(identity.model)))
        )


@dataclass(frozen=True)
class DeviceIdentity:
    """What a device says it is (sysObjectID.0, sysDescr.0, hrDeviceDescr.1; "" if absent)."""

    sys_object_id: str
    sys_descr: str
    model: str


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    source: str  #: file it came from, for messages
    priority: int
    match: tuple[MatchRule, ...]
    serial_oids: tuple[str, ...]
    printer_status_oid: str | None
    device_status_oid: str | None
    counters: tuple[CounterSpec, ...]
    copy_counters: tuple[str, ...]

    def oids(self) -> tuple[str, ...]:
        """Every OID one reading GETs, without duplicates, in a stable order."""
        wanted: list[str] = [*self.serial_oids]
        wanted += [o for o in (self.printer_status_oid, self.device_status_oid) if o]
        for spec in self.counters:
            wanted.append(spec.oid)
            if spec.unit_oid:
                wanted.append(spec.unit_oid)
        return tuple(dict.fromkeys(wanted))


class ProfileBook:
    """All loaded profiles, by name; detects which one fits a device."""

    def __init__(self, profiles: Iterable[Profile]):
        self._by_name = {p.name: p for p in profiles}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_name))

    def get(self, name: str) -> Profile:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def detect(self, identity: DeviceIdentity) -> Profile | None:
        candidates = [p for p in self._by_name.values()
                      if any(rule.matches(identity) for rule in p.match)]
        # Highest priority wins; the name breaks ties so detection never depends on file order.
        candidates.sort(key=lambda p: (-p.priority, p.name))
        return candidates[0] if candidates else None


def builtin_profile_files() -> list[Path]:
    folder = resources.files("drivers.snmp") / "profiles"
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml"))


def load_profiles(extra_files: Sequence[Path] = ()) -> ProfileBook:
    """Built-in profiles plus a site's files (which replace built-ins of the same name).

    Raises ConfigProblems keyed ``profile_files[i]`` (site files) or the file name (built-ins).
    """
    raw: dict[str, tuple[str, dict[str, Any]]] = {}
    problems: list[tuple[str, str]] = []
    sources = [(p.name, p) for p in builtin_profile_files()]
    sources += [(f"profile_files[{i}]", p) for i, p in enumerate(extra_files)]
    for key, path in sources:
        try:
            with open(path, "rb") as fh:
                doc = tomllib.load(fh)
        except OSError as err:
            problems.append((key, f"cannot read profile file {path}: {err.strerror}"))
            continue
        except tomllib.TOMLDecodeError as err:
            problems.append((key, f"{path} is not valid TOML: {err}"))
            continue
        name = doc.get("name")
        if not isinstance(name, str) or not name:
            problems.append((key, f"{path}: 'name' must be a non-empty string"))
            continue
        raw[name] = (key, {**doc, "_source": str(path)})
    profiles = []
    for name, (key, doc) in raw.items():
        chain = _inheritance_chain(name, raw)
        if isinstance(chain, str):
            problems.append((key, f"{doc['_source']}: {chain}"))
            continue
        found = _build(doc, chain)
        problems += [(key, f"{doc['_source']}: {reason}") for reason in found[1]]
        if found[0] is not None:
            profiles.append(found[0])
    if problems:
        raise ConfigProblems(problems)
    return ProfileBook(profiles)


def _inheritance_chain(name: str, raw: Mapping[str, tuple[str, dict[str, Any]]]
                       ) -> list[dict[str, Any]] | str:
    """Documents from the root ancestor down to ``name``, or a reason why there is none."""
    chain: list[dict[str, Any]] = []
    seen: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen:
            return f"'extends' loops: {' -> '.join([*seen, current])}"
        if current not in raw:
            return (f"'extends' names unknown profile {current!r}; "
                    f"known: {', '.join(sorted(raw))}")
        seen.append(current)
        doc = raw[current][1]
        chain.insert(0, doc)
        parent = doc.get("extends")
        current = parent if isinstance(parent, str) else None
    return chain


def _build(doc: dict[str, Any], chain: list[dict[str, Any]]) -> tuple[Profile | None, list[str]]:
    problems: list[str] = []
    unknown = sorted(set(doc) - _TOP_KEYS - {"_source"})
    if unknown:
        problems.append(f"unknown key(s) {', '.join(unknown)}; expected some of "
                        f"{', '.join(sorted(_TOP_KEYS))}")
    merged: dict[str, Any] = {}
    counters: dict[str, Any] = {}
    for level in chain:  # root first, so the most derived profile wins
        merged.update({k: v for k, v in level.items() if k not in ("counters", "match")})
        counters.update(level.get("counters", {}))
    specs = [_counter(name, body, problems) for name, body in counters.items()]
    rules = [_rule(i, body, problems) for i, body in enumerate(doc.get("match", []))]
    serials = merged.get("serial_oids", [])
    for i, oid in enumerate(serials):
        _check_oid(f"serial_oids[{i}]", oid, problems)
    for field in ("printer_status_oid", "device_status_oid"):
        if field in merged:
            _check_oid(field, merged[field], problems)
    priority = merged.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append(f"priority: must be an integer, got {priority!r}")
    names = {s.name for s in specs if s is not None}
    copy_counters = merged.get("copy_counters", ["total"])
    missing = [c for c in copy_counters if c not in names]
    if not counters:
        problems.append("defines no counters: add [counters.total] or extends = \"printer-mib\"")
    elif missing:
        problems.append(f"copy_counters: {', '.join(missing)} not among counters "
                        f"({', '.join(sorted(names))})")
    if problems:
        return None, problems
    return Profile(
        name=doc["name"], description=str(merged.get("description", "")), source=doc["_source"],
        priority=priority, match=tuple(r for r in rules if r is not None),
        serial_oids=tuple(serials), printer_status_oid=merged.get("printer_status_oid"),
        device_status_oid=merged.get("device_status_oid"),
        counters=tuple(s for s in specs if s is not None), copy_counters=tuple(copy_counters),
    ), []


def _check_oid(key: str, value: object, problems: list[str]) -> bool:
    if isinstance(value, str) and is_oid(value):
        return True
    problems.append(f"{key}: must be a dotted numeric OID like '1.3.6.1.2.1.43.10.2.1.4.1.1', "
                    f"got {value!r}")
    return False


def _regex(key: str, value: object, problems: list[str]) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(str(value))
    except re.error as err:
        problems.append(f"{key}: invalid regular expression {value!r}: {err}")
        return None


def _rule(i: int, body: dict[str, Any], problems: list[str]) -> MatchRule | None:
    key = f"match[{i}]"
    unknown = sorted(set(body) - _MATCH_KEYS)
    if unknown or not body:
        problems.append(f"{key}: needs some of {', '.join(sorted(_MATCH_KEYS))}"
                        + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        return None
    prefix = body.get("sys_object_id")
    if prefix is not None and not _check_oid(f"{key}.sys_object_id", prefix, problems):
        return None
    return MatchRule(prefix, _regex(f"{key}.sys_descr", body.get("sys_descr"), problems),
                     _regex(f"{key}.model", body.get("model"), problems))


def _counter(name: str, body: dict[str, Any], problems: list[str]) -> CounterSpec | None:
    key = f"counters.{name}"
    before = len(problems)
    if not _COUNTER_NAME.match(name):
        problems.append(f"{key}: counter names are lower-case words joined by dots "
                        f"('copy.mono'), got {name!r}")
    unknown = sorted(set(body) - _COUNTER_KEYS)
    if unknown:
        problems.append(f"{key}: unknown key(s) {', '.join(unknown)}; expected some of "
                        f"{', '.join(sorted(_COUNTER_KEYS))}")
    _check_oid(f"{key}.oid", body.get("oid"), problems)
    unit_name, unit_oid = body.get("unit"), body.get("unit_oid")
    if (unit_name is None) == (unit_oid is None):
        problems.append(f"{key}: give exactly one of 'unit' ({', '.join(_FIXED_UNITS)}) "
                        f"or 'unit_oid'")
    elif unit_name is not None and unit_name not in _FIXED_UNITS:
        problems.append(f"{key}.unit: must be one of {', '.join(_FIXED_UNITS)}, "
                        f"got {unit_name!r}")
    elif unit_oid is not None:
        _check_oid(f"{key}.unit_oid", unit_oid, problems)
    wraps_at = body.get("wraps_at")
    if wraps_at is not None and (not isinstance(wraps_at, int) or wraps_at < 2):
        problems.append(f"{key}.wraps_at: must be an integer modulus >= 2, got {wraps_at!r}")
    if len(problems) > before:
        return None
    return CounterSpec(name=name, oid=body["oid"], unit=_FIXED_UNITS.get(unit_name or ""),
                       unit_oid=unit_oid, wraps_at=wraps_at,
                       required=bool(body.get("required", False)))
