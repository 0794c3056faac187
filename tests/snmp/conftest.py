"""One snmpsim for the whole SNMP suite (start-up indexes the recordings once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab.snmp.agent import SnmpLab
from tests.snmp.helpers import RECORDINGS

#: Independent copies for tests that change a device (the others stay as recorded).
CLONES = {
    "sharp_reset": "sharp",
    "sharp_sleep": "sharp",
    "sharp_swap": "sharp",
    "sharp_copies": "sharp",
    "kyocera_billing": "printmaster_kyocera_cs4053ci",
    "kyocera_busy": "printmaster_kyocera_cs4053ci",
    "ricoh_run": "ricoh_mpc3002",
}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpLab]:
    # Not under tmp_path: pytest makes that 0700, and snmpsim runs as nobody when we are root.
    agent = SnmpLab(RECORDINGS, clones=CLONES)
    with agent:
        yield agent
