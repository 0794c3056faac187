"""Profiles are data: built-ins load, a site adds or replaces one with a file, errors are named."""

from __future__ import annotations


import pytest

from drivers import ConfigProblems
from drivers.snmp.config import parse_snmp_config
from drivers.snmp.profiles import DeviceIdentity, load_profiles
from drivers.snmp.reader import build_reading
from drivers.snmp.values import ABSENT, SnmpValue, ValueKind
from tests.snmp.helpers import T0

SITE = """
name = "acme-mfp"
extends = "printer-mib"
priority = 70
copy_counters = ["copy"]
[[match]]
sys_object_id = "1.3.6.1.4.1.99999"
[counters.copy]
oid = "1.3.6.1.4.1.99999.1.1.0"
unit = "impressions"
wraps_at = 16777216
"""


def test_every_builtin_profile_loads_and_the_fallback_catches_all():
    book = load_profiles()
    assert "printer-mib" in book.names and "sharp" in book.names
    assert book.detect(DeviceIdentity("1.3.6.1.4.1.424242.1", "Some MFP", "")).name == "printer-mib"
    # Arc-wise prefixes: enterprise 110 is not HP (11).
    assert book.detect(DeviceIdentity("1.3.6.1.4.1.110.2.3.9.1", "", "")).name == "printer-mib"


def test_site_profile_file_is_used_without_code(tmp_path):
    (tmp_path / "site.toml").write_text(SITE)
    cfg = parse_snmp_config({"profile_files": ["site.toml"], "devices": []}, tmp_path)
    profile = cfg.profiles.detect(DeviceIdentity("1.3.6.1.4.1.99999.5", "ACME", ""))
    assert profile.name == "acme-mfp"
    values = {"1.3.6.1.2.1.43.10.2.1.4.1.1": SnmpValue(ValueKind.COUNTER32, number=500),
              "1.3.6.1.2.1.43.10.2.1.3.1.1": ABSENT,
              "1.3.6.1.4.1.99999.1.1.0": SnmpValue(ValueKind.INTEGER, number=77)}
    got = build_reading("acme", profile, values, T0)
    assert [(c.name, c.value, c.unit.value, c.wraps_at) for c in got.counters] == [
        ("total", 500, "not_reported", 2**32), ("copy", 77, "impressions", 16777216)]
    assert got.copy_counters == ("copy",) and got.serial is None


@pytest.mark.parametrize(("text", "reason"), [
    ('name = "x"\nextends = "nope"\n',
     "'extends' names unknown profile 'nope'; known: brother, canon, epson, hp, kyocera, "
     "kyocera-cs, printer-mib, ricoh, sharp, x"),
    ('name = "x"\nextends = "printer-mib"\n[counters.copy]\noid = "1.3.6.x"\nunit = "impressions"\n',
     "counters.copy.oid: must be a dotted numeric OID like '1.3.6.1.2.1.43.10.2.1.4.1.1', "
     "got '1.3.6.x'"),
    ('name = "x"\nextends = "printer-mib"\n[counters.copy]\noid = "1.3.6.1"\nunit = "pages2"\n',
     "counters.copy.unit: must be one of impressions, sheets, pages, got 'pages2'"),
    ('name = "x"\nextends = "printer-mib"\ncopy_counters = ["copy"]\n',
     "copy_counters: copy not among counters (total)"),
    ('name = "x"\nextends = "printer-mib"\n[[match]]\nsys_descr = "(("\n',
     "match[0].sys_descr: invalid regular expression '((': missing ), unterminated subpattern "
     "at position 1"),
])
def test_broken_site_profile_is_named(tmp_path, text, reason):
    path = tmp_path / "site.toml"
    path.write_text(text)
    with pytest.raises(ConfigProblems) as caught:
        parse_snmp_config({"profile_files": ["site.toml"]}, tmp_path)
    assert caught.value.problems == [("profile_files[0]", f"{path}: {reason}")]


def test_profile_without_counters(tmp_path):
    (tmp_path / "site.toml").write_text('name = "x"\n')
    with pytest.raises(ConfigProblems, match="defines no counters"):
        parse_snmp_config({"profile_files": ["site.toml"]}, tmp_path)


def test_missing_required_counter_refuses_the_reading():
    from drivers.snmp.errors import DeviceAnswerInvalid

    profile = load_profiles().get("printer-mib")
    with pytest.raises(DeviceAnswerInvalid, match="counter 'total' .* not reported"):
        build_reading("c", profile, {}, T0)
