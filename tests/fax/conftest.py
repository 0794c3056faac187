"""The fax lab for tests: ``fax_lab(**options)`` starts a spandsp far end on a fresh pty.

    peer = fax_lab()                          # answers the DTE's calls and receives
    peer = fax_lab(send=tiff, receive=False)  # rings the DTE and sends ``tiff``
    peer = fax_lab(busy=True) / fax_lab(no_answer=True)
    peer = fax_lab(ecm=False, v17=False, corrupt=(2,), speed=3)

    peer.pty                  # Path of the modem device (a symlink to the pty slave)
    record = peer.wait_call() # the far end's JSON call record (phase E result), next call
    peer.received_tiff(1)     # the TIFF the far end stored on call 1
    peer.log()                # its stderr (spandsp's protocol log with verbose=True)

Options are ``lab.faxmodem.peer.PeerOptions`` fields. Each peer is stopped when the test ends;
peers also exit by themselves (``timeout_s``, and when pytest dies).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.faxmodem.peer import FaxPeer, PeerOptions, build


@pytest.fixture(scope="session")
def faxmodem_binary() -> Path:
    """Builds lab/faxmodem once per run if ``make lab`` has not (CI runs it first anyway)."""
    return build()


@pytest.fixture
def fax_lab(tmp_path: Path, faxmodem_binary: Path) -> Iterator[Callable[..., FaxPeer]]:
    peers: list[FaxPeer] = []

    def start(**options: object) -> FaxPeer:
        peer = FaxPeer.start(tmp_path / f"faxlab-{len(peers)}", PeerOptions(**options))
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.stop()
