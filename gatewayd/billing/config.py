"""The hook gatewayd's config loader calls for the ``[rates]`` section (``DELEGATED``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .rates import RateBook
from .rates_config import parse_rates


def parse_rates_section(section: dict[str, Any], directory: Path) -> RateBook:
    """Validate ``[rates]``; raises ``drivers.ConfigProblems`` keyed relative to ``rates``.

    ``directory`` (the config file's) is unused: the price list includes no other files.
    """
    return parse_rates(section)
