"""What staff hand in becomes the job's fax pages, rendered once at submit (so a document that
cannot be faxed is refused before anything is queued) and kept in the spool as one TIFF Class F
(``drivers.fax.documents`` renders them in a caged child process within the site's
``[documents]`` limits; the driver reads the pages back for each try)."""

from __future__ import annotations

from pathlib import Path

from drivers.cage import Limits
from drivers.fax import documents
from gatewayd.errors import InvalidValue


def render_job(files: list[tuple[str, bytes]], tiff: Path, limits: Limits) -> int:
    """Blocking: every document's pages, in order, into ``tiff``; returns the page count."""
    try:
        return documents.render_job(files, tiff, limits)
    except documents.DocumentError as err:
        raise InvalidValue(f"cannot be faxed: {err}") from err
