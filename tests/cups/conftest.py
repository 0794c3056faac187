"""Fixtures for the CUPS driver's tests: the lab's real cupsd, documents, a watch loop."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# `lab` is not an installed package (pyproject installs gatewayd and drivers only).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lab.cups.cupsd import CupsLab
from lab.cups.documents import make_documents


@pytest.fixture(scope="session")
def cups_lab() -> Iterator[CupsLab]:
    with CupsLab() as lab:
        yield lab


@pytest.fixture
def private_lab() -> Iterator[CupsLab]:
    """A cupsd of the test's own, for tests that kill it or remove queues."""
    with CupsLab() as lab:
        yield lab


@pytest.fixture(scope="session")
def documents(cups_lab: CupsLab) -> dict[str, Path]:
    return make_documents(cups_lab.dir / "docs")
