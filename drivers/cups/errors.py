"""The CUPS driver's one exception tree; pycups' errors are translated into it in
:mod:`drivers.cups.client` (``raise ... from err``) and never leak past it."""

from __future__ import annotations


class CupsError(Exception):
    """Base of everything the CUPS driver raises."""


class CupsUnavailable(CupsError):
    """cupsd cannot be reached: not running, restarting, or the socket is gone."""


class CupsRequestFailed(CupsError):
    """cupsd answered an IPP request with an error status."""

    def __init__(self, operation: str, status: int, message: str):
        self.operation = operation
        self.status = status
        self.message = message
        super().__init__(f"{operation}: IPP status {status:#06x} {message}")


class CupsNotFound(CupsRequestFailed):
    """The job, subscription or queue named in the request does not exist (any more)."""


class SubmitError(CupsError):
    """A document could not be submitted (bad argument, unknown queue, unreadable file)."""


class PageCountError(CupsError):
    """A document's pages could not be counted (corrupt file, Ghostscript failed)."""
