"""kill -9 in the middle of a stream of writes: what the client was told exists, nothing half-written."""

from __future__ import annotations

import signal
import threading
import time

from gatewayd.ctl import Refused, Unreachable
from tests.conftest import Daemon


def test_kill_9_while_opening_tickets_loses_nothing_acknowledged(daemon: Daemon) -> None:
    acknowledged: list[str] = []
    stop = threading.Event()

    def open_tickets() -> None:
        client = daemon.client()
        n = 0
        while not stop.is_set():
            try:
                ticket = client.post("/tickets", {"kind": "copy", "guest_name": f"guest {n}",
                                                  "params": {"n": n}})
            except (Unreachable, Refused):
                return
            acknowledged.append(ticket["id"])
            n += 1

    writer = threading.Thread(target=open_tickets)
    writer.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    stop.set()
    writer.join(timeout=10)
    assert len(acknowledged) >= 40

    daemon.start()
    client = daemon.client()
    stored = {t["id"]: t for t in client.get("/tickets", limit=5000)}
    assert set(acknowledged) <= set(stored)
    opened_in_audit = {e["entity_id"] for e in client.get("/audit", entity="ticket") if e["action"] == "ticket.open"}
    # At most the one request in flight at the kill may have committed without its reply
    # reaching the client; it must be whole (audit entry and all), never half-written.
    assert len(stored) - len(acknowledged) <= 1
    assert set(stored) == opened_in_audit
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in stored)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gaps either
    assert client.post("/tickets", {"kind": "copy", "guest_name": "after restart"})["state"] == "open"
