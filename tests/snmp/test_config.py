"""[snmp] config parsing: a good config, and a table of broken ones with their exact messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drivers import ConfigProblems
from drivers.snmp.config import (
    AuthProtocol,
    Community,
    PrivProtocol,
    SnmpVersion,
    UsmUser,
    parse_snmp_config,
)

V2 = {"name": "c1", "host": "10.0.0.5", "community": "public"}
V3 = {"name": "c3", "host": "10.0.0.6", "version": "3", "user": "gw", "auth_protocol": "SHA-256",
      "auth_key": "authkey-123", "priv_protocol": "AES", "priv_key": "privkey-123"}


def problems(raw, base=Path(".")):
    with pytest.raises(ConfigProblems) as caught:
        parse_snmp_config(raw, base)
    return caught.value.problems


def test_good_config_with_defaults_and_overrides():
    cfg = parse_snmp_config({"poll_interval": 30, "devices": [V2, {**V3, "port": 1161,
                                                                    "profile": "sharp"}]},
                            Path("."))
    c1, c3 = cfg.devices
    assert (c1.version, c1.port, c1.poll_interval, c1.profile, c1.timeout, c1.retries) == (
        SnmpVersion.V2C, 161, 30.0, "auto", 2.0, 1)
    assert c1.credentials == Community("public")
    assert c3.credentials == UsmUser("gw", AuthProtocol.SHA256, "authkey-123", PrivProtocol.AES,
                                     "privkey-123", "")
    assert "authkey" not in repr(c3) and "public" not in repr(c1)  # secrets stay out of logs
    assert cfg.billing.stable_polls == 3 and cfg.max_concurrent == 64
    assert cfg.warnings == ("devices[0].community (c1) is in the main config file; move it to "
                            "secrets_file", "devices[1].auth_key (c3) is in the main config "
                            "file; move it to secrets_file", "devices[1].priv_key (c3) is in "
                            "the main config file; move it to secrets_file")


BROKEN = [
    ({"devices": [{**V2, "port": "abc"}]}, [("devices[0].port", "must be an integer 1-65535, got 'abc'")]),
    ({"devices": [{**V2, "port": 70000}]}, [("devices[0].port", "must be an integer 1-65535, got 70000")]),
    ({"devices": [{"host": "h", "community": "p"}]},
     [("devices[0].name", "required: a non-empty string naming the copier")]),
    ({"devices": [{"name": "x", "community": "p"}]},
     [("devices[0].host", "required: the copier's IP address or host name")]),
    ({"devices": [{**V2, "version": "2"}]}, [("devices[0].version", "must be \"1\", \"2c\" or \"3\", got '2'")]),
    ({"devices": [{"name": "x", "host": "h"}]},
     [("devices[0].community", "required for SNMPv1/v2c (here or in secrets_file)")]),
    ({"devices": [{**V2, "user": "u"}]},
     [("devices[0].user", "only for version \"3\"; SNMPv1/v2c uses 'community'")]),
    ({"devices": [{**V3, "user": ""}]}, [("devices[0].user", "required for SNMPv3: the USM user name")]),
    ({"devices": [{**V3, "auth_protocol": "SHA1"}]},
     [("devices[0].auth_protocol", "must be one of MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512, got 'SHA1'")]),
    ({"devices": [{**V3, "priv_protocol": "AES-512"}]},
     [("devices[0].priv_protocol", "must be one of DES, 3DES, AES, AES-192, AES-256, "
       "AES-192-BLUMENTHAL, AES-256-BLUMENTHAL, got 'AES-512'")]),
    ({"devices": [{**V3, "auth_key": "short"}]},
     [("devices[0].auth_key", "required with auth_protocol: a passphrase of at least 8 characters "
       "(RFC 3414), here or in secrets_file")]),
    ({"devices": [{k: v for k, v in V3.items() if not k.startswith("auth")}]},
     [("devices[0].priv_protocol", "privacy needs authentication: set auth_protocol and auth_key "
       "too (SNMPv3 has no noAuthPriv level)")]),
    ({"devices": [{**V2, "profile": "xerox"}]},
     [("devices[0].profile", "unknown profile 'xerox'; use \"auto\" or one of brother, canon, "
       "epson, hp, kyocera, kyocera-cs, printer-mib, ricoh, sharp")]),
    ({"devices": [V2, V2]}, [("devices[1].name", "duplicate device name 'c1'")]),
    ({"devices": [{**V2, "timeout": 0}]}, [("devices[0].timeout", "must be a number >= 0.1 (seconds), got 0")]),
    ({"poll_interval": "1m", "devices": [V2]},
     [("poll_interval", "must be a number >= 1 (seconds), got '1m'")]),
    ({"devices": [{**V2, "comunity": "x"}]},
     [("devices[0].comunity", "unknown key; expected one of auth_key, auth_protocol, community, "
       "context, host, max_pages_per_minute, name, poll_interval, port, priv_key, "
       "priv_protocol, profile, retries, timeout, user, version")]),
    ({"devices": {"name": "x"}}, [("devices", "must be an array of tables ([[snmp.devices]])")]),
    ({"stable_polls": 0}, [("stable_polls", "must be an integer 1-20, got 0")]),
    ({"profile_files": "site.toml"}, [("profile_files", "must be a list of file paths, got 'site.toml'")]),
]


@pytest.mark.parametrize(("raw", "expected"), BROKEN, ids=[p[1][0][0] + ":" + str(i)
                                                           for i, p in enumerate(BROKEN)])
def test_broken_config_names_key_and_reason(raw, expected):
    assert problems(raw) == expected


def write_secrets(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "snmp-secrets.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_secrets_file_supplies_keys(tmp_path):
    write_secrets(tmp_path, '[devices.c1]\ncommunity = "s3cret"\n', 0o600)
    cfg = parse_snmp_config({"secrets_file": "snmp-secrets.toml",
                             "devices": [{"name": "c1", "host": "h"}]}, tmp_path)
    assert cfg.devices[0].credentials == Community("s3cret")
    assert cfg.warnings == () or os.geteuid() != os.stat(tmp_path).st_uid


def test_group_readable_secrets_file_is_refused(tmp_path):
    path = write_secrets(tmp_path, '[devices.c1]\ncommunity = "s3cret"\n', 0o640)
    assert problems({"secrets_file": "snmp-secrets.toml",
                     "devices": [{"name": "c1", "host": "h"}]}, tmp_path) == [
        ("secrets_file", f"{path} is accessible by group/others (mode 0640); run: chmod 600 {path}")]


def test_secret_given_twice_and_missing_file(tmp_path):
    write_secrets(tmp_path, '[devices.c1]\ncommunity = "s3cret"\n', 0o600)
    assert problems({"secrets_file": "snmp-secrets.toml", "devices": [V2]}, tmp_path) == [
        ("devices[0].community", "given both here and in secrets_file; keep it in secrets_file")]
    assert problems({"secrets_file": "nope.toml", "devices": [V2]}, tmp_path) == [
        ("secrets_file", f"cannot read {tmp_path / 'nope.toml'}: No such file or directory")]
