"""Pure functions from SNMP answers to profiles and readings (no I/O: tested on dicts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from drivers.snmp.errors import DeviceAnswerInvalid, UnknownModel
from drivers.snmp.oid import HR_DEVICE_DESCR_1, SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME
from drivers.snmp.profiles import CounterSpec, DeviceIdentity, Profile, ProfileBook
from drivers.snmp.reading import (
    HR_DEVICE_STATUS,
    HR_PRINTER_STATUS,
    PRT_MARKER_COUNTER_UNIT,
    Counter,
    DeviceStatus,
    MeterReading,
    PrinterStatus,
    Unit,
)
from drivers.snmp.values import WRAP_OF_KIND, SnmpValue, ValueKind

E = TypeVar("E")

_COUNTER_KINDS = (ValueKind.COUNTER32, ValueKind.COUNTER64, ValueKind.INTEGER)


def identity_of(values: Mapping[str, SnmpValue]) -> DeviceIdentity:
    oid_value = values.get(SYS_OBJECT_ID)
    return DeviceIdentity(
        sys_object_id=(oid_value.oid or "") if oid_value else "",
        sys_descr=values[SYS_DESCR].text() if SYS_DESCR in values else "",
        model=values[HR_DEVICE_DESCR_1].text() if HR_DEVICE_DESCR_1 in values else "",
    )


def choose_profile(device: str, wanted: str, book: ProfileBook,
                   identity: DeviceIdentity) -> Profile:
    if wanted != "auto":
        return book.get(wanted)
    profile = book.detect(identity)
    if profile is None:
        raise UnknownModel(device, f"no profile matches sysObjectID {identity.sys_object_id!r}, "
                           f"sysDescr {identity.sys_descr!r}; add a profile file or set "
                           f"profile = \"printer-mib\"")
    return profile


def reading_oids(profile: Profile) -> tuple[str, ...]:
    return (SYS_UPTIME, *profile.oids())


def build_reading(device: str, profile: Profile, values: Mapping[str, SnmpValue],
                  at: datetime) -> MeterReading:
    """The reading the profile describes, from one round of GET answers.

    Absent optional counters are left out (a printer-only Kyocera has no copy counter); an
    absent required one refuses the whole reading, because a missing value is not a zero.
    """
    counters = []
    for spec in profile.counters:
        counter = _counter(device, profile, spec, values)
        if counter is not None:
            counters.append(counter)
    names = {c.name for c in counters}
    copy_counters = tuple(n for n in profile.copy_counters if n in names)
    if not copy_counters:  # the device lacks the split counters: bill on the total
        copy_counters = ("total",)
    uptime = values.get(SYS_UPTIME)
    return MeterReading(
        device=device,
        occurred_at=at,
        profile=profile.name,
        serial=_serial(profile, values),
        counters=tuple(counters),
        sysuptime=uptime.number if uptime is not None and uptime.present else None,
        status=_enum(values, profile.printer_status_oid, HR_PRINTER_STATUS,
                     PrinterStatus.NOT_REPORTED, PrinterStatus.UNKNOWN),
        device_status=_enum(values, profile.device_status_oid, HR_DEVICE_STATUS,
                            DeviceStatus.NOT_REPORTED, DeviceStatus.UNKNOWN),
        copy_counters=copy_counters,
    )


def _counter(device: str, profile: Profile, spec: CounterSpec,
             values: Mapping[str, SnmpValue]) -> Counter | None:
    value = values.get(spec.oid)
    if value is None or not value.present:
        if spec.required:
            raise DeviceAnswerInvalid(device, f"profile {profile.name!r}: counter {spec.name!r} "
                                      f"({spec.oid}) not reported by the device")
        return None
    if value.kind not in _COUNTER_KINDS or value.number is None or value.number < 0:
        raise DeviceAnswerInvalid(device, f"profile {profile.name!r}: counter {spec.name!r} "
                                  f"({spec.oid}) is {value.kind.value}, not a counter")
    wraps_at = spec.wraps_at if spec.wraps_at is not None else WRAP_OF_KIND.get(value.kind)
    return Counter(spec.name, value.number, _unit(spec, values), wraps_at)


def _unit(spec: CounterSpec, values: Mapping[str, SnmpValue]) -> Unit:
    if spec.unit is not None:
        return spec.unit
    assert spec.unit_oid is not None  # the profile loader guarantees one of the two
    code = values.get(spec.unit_oid)
    if code is None or not code.present or code.number is None:
        return Unit.NOT_REPORTED
    return PRT_MARKER_COUNTER_UNIT.get(code.number, Unit.OTHER)


def _serial(profile: Profile, values: Mapping[str, SnmpValue]) -> str | None:
    for oid in profile.serial_oids:
        value = values.get(oid)
        if value is not None and value.present and value.text():
            return value.text()
    return None


def _enum(values: Mapping[str, SnmpValue], oid: str | None, table: Mapping[int, E],
             absent: E, unknown: E) -> E:
    value = values.get(oid) if oid else None
    if value is None or not value.present or value.number is None:
        return absent
    return table.get(value.number, unknown)
