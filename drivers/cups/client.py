"""The thin, blocking edge to cupsd (pycups): every pycups error is translated here.

One :class:`CupsClient` belongs to one thread. libcups keeps its default server per thread, so
the connection is always opened with an explicit ``host=`` (a socket path or a host name) rather
than relying on ``cupsSetServer``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import cups

from drivers.cups.errors import CupsNotFound, CupsRequestFailed, CupsUnavailable

T = TypeVar("T")
Attributes = Mapping[str, Any]

#: Terminal IPP job states (RFC 8011 5.3.7): canceled, aborted, completed.
TERMINAL_STATES = frozenset({7, 8, 9})
#: Get-Jobs returns nothing unless ``job-id`` is among the requested attributes (CUPS 2.4.2).
_SCAN_ATTRIBUTES = ["job-id", "job-state", "job-printer-uri", "time-at-creation",
                    "time-at-completed", "job-state-reasons"]
_SUBSCRIBED_EVENTS = ["job-completed"]
#: IPP status codes we tell apart (RFC 8011 / CUPS): not-found vs. server unavailable.
_NOT_FOUND = 0x0406
_UNAVAILABLE = {0x0502, 0x0503}  # server-error-service-unavailable / -version-not-supported


def split_server(server: str) -> tuple[str, int | None]:
    """``/run/cups/cups.sock`` stays whole; ``host:port`` is split (IPv6 in brackets)."""
    if server.startswith("/"):
        return server, None
    host, sep, port = server.rpartition(":")
    if sep and port.isdigit() and not host.endswith(":"):
        return host.strip("[]"), int(port)
    return server, None


class CupsClient:
    def __init__(self, server: str):
        self.server = server
        self._conn: cups.Connection | None = None

    # -- connection --------------------------------------------------------------------------
    def _connection(self) -> cups.Connection:
        if self._conn is None:
            host, port = split_server(self.server)
            try:
                self._conn = (cups.Connection(host=host) if port is None
                              else cups.Connection(host=host, port=port))
            except RuntimeError as err:  # pycups' only signal for "cannot connect"
                raise CupsUnavailable(f"cannot connect to cupsd at {self.server}: {err}") from err
        return self._conn

    def _call(self, operation: str, fn: Callable[[cups.Connection], T]) -> T:
        conn = self._connection()
        try:
            return fn(conn)
        except cups.IPPError as err:
            status, message = (err.args + (0, ""))[:2]
            if status in _UNAVAILABLE:
                self._conn = None
                raise CupsUnavailable(f"{operation}: cupsd at {self.server} unavailable: "
                                      f"{message}") from err
            cls = CupsNotFound if status == _NOT_FOUND else CupsRequestFailed
            raise cls(operation, int(status), str(message)) from err
        except cups.HTTPError as err:
            self._conn = None
            raise CupsUnavailable(f"{operation}: HTTP error {err.args} from {self.server}") from err

    def close(self) -> None:
        self._conn = None  # pycups closes the HTTP connection when the object is collected

    # -- queues ------------------------------------------------------------------------------
    def queues(self) -> dict[str, Attributes]:
        """CUPS-Get-Printers; ``printer-is-accepting-jobs`` is derived from ``printer-type``,
        as CUPS-Get-Printers does not return it."""
        printers = self._call("CUPS-Get-Printers", lambda c: c.getPrinters())
        return {name: {**attrs, "printer-is-accepting-jobs":
                       not int(attrs.get("printer-type", 0)) & cups.CUPS_PRINTER_REJECTING}
                for name, attrs in printers.items()}

    def queue_attributes(self, queue: str) -> Attributes:
        return self._call("Get-Printer-Attributes", lambda c: c.getPrinterAttributes(queue))

    # -- subscriptions -----------------------------------------------------------------------
    def create_subscription(self, lease: int) -> int:
        return self._call("Create-Printer-Subscriptions", lambda c: c.createSubscription(
            "ipp://localhost/", events=_SUBSCRIBED_EVENTS, lease_duration=lease))

    def renew_subscription(self, subscription_id: int, lease: int) -> None:
        self._call("Renew-Subscription",
                   lambda c: c.renewSubscription(subscription_id, lease_duration=lease))

    def cancel_subscription(self, subscription_id: int) -> None:
        self._call("Cancel-Subscription", lambda c: c.cancelSubscription(subscription_id))

    def notifications(self, subscription_id: int, next_sequence: int) -> list[Attributes]:
        answer = self._call("Get-Notifications", lambda c: c.getNotifications(
            [subscription_id], [next_sequence]))
        return list(answer.get("events", []))

    # -- jobs --------------------------------------------------------------------------------
    def job_attributes(self, job_id: int) -> Attributes:
        return self._call("Get-Job-Attributes", lambda c: c.getJobAttributes(job_id))

    def jobs_from(self, first_job_id: int) -> dict[int, Attributes]:
        """Every job (any state) with id >= ``first_job_id`` that cupsd still remembers."""
        return self._call("Get-Jobs", lambda c: c.getJobs(
            which_jobs="all", first_job_id=first_job_id, requested_attributes=_SCAN_ATTRIBUTES))

    def fetch_document(self, queue: str, job_id: int, number: int) -> Path:
        """The spooled document as a temp file the caller deletes (needs PreserveJobFiles)."""
        answer = self._call("CUPS-Get-Document", lambda c: c.getDocument(
            f"ipp://localhost/printers/{queue}", job_id, number))
        return Path(answer["file"])

    def print_file(self, queue: str, path: Path, title: str, options: dict[str, str]) -> int:
        return self._call("Print-Job", lambda c: c.printFile(queue, os.fspath(path), title,
                                                             options))

    def cancel_job(self, job_id: int) -> None:
        self._call("Cancel-Job", lambda c: c.cancelJob(job_id))
