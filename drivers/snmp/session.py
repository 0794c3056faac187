"""The thin pysnmp edge: GET a list of OIDs from one device, translate every failure.

Only this module (and driver.py, through it) imports pysnmp.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as pysnmp_auth
from pysnmp.proto import errind, rfc1902, rfc1905

from drivers.snmp.config import (
    AuthProtocol,
    Community,
    DeviceConfig,
    PrivProtocol,
    SnmpVersion,
)
from drivers.snmp.errors import AuthenticationFailed, DeviceAnswerInvalid, DeviceUnreachable
from drivers.snmp.values import ABSENT, SnmpValue, ValueKind

# A GET carries at most this many OIDs: small embedded agents answer tooBig (or drop the
# datagram) past ~1,400 bytes, and ~30 varbinds of counter OIDs stay well under that.
MAX_VARBINDS = 30
# SNMPv1 error-status noSuchName (RFC 1157): one missing OID fails the whole GET.
_V1_NO_SUCH_NAME = 2

_AUTH = {
    AuthProtocol.MD5: pysnmp_auth.USM_AUTH_HMAC96_MD5,
    AuthProtocol.SHA: pysnmp_auth.USM_AUTH_HMAC96_SHA,
    AuthProtocol.SHA224: pysnmp_auth.USM_AUTH_HMAC128_SHA224,
    AuthProtocol.SHA256: pysnmp_auth.USM_AUTH_HMAC192_SHA256,
    AuthProtocol.SHA384: pysnmp_auth.USM_AUTH_HMAC256_SHA384,
    AuthProtocol.SHA512: pysnmp_auth.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {
    PrivProtocol.DES: pysnmp_auth.USM_PRIV_CBC56_DES,
    PrivProtocol.TRIPLE_DES: pysnmp_auth.USM_PRIV_CBC168_3DES,
    PrivProtocol.AES: pysnmp_auth.USM_PRIV_CFB128_AES,
    PrivProtocol.AES192: pysnmp_auth.USM_PRIV_CFB192_AES,
    PrivProtocol.AES256: pysnmp_auth.USM_PRIV_CFB256_AES,
    PrivProtocol.AES192_BLUMENTHAL: pysnmp_auth.USM_PRIV_CFB192_AES_BLUMENTHAL,
    PrivProtocol.AES256_BLUMENTHAL: pysnmp_auth.USM_PRIV_CFB256_AES_BLUMENTHAL,
}
# USM rejections (RFC 3414 usmStats* reports) and local key failures: all mean "fix credentials".
_AUTH_ERRORS: dict[type[errind.ErrorIndication], str] = {
    errind.UnknownUserName: "unknown SNMPv3 user {user!r}",
    errind.UnknownSecurityName: "unknown SNMPv3 user {user!r}",
    errind.WrongDigest: "wrong SNMPv3 authentication key or protocol for user {user!r}",
    errind.AuthenticationFailure: "wrong SNMPv3 authentication key or protocol for user {user!r}",
    errind.AuthenticationError: "SNMPv3 authentication error for user {user!r}",
    errind.DecryptionError: "wrong SNMPv3 privacy key or protocol for user {user!r}",
    errind.EncryptionError: "cannot encrypt for user {user!r} (is 'cryptography' installed?)",
    errind.UnsupportedSecurityLevel: "the device does not accept this SNMPv3 security level "
                                     "for user {user!r}",
}


class SnmpSession:
    """GETs against one device through a shared SnmpEngine (one per driver)."""

    def __init__(self, engine: SnmpEngine, device: DeviceConfig):
        self._engine = engine
        self.device = device
        self._target: UdpTransportTarget | None = None
        creds = device.credentials
        if isinstance(creds, Community):
            self._auth: CommunityData | UsmUserData = CommunityData(
                creds.community, mpModel=0 if device.version is SnmpVersion.V1 else 1)
            self._context = ContextData()
        else:
            self._auth = UsmUserData(
                creds.user, creds.auth_key, creds.priv_key,
                authProtocol=_AUTH[creds.auth_protocol] if creds.auth_protocol else None,
                privProtocol=_PRIV[creds.priv_protocol] if creds.priv_protocol else None)
            self._context = ContextData(contextName=creds.context)

    async def get(self, oids: Sequence[str]) -> dict[str, SnmpValue]:
        """Values for ``oids``; those the device lacks come back ABSENT (never zero)."""
        result: dict[str, SnmpValue] = {}
        for start in range(0, len(oids), MAX_VARBINDS):
            result.update(await self._get_chunk(list(oids[start:start + MAX_VARBINDS])))
        return result

    async def _get_chunk(self, oids: list[str]) -> dict[str, SnmpValue]:
        result: dict[str, SnmpValue] = {}
        while oids:
            status, index, varbinds = await self._request(oids)
            if status == _V1_NO_SUCH_NAME and self.device.version is SnmpVersion.V1 \
                    and 1 <= index <= len(oids):
                result[oids.pop(index - 1)] = ABSENT  # drop it and ask again for the rest
                continue
            if status:
                at = oids[index - 1] if 1 <= index <= len(oids) else "?"
                raise DeviceAnswerInvalid(self.device.name, f"agent error-status {status} at {at}")
            for (_, value), asked in zip(varbinds, oids, strict=True):
                result[asked] = _convert(value)
            break
        return result

    async def _request(self, oids: list[str]) -> tuple[int, int, tuple]:
        dev = self.device
        try:
            if self._target is None:
                self._target = await UdpTransportTarget.create(
                    (dev.host, dev.port), timeout=dev.timeout, retries=dev.retries)
            indication, status, index, varbinds = await get_cmd(
                self._engine, self._auth, self._target, self._context,
                *(ObjectType(ObjectIdentity(oid)) for oid in oids), lookupMib=False)
        except PySnmpError as err:  # raised for unresolvable hosts, before any packet is sent
            raise DeviceUnreachable(dev.name, f"cannot address {dev.host}:{dev.port}: {err}") \
                from err
        if indication is not None:
            raise self._translate(indication)
        return int(status), int(index), tuple(varbinds)

    def _translate(self, indication: errind.ErrorIndication) -> Exception:
        dev = self.device
        if isinstance(indication, errind.RequestTimedOut):
            tries = dev.retries + 1
            hint = ("switched off, asleep, wrong host/port, or wrong community (v1/v2c agents "
                    "ignore unknown communities)" if isinstance(dev.credentials, Community)
                    else "switched off, asleep, or wrong host/port")
            return DeviceUnreachable(dev.name, f"no answer from {dev.host}:{dev.port} after "
                                     f"{tries} tries of {dev.timeout:g} s: {hint}")
        for kind, message in _AUTH_ERRORS.items():
            if isinstance(indication, kind):
                user = getattr(dev.credentials, "user", "")
                return AuthenticationFailed(dev.name, message.format(user=user))
        return DeviceAnswerInvalid(dev.name, f"SNMP error: {indication}")


def _convert(value: object) -> SnmpValue:
    if isinstance(value, (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)):
        return ABSENT
    if isinstance(value, rfc1902.Counter32):
        return SnmpValue(ValueKind.COUNTER32, number=int(value))
    if isinstance(value, rfc1902.Counter64):
        return SnmpValue(ValueKind.COUNTER64, number=int(value))
    if isinstance(value, rfc1902.TimeTicks):
        return SnmpValue(ValueKind.TIMETICKS, number=int(value))
    if isinstance(value, (rfc1902.Integer32, rfc1902.Integer, rfc1902.Gauge32,
                          rfc1902.Unsigned32)):
        return SnmpValue(ValueKind.INTEGER, number=int(value))
    if isinstance(value, univ.ObjectIdentifier):  # pyasn1's type when lookupMib=False
        return SnmpValue(ValueKind.OID, oid=str(value))
    if isinstance(value, rfc1902.OctetString):  # includes IpAddress, Opaque, Bits
        return SnmpValue(ValueKind.OCTETS, octets=bytes(value))
    return SnmpValue(ValueKind.OCTETS, octets=str(value).encode())
