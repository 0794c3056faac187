"""The ledger's refusals. The API maps each to its HTTP status; gatewayctl prints ``detail``."""


class LedgerError(Exception):
    """A request the ledger refuses; ``detail`` says what to do about it."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class NotFound(LedgerError):
    status = 404
    title = "Not found"


class Conflict(LedgerError):
    """Illegal transition, stale version, edit of a settled ticket, a device already in use."""

    status = 409
    title = "Conflict"


class InvalidValue(LedgerError):
    status = 422
    title = "Invalid value"


class Forbidden(LedgerError):
    status = 403
    title = "Forbidden"
