"""The [fax] section as gatewayd's loader reports it: one line per problem, file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatewayd import config

PATH = Path("/etc/gatewayd/gatewayd.toml")
MODEM = {"name": "fax1", "port": "/dev/ttyS0"}

BROKEN = [
    ({"modems": [{"port": "/dev/ttyS0"}]}, "fax.modems[0].name: is required"),
    ({"modems": [{**MODEM, "class": "3"}]},
     """fax.modems[0].class: must be "1", "2", "2.0" or "auto", got '3'"""),
    ({"modems": [{**MODEM, "class_preference": ["2.0", "4"]}]},
     "fax.modems[0].class_preference: must list classes among ('1', '2', '2.0'), got ['2.0', '4']"),
    ({"modems": [{**MODEM, "bit_order": 7}]}, "fax.modems[0].bit_order: must be 0-3 (T.32 +FBO), got 7"),
    ({"modems": [{**MODEM, "flow_control": "magic"}]},
     "fax.modems[0].flow_control: must be rtscts, xonxoff or none, got 'magic'"),
    ({"modems": [{**MODEM, "station_id": "x" * 30}]},
     "fax.modems[0].station_id: must be at most 20 ASCII characters (T.30 5.3.6.2.4)"),
    ({"modems": [{**MODEM, "rings_before_answer": 0}]}, "fax.modems[0].rings_before_answer: must be 1-20, got 0"),
    ({"modems": [{**MODEM, "percent_good_lines": 150}]}, "fax.modems[0].percent_good_lines: must be 0-100, got 150"),
    ({"modems": [{**MODEM, "colour": 1}]}, "fax.modems[0].colour: unknown key"),
    ({"modems": [MODEM, MODEM]}, "fax.modems: name 'fax1' used twice"),
    ({"modems": [MODEM], "retry": {"max_tries": 0}}, "fax.retry.max_tries: must be an integer 1-20, got 0"),
    ({"modems": [MODEM], "retry": {"busy_s": "soon"}}, "fax.retry.busy_s: must be a number, got 'soon'"),
    ({"modems": [MODEM], "routes": [{"tenant": "Acme"}]}, "fax.routes[0]: needs called_number or station_id"),
    ({"modems": [MODEM], "routes": [{"station_id": "123"}]},
     "fax.routes[0].tenant: is required (a company in the tenant roster)"),
    ({"modems": [MODEM], "routes": [{"tenant": "Acme", "subaddress": "12"}]},
     "fax.routes[0].subaddress: routing by T.30 sub-address is not supported yet (the modem driver does not "
     "record SUB); route by called_number or station_id"),
    ({"modems": [MODEM], "notify_command": 5},
     "fax.notify_command: must be a command line or a list of arguments, got 5"),
    ({"modems": [MODEM], "archive_after_days": -1}, "fax.archive_after_days: must be between 0 and 365, got -1"),
    ({"modems": [MODEM], "keep_days": 0}, "fax.keep_days: must be between 1 and inf, got 0"),
    ({"modems": [MODEM], "keep_sent_days": "a week"}, "fax.keep_sent_days: must be a number, got 'a week'"),
]


@pytest.mark.parametrize(("section", "message"), BROKEN, ids=[m.split(":")[0] for _, m in BROKEN])
def test_broken_fax_section(section: dict, message: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        config.parse({"site": {"name": "A"}, "fax": section}, PATH)
    assert err.value.lines == [f"{PATH}: {message}"]


def test_a_working_fax_section() -> None:
    loaded = config.parse({"site": {"name": "A"}, "fax": {
        "modems": [{**MODEM, "init": ["ATE0"], "station_id": "+86 21 5555 0000"}],
        "routes": [{"tenant": "Acme", "station_id": "+86 10 6552 8888"}],
        "notify_command": "/usr/local/bin/faxrcvd",
    }}, PATH)
    fax = loaded.sections["fax"]
    assert [m.name for m in fax.modems] == ["fax1"] and fax.retry.max_tries == 3
    assert fax.routes[0].matches(called_number="", subaddress="", station_id="+86 10 6552 8888")
    assert fax.keep_days == float("inf") and fax.keep_sent_days == 0  # received faxes are the customer's
