"""Every shared recording, served by snmpsim, read by the driver: values as INDEX.md lists them."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from drivers.snmp.driver import SnmpDriver
from drivers.snmp.reading import MeterReading, PrinterStatus, Unit
from tests.snmp.helpers import lab_config

IMP, SHEETS = Unit.IMPRESSIONS, Unit.SHEETS
# community: (profile, serial, unit of total, status, {counter: value}) -- from INDEX.md
EXPECTED = {
    "brother_hl5370dw": ("brother", "B9J154306", IMP, PrinterStatus.NOT_REPORTED,
                         {"total": 7792}),
    "canonprinter_tm": ("canon", None, SHEETS, PrinterStatus.NOT_REPORTED, {"total": 21588}),
    "jetdirect_m130nw": ("hp", "VNCRC48198", IMP, PrinterStatus.NOT_REPORTED,
                         {"total": 15232, "engine": 15232, "mono": 15232, "duplex": 0,
                          "scan": 1190}),
    "printmaster_brother_hl-l8260cdw": ("brother", "U64641E7J134163", SHEETS, PrinterStatus.IDLE,
                                        {"total": 42976}),
    "printmaster_epson_sc-t3405": ("epson", "X8G9000415", SHEETS, PrinterStatus.IDLE,
                                   {"total": 145}),
    "printmaster_kyocera_cs4053ci": ("kyocera-cs", "RH28Y00024", IMP, PrinterStatus.IDLE,
                                     {"total": 76498, "copy": 40600, "print": 32971,
                                      "fax": 2493, "copy.mono": 14730, "copy.colour": 25870,
                                      "print.mono": 19124, "print.colour": 13847,
                                      "fax.mono": 2493, "vendor_total": 76064,
                                      "copy.a3": 0, "copy.a4": 0, "copy.ledger": 3248,
                                      "copy.legal": 159,
                                      "copy.letter": 37193}),
    "printmaster_kyocera_p2040dw": ("kyocera", "VD21457943", IMP, PrinterStatus.IDLE,
                                    {"total": 7432, "vendor_total": 7342}),
    "ricoh_mpc3002": ("ricoh", "W492KB03439", SHEETS, PrinterStatus.NOT_REPORTED,
                      {"total": 271871}),
    "sharp": ("sharp", "6509415X00", IMP, PrinterStatus.NOT_REPORTED,
              {"total": 121104, "mono": 91164, "colour": 29940, "print": 82214,
               "print.mono": 53631, "print.colour": 28583, "print.duplex": 41020,
               "copy": 38804, "copy.mono": 37485, "copy.colour": 1319, "scan": 13534}),
}
SYSUPTIME = {"brother_hl5370dw": 33604185, "canonprinter_tm": 17669600, "jetdirect_m130nw": 139939,
             "ricoh_mpc3002": 90117500, "sharp": 724425094}
COPY_COUNTERS = {"sharp": ("copy.mono", "copy.colour"),
                 "printmaster_kyocera_cs4053ci": ("copy.mono", "copy.colour")}


@pytest.fixture(scope="module")
def readings(lab) -> dict[str, MeterReading]:
    driver = SnmpDriver(lab_config(lab, *EXPECTED))

    async def read_all() -> dict[str, MeterReading]:
        try:
            return {name: await driver.read(name) for name in EXPECTED}
        finally:
            driver.close()

    return asyncio.run(read_all())


@pytest.mark.parametrize("community", sorted(EXPECTED))
def test_recording_reads_as_indexed(readings, community):
    profile, serial, unit, status, counters = EXPECTED[community]
    got = readings[community]
    assert got.profile == profile
    assert got.serial == serial
    assert got.status is status
    assert got.counter("total").unit is unit
    assert {c.name: c.value for c in got.counters} == counters
    assert got.counter("total").wraps_at == 2**32  # prtMarkerLifeCount is a Counter32
    assert got.copy_counters == COPY_COUNTERS.get(community, ("total",))
    if community in SYSUPTIME:
        assert got.sysuptime == SYSUPTIME[community]
    assert got.occurred_at.utcoffset().total_seconds() == 0
    assert got.natural_key == f"{community}/{got.occurred_at.isoformat()}"


def test_net_snmp_agrees(lab, readings):
    """net-snmp's snmpget reads the same counters, serial and uptime from the same agent."""
    from drivers.snmp.profiles import load_profiles

    book = load_profiles()
    for community, got in readings.items():
        profile = book.get(got.profile)
        oids = [spec.oid for spec in profile.counters if got.counter(spec.name) is not None]
        out = subprocess.run(
            ["snmpget", "-v2c", "-c", community, "-On", "-Oqvt", "-t", "2", "-r", "1",
             f"{lab.host}:{lab.port}", "1.3.6.1.2.1.1.3.0", *oids],
            capture_output=True, text=True, check=True, timeout=30).stdout.split("\n")
        assert int(out[0]) == got.sysuptime
        theirs = [int(v) for v in out[1:len(oids) + 1]]
        assert theirs == [got.counter(spec.name).value for spec in profile.counters
                          if got.counter(spec.name) is not None]
