"""Dotted OID strings: validation and arc-wise prefix tests (no pysnmp needed)."""

from __future__ import annotations

import re

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")

SYS_DESCR = "1.3.6.1.2.1.1.1.0"  # SNMPv2-MIB sysDescr (RFC 3418)
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"  # SNMPv2-MIB sysObjectID (RFC 3418)
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"  # SNMPv2-MIB sysUpTime (RFC 3418), TimeTicks
HR_DEVICE_DESCR_1 = "1.3.6.1.2.1.25.3.2.1.3.1"  # HOST-RESOURCES-MIB hrDeviceDescr.1 (RFC 2790)

IDENTITY_OIDS = (SYS_OBJECT_ID, SYS_DESCR, HR_DEVICE_DESCR_1)


def is_oid(text: str) -> bool:
    return bool(_OID.match(text))


def arcs(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def has_prefix(oid: str, prefix: str) -> bool:
    """Arc-wise: 1.3.6.1.4.1.11 is a prefix of 1.3.6.1.4.1.11.2 but not of 1.3.6.1.4.1.110."""
    whole, head = arcs(oid), arcs(prefix)
    return whole[: len(head)] == head
