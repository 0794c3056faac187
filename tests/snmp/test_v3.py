"""SNMPv3 authPriv against snmpsim's USM users; wrong credentials give a clear error."""

from __future__ import annotations

import pytest

from drivers.snmp.driver import SnmpDriver
from drivers.snmp.errors import AuthenticationFailed, DeviceUnreachable
from tests.snmp.helpers import drive, lab_config, v3_config

SHA_AES = {"user": "labuser", "auth_protocol": "SHA", "auth_key": "lab-auth-key-1",
           "priv_protocol": "AES", "priv_key": "lab-priv-key-1"}
SHA256_AES256 = {"user": "labuser256", "auth_protocol": "SHA-256", "auth_key": "lab-auth-key-2",
                 "priv_protocol": "AES-256", "priv_key": "lab-priv-key-2"}


def read(lab, context: str, **creds):
    driver = SnmpDriver(v3_config(lab, context, **creds))
    return drive(driver, lambda d: d.read("v3dev")), driver


@pytest.mark.parametrize("creds", [SHA_AES, SHA256_AES256], ids=["sha-aes", "sha256-aes256"])
def test_v3_auth_priv_reads_the_context_device(lab, creds):
    got, _ = read(lab, "sharp", **creds)
    assert (got.profile, got.serial, got.counter("total").value) == ("sharp", "6509415X00", 121104)


@pytest.mark.parametrize(("change", "message"), [
    ({"auth_key": "not-the-key"},
     "v3dev: wrong SNMPv3 authentication key or protocol for user 'labuser'"),
    ({"priv_key": "not-the-key"}, "v3dev: wrong SNMPv3 privacy key or protocol for user 'labuser'"),
    ({"user": "nobody-here"}, "v3dev: unknown SNMPv3 user 'nobody-here'"),
])
def test_v3_wrong_credentials_are_named(lab, change, message):
    with pytest.raises(AuthenticationFailed) as caught:
        read(lab, "ricoh_mpc3002", **{**SHA_AES, **change})
    assert str(caught.value) == message


def test_wrong_community_reads_as_unreachable_and_says_why(lab):
    driver = SnmpDriver(lab_config(lab, "no_such_community"))
    with pytest.raises(DeviceUnreachable, match="wrong community"):
        drive(driver, lambda d: d.read("no_such_community"))
    status = driver.device_status("no_such_community")
    assert status["state"] == "unreachable" and status["reading"] is None
