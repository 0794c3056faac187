"""TIFF Class F writer: one multi-page file per fax call, as fax software stores them.

Written by hand (a few dozen lines) rather than through Pillow, which cannot set FillOrder,
T4Options or the Class F tags. Layout per TIFF 6.0 Section 2 and the TIFF Class F note
(Class F, for fax): per page the coded strip, then its IFD. Tags kept:

* NewSubfileType 2 (one page of a multi-page document), ImageWidth, ImageLength,
  BitsPerSample 1, Compression 3 (T.4) or 4 (T.6), Photometric 0 (min-is-white),
  FillOrder 2 (line order: see :mod:`drivers.fax.t4`), one strip, XResolution 204,
  YResolution 98 or 196, ResolutionUnit 2 (inch), T4Options/T6Options, PageNumber (n, total),
  Software, DateTime, and for received pages BadFaxLines, CleanFaxData and
  ConsecutiveBadFaxLines (Class F tags 326-328).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .frames import Coding, Resolution
from .t4 import Bitmap, EncodeOptions, encode

_SHORT, _LONG, _RATIONAL, _ASCII = 3, 4, 5, 2
_TYPE_SIZE = {_SHORT: 2, _LONG: 4, _RATIONAL: 8, _ASCII: 1}

LINES_PER_INCH = {Resolution.STANDARD: 98, Resolution.FINE: 196, Resolution.SUPERFINE: 391}
PELS_PER_INCH = 204  #: 8 pels/mm (T.4 2.2), as TIFF Class F rounds it


@dataclass(frozen=True)
class TiffPage:
    """One page to store: its image, resolution, and what the receiver saw of it."""

    bitmap: Bitmap
    resolution: Resolution = Resolution.FINE
    bad_lines: int = 0  #: lines that were replaced by the line above (received pages)
    longest_bad_run: int = 0


def _entry(tag: int, kind: int, values: Sequence[int] | bytes) -> tuple[int, int, int, bytes]:
    if kind == _ASCII:
        assert isinstance(values, bytes)
        payload = values + b"\0"
        count = len(payload)
    elif kind == _RATIONAL:
        payload = b"".join(struct.pack("<II", v, 1) for v in values)
        count = len(values)
    else:
        payload = b"".join(struct.pack("<H" if kind == _SHORT else "<I", v) for v in values)
        count = len(values)
    return tag, kind, count, payload


def _ifd(entries: list[tuple[int, int, int, bytes]], offset: int, next_ifd: int) -> bytes:
    """An IFD at ``offset`` with its out-of-line values right after it."""
    entries = sorted(entries)
    table = struct.pack("<H", len(entries))
    extra = b""
    extra_at = offset + 2 + 12 * len(entries) + 4
    for tag, kind, count, payload in entries:
        if len(payload) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, extra_at + len(extra))
            extra += payload + (b"\0" if len(payload) % 2 else b"")
    return table + struct.pack("<I", next_ifd) + extra


def _ifd_size(entries: list[tuple[int, int, int, bytes]]) -> int:
    extra = sum(len(p) + len(p) % 2 for _, _, _, p in entries if len(p) > 4)
    return 2 + 12 * len(entries) + 4 + extra


def fax_tiff(pages: Sequence[TiffPage], *, coding: Coding = Coding.MR,
             software: str = "gatewayd", description: str = "",
             when: datetime | None = None) -> bytes:
    """The bytes of a TIFF Class F file holding ``pages``.

    MR (k=4 at fine) is the default: about a quarter smaller than MH, and every fax reader
    takes it (T4Options bit 0). MMR gives T.6 (Compression 4), smaller still.
    """
    if not pages:
        raise ValueError("a fax TIFF needs at least one page")
    stamp = (when or datetime.now()).strftime("%Y:%m:%d %H:%M:%S").encode()
    strips = []
    for page in pages:
        k = 4 if page.resolution is not Resolution.STANDARD else 2
        # Each line starts with an EOL; no RTC in a TIFF strip (libtiff and Class F readers
        # stop at the strip's end). EOLs byte-aligned, as T4Options bit 2 then says.
        strips.append(encode(page.bitmap, EncodeOptions(coding=coding, k=k, align_eol=True,
                                                        end_of_page=False)))
    entry_sets = []
    for number, (page, strip) in enumerate(zip(pages, strips)):
        entries = [
            _entry(254, _LONG, [2]),
            _entry(256, _LONG, [page.bitmap.width]),
            _entry(257, _LONG, [page.bitmap.height]),
            _entry(258, _SHORT, [1]),
            _entry(259, _SHORT, [4 if coding is Coding.MMR else 3]),
            _entry(262, _SHORT, [0]),
            _entry(266, _SHORT, [2]),
            _entry(273, _LONG, [0]),  # patched below, once offsets are known
            _entry(274, _SHORT, [1]),
            _entry(277, _SHORT, [1]),
            _entry(278, _LONG, [page.bitmap.height]),
            _entry(279, _LONG, [len(strip)]),
            _entry(282, _RATIONAL, [PELS_PER_INCH]),
            _entry(283, _RATIONAL, [LINES_PER_INCH[page.resolution]]),
            _entry(284, _SHORT, [1]),
            _entry(296, _SHORT, [2]),
            _entry(297, _SHORT, [number, len(pages)]),
            _entry(305, _ASCII, software.encode()),
            _entry(306, _ASCII, stamp),
            _entry(326, _LONG, [page.bad_lines]),
            _entry(327, _SHORT, [1 if page.bad_lines else 0]),  # 1 = regenerated lines
            _entry(328, _LONG, [page.longest_bad_run]),
        ]
        if coding is Coding.MMR:
            entries.append(_entry(293, _LONG, [0]))
        else:
            entries.append(_entry(292, _LONG, [(1 if coding is Coding.MR else 0) | 4]))
        if description:
            entries.append(_entry(270, _ASCII, description.encode("ascii", "replace")))
        entry_sets.append(entries)
    # Layout: header, then for each page its strip and its IFD (IFDs on word boundaries).
    position = 8
    strip_at, ifd_at = [], []
    for strip, entries in zip(strips, entry_sets):
        strip_at.append(position)
        position += len(strip) + len(strip) % 2
        ifd_at.append(position)
        position += _ifd_size(entries)
    out = bytearray(b"II*\0" + struct.pack("<I", ifd_at[0]))
    for index, (strip, entries) in enumerate(zip(strips, entry_sets)):
        entries = [e if e[0] != 273 else _entry(273, _LONG, [strip_at[index]]) for e in entries]
        out += strip + (b"\0" if len(strip) % 2 else b"")
        next_ifd = ifd_at[index + 1] if index + 1 < len(ifd_at) else 0
        out += _ifd(entries, ifd_at[index], next_ifd)
    return bytes(out)


def write_fax_tiff(path: Path, pages: Sequence[TiffPage], **options: object) -> Path:
    """Write :func:`fax_tiff` to ``path`` atomically (a reader never sees half a fax)."""
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(fax_tiff(pages, **options))  # type: ignore[arg-type]
    temporary.replace(path)
    return path
