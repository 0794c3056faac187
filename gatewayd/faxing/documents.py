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


def page_pngs(tiff: Path | bytes, width: int, only: int | None = None) -> list[bytes]:
    """Fax pages (a TIFF we wrote) as PNGs ``width`` pixels wide with square pixels, for screens:
    every page, or only the page at index ``only`` (empty if there is no such page)."""
    import io

    from PIL import Image, ImageSequence

    out = []
    with Image.open(io.BytesIO(tiff) if isinstance(tiff, bytes) else tiff) as fax:
        for index, frame in enumerate(ImageSequence.Iterator(fax)):
            if only is not None and index != only:
                continue
            page = frame.convert("L")
            x_dpi, y_dpi = page.info.get("dpi", (204, 196))  # fine resolution unless the file says otherwise
            height = round(page.height * width / page.width * float(x_dpi) / float(y_dpi))
            png = io.BytesIO()
            page.resize((width, height), Image.Resampling.LANCZOS).save(png, "PNG", optimize=True)
            out.append(png.getvalue())
    return out
