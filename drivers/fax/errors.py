"""The one root of everything the fax driver raises, so its edge catches one type.

``FaxError`` splits the way the failures do: the modem channel and its port lock (local: the
modem is shown ``down`` and reopened with back-off), a document that cannot be rendered (the job
fails), and T.30 protocol errors (local misuse vs. what the far end sent). Lower layers translate
library errors (pyserial, OSError, Ghostscript) into these with ``raise ... from err``.
"""


class FaxError(Exception):
    """Something in the fax driver failed; the subclass says what."""
