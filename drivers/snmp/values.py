"""SNMP values as plain data, decoupled from pysnmp's types so the reading logic is pure."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ValueKind(enum.Enum):
    COUNTER32 = "counter32"  #: wraps at 2**32 (RFC 2578)
    COUNTER64 = "counter64"
    INTEGER = "integer"  #: INTEGER, Gauge32, Unsigned32: no defined wrap
    TIMETICKS = "timeticks"  #: 1/100 s, wraps at 2**32
    OCTETS = "octets"
    OID = "oid"
    ABSENT = "absent"  #: noSuchObject / noSuchInstance / endOfMibView / v1 noSuchName


@dataclass(frozen=True)
class SnmpValue:
    kind: ValueKind
    number: int | None = None
    octets: bytes | None = None
    oid: str | None = None

    @property
    def present(self) -> bool:
        return self.kind is not ValueKind.ABSENT

    def text(self) -> str:
        """Octets as text: printers pad serials with NULs or spaces; strip both."""
        if self.octets is None:
            return ""
        return self.octets.decode("utf-8", errors="replace").strip("\x00 \t\r\n")


ABSENT = SnmpValue(ValueKind.ABSENT)

WRAP_OF_KIND = {ValueKind.COUNTER32: 2**32, ValueKind.COUNTER64: 2**64}
