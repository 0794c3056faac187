"""What staff hand in becomes the job's fax pages, rendered once at submit (so a document that
cannot be faxed is refused before anything is queued) and kept in the spool as one TIFF Class F
(``drivers.fax.documents`` renders and stores; the driver reads the pages back for each try)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from drivers.fax import documents
from gatewayd.errors import InvalidValue


def render_job(files: list[tuple[str, bytes]], tiff: Path) -> int:
    """Blocking: every document's pages, in order, into ``tiff``; returns the page count."""
    pages = []
    with tempfile.TemporaryDirectory(prefix="gatewayd-fax-") as scratch:
        for index, (name, content) in enumerate(files):
            source = Path(scratch) / f"{index}{Path(name).suffix}"
            source.write_bytes(content)
            try:
                pages += documents.render(source)
            except documents.DocumentError as err:
                raise InvalidValue(f"{name}: cannot be faxed: {err}") from err
    if not pages:
        raise InvalidValue("the documents have no pages")
    tiff.parent.mkdir(parents=True, exist_ok=True)
    documents.save_pages(tiff, pages, description="gatewayd outgoing fax")
    return len(pages)
