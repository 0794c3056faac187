"""[cups] config validation: every problem reported at once, with its exact reason."""

from __future__ import annotations

from typing import Any

import pytest

from drivers import ConfigProblems
from drivers.cups.config import CupsConfig, QueueConfig, parse_cups_config

Q = {"name": "desk", "device": "mfp-1", "price_class": "office"}


def test_defaults_and_a_full_section() -> None:
    assert parse_cups_config({}) == CupsConfig()
    cfg = parse_cups_config({"server": "printhost:631", "poll_interval": 0.5,
                             "catchup_interval": 30, "lease": 600, "stuck_after": 120,
                             "queues": [Q]})
    assert cfg == CupsConfig("printhost:631", 0.5, 30.0, 600, 120.0,
                             (QueueConfig("desk", "mfp-1", "office"),))
    assert cfg.queue("desk") == QueueConfig("desk", "mfp-1", "office")
    assert cfg.queue("other") is None


@pytest.mark.parametrize("server", ["/run/cups/cups.sock", "localhost", "10.0.0.5:631",
                                    "[::1]:631"])
def test_valid_servers(server: str) -> None:
    assert parse_cups_config({"server": server}).server == server


PROBLEMS: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    ({"sever": "/x"}, [("sever", "unknown key")]),
    ({"server": ""}, [("server", "must be a socket path or host:port, got ''")]),
    ({"server": 631}, [("server", "must be a socket path or host:port, got 631")]),
    ({"server": "host:abc"}, [("server", "port must be an integer 1-65535, got 'abc'")]),
    ({"server": "host:70000"}, [("server", "port must be an integer 1-65535, got '70000'")]),
    ({"server": "a host"},
     [("server", "must be a socket path starting with '/' or host:port, got 'a host'")]),
    ({"poll_interval": 0}, [("poll_interval", "must be a number 0.05-60, got 0")]),
    ({"catchup_interval": "60"}, [("catchup_interval", "must be a number 1-86400, got '60'")]),
    ({"lease": 30}, [("lease", "must be an integer 60-86400, got 30")]),
    ({"lease": 600.5}, [("lease", "must be an integer 60-86400, got 600.5")]),
    ({"lease": True}, [("lease", "must be an integer 60-86400, got True")]),
    ({"stuck_after": -1}, [("stuck_after", "must be a number 1-604800, got -1")]),
    ({"queues": {"name": "desk"}},
     [("queues", "must be an array of tables ([[cups.queues]]), got {'name': 'desk'}")]),
    ({"queues": ["desk"]}, [("queues[0]", "must be a table, got 'desk'")]),
    ({"queues": [{}]}, [("queues[0].name", "is required"), ("queues[0].device", "is required"),
                        ("queues[0].price_class", "is required")]),
    ({"queues": [{**Q, "name": "front desk"}]},
     [("queues[0].name",
       "must be a CUPS queue name (no spaces, '/' or '#'), got 'front desk'")]),
    ({"queues": [{**Q, "device": ""}]},
     [("queues[0].device", "must be a non-empty string, got ''")]),
    ({"queues": [{**Q, "price_class": 3}]},
     [("queues[0].price_class", "must be a non-empty string, got 3")]),
    ({"queues": [Q, {**Q, "device": "mfp-2"}]}, [("queues[1].name", "duplicate queue 'desk'")]),
    ({"queues": [{**Q, "colour": True}]}, [("queues[0].colour", "unknown key")]),
    ({"lease": 0, "server": "h:0", "queues": [{"name": "q"}]},
     [("server", "port must be an integer 1-65535, got '0'"),
      ("lease", "must be an integer 60-86400, got 0"),
      ("queues[0].device", "is required"), ("queues[0].price_class", "is required")]),
]


@pytest.mark.parametrize(("raw", "expected"), PROBLEMS, ids=[str(p[0]) for p in PROBLEMS])
def test_problems(raw: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    with pytest.raises(ConfigProblems) as info:
        parse_cups_config(raw)
    assert info.value.problems == expected
