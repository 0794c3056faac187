"""T.4/T.6 codec: tables, round trips, libtiff agreeing both ways, fill, bit order, bad lines."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from drivers.fax import t4
from drivers.fax.frames import FCF, Coding, Session
from drivers.fax.pages import PageQuality
from drivers.fax.t4 import (
    EOL,
    Bitmap,
    CopyQualityPolicy,
    DecodedPage,
    EncodeOptions,
    decode,
    encode,
    min_line_bits,
    reverse_bits,
)
from drivers.fax.tiff import TiffPage, write_fax_tiff

ALL = list(Coding)


def text_page(height: int = 400, lines: int = 12) -> Bitmap:
    image = Image.new("1", (1728, height), 1)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=24)
    for row in range(lines):
        draw.text((40, 8 + row * 31), f"{row:02d} The quick brown fox jumps over the lazy dog. "
                  "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ", font=font, fill=0)
    draw.rectangle((1500, 20, 1727, 60), fill=0)  # a run reaching the right edge
    draw.line((0, height - 3, 1727, height - 3), fill=0)  # an all-black line
    return Bitmap.from_image(image)


def line_bits(data: bytes) -> str:
    return "".join(f"{b:08b}"[::-1] for b in data)


# ---- Tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("codes", [t4.WHITE_CODES, t4.BLACK_CODES], ids=["white", "black"])
def test_code_tables_are_complete_and_prefix_free(codes):
    assert sorted(codes) == list(range(64)) + list(range(64, 2561, 64))
    words = sorted(codes.values())
    assert all(not b.startswith(a) for a, b in itertools.pairwise(words))
    # T.4's guarantee the decoder relies on: no code sequence holds eleven 0s, so EOL is unique.
    assert max(len(w) - len(w.rstrip("0")) for w in words) + max(
        len(w) - len(w.lstrip("0")) for w in words) < 11


def test_first_code_bit_goes_in_the_low_bit_of_the_first_octet():
    data = encode(Bitmap.blank(1))
    assert line_bits(data).startswith(EOL + t4.WHITE_CODES[1728] + t4.WHITE_CODES[0])
    # Line bits 8-15 are "0001" (EOL's end) then "0100" (white 1728 begins): octet 1 holds
    # them from its low bit up, so EOL's final 1 is bit 3 and the make-up code's 1 is bit 5.
    assert data[:2] == bytes([0x00, 0x08 | 0x20])


# ---- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("coding", ALL, ids=lambda c: c.value)
def test_text_page_round_trip(coding):
    page = text_page()
    decoded = decode(encode(page, EncodeOptions(coding=coding, k=4)), coding)
    assert decoded.bitmap == page
    assert (decoded.good_lines, decoded.bad_lines, decoded.end_of_page) == (page.height, 0, True)


rows = st.lists(st.lists(st.integers(0, 1727), max_size=40), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows=rows, coding=st.sampled_from(ALL), k=st.sampled_from([2, 4]))
def test_any_bitmap_round_trips(rows, coding, k):
    bitmap = Bitmap.from_rows(1728, [t4._row_from_changes(sorted(set(r)), 1728) for r in rows])
    assert decode(encode(bitmap, EncodeOptions(coding=coding, k=k)), coding).bitmap == bitmap


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=600), coding=st.sampled_from(ALL))
def test_garbage_never_raises(data, coding):
    page = decode(data, coding)
    assert page.bitmap.height == page.lines


# ---- libtiff, both ways ----------------------------------------------------------------------


@pytest.mark.parametrize("coding", ALL, ids=lambda c: c.value)
def test_libtiff_decodes_our_coding(coding, tmp_path):
    page = text_page()
    path = write_fax_tiff(tmp_path / "ours.tif", [TiffPage(page), TiffPage(page)], coding=coding)
    checked = subprocess.run(["tiffinfo", "-D", str(path)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0 and "rror" not in checked.stderr, checked.stderr
    plain = tmp_path / "plain.tif"
    subprocess.run(["tiffcp", "-c", "none", str(path), str(plain)], check=True)
    with Image.open(plain) as image:
        assert image.n_frames == 2
        for frame in range(2):
            image.seek(frame)
            assert Bitmap.from_image(image) == page


def _strip(path: Path) -> tuple[bytes, int]:
    with Image.open(path) as image:
        offset, count = image.tag_v2[273], image.tag_v2[279]
        offset = offset[0] if isinstance(offset, tuple) else offset
        count = count[0] if isinstance(count, tuple) else count
        fill_order = image.tag_v2.get(266, 1)
    return path.read_bytes()[offset:offset + count], fill_order


@pytest.mark.parametrize(("scheme", "coding"), [("g3:1d", Coding.MH), ("g3:2d", Coding.MR),
                                                ("g3:2d:fill", Coding.MR), ("g4", Coding.MMR)])
@pytest.mark.parametrize("fill_order", ["msb2lsb", "lsb2msb"])
def test_we_decode_libtiff_coding(scheme, coding, fill_order, tmp_path):
    page = text_page()
    # ppm2tiff writes min-is-white like a fax; Pillow would write min-is-black, which libtiff's
    # fax coder would code inverted.
    pbm = tmp_path / "plain.pbm"
    page.to_image().save(pbm)
    source = tmp_path / "plain.tif"
    subprocess.run(["ppm2tiff", "-c", "none", "-R", "204", str(pbm), str(source)], check=True)
    coded = tmp_path / "coded.tif"
    subprocess.run(["tiffcp", "-f", fill_order, "-c", scheme, "-r", "100000", str(source),
                    str(coded)], check=True)
    data, order = _strip(coded)
    if order == 1:
        data = reverse_bits(data)  # TIFF's default MSB-first octets -> line order
    decoded = decode(data, coding)
    assert decoded.bitmap == page and decoded.bad_lines == 0


@pytest.mark.parametrize(("flag", "coding"), [("-1", Coding.MH), ("-2", Coding.MR)])
def test_fax2tiff_reads_our_raw_line_stream(flag, coding, tmp_path):
    page = text_page()
    raw = tmp_path / "page.g3"
    raw.write_bytes(encode(page, EncodeOptions(coding=coding, min_line_bits=min_line_bits(9600, 10))))
    out = tmp_path / "page.tif"
    done = subprocess.run(["fax2tiff", "-L", flag, "-o", str(out), str(raw)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "bad" not in done.stderr.lower(), done.stderr
    with Image.open(out) as image:
        # fax2tiff turns the RTC's six EOLs into five extra lines; they are blank.
        assert image.height in (page.height, page.height + 5)
        decoded = Bitmap.from_image(image)
    assert decoded.data[: len(page.data)] == page.data
    assert not any(decoded.data[len(page.data):])


# ---- Fill and alignment ----------------------------------------------------------------------


def test_fill_makes_every_line_last_the_minimum_scan_time():
    page = text_page(height=100)
    minimum = min_line_bits(14400, 20)
    assert minimum == 288
    bits = line_bits(encode(page, EncodeOptions(min_line_bits=minimum, end_of_page=False)))
    starts = [m.end() for m in re.finditer(r"0{11}1", bits)]  # where each line's data begins
    spans = [b - a for a, b in itertools.pairwise(starts)]  # data + fill + next EOL
    assert len(spans) == page.height - 1 and min(spans) >= minimum
    assert decode(encode(page, EncodeOptions(min_line_bits=minimum))).bitmap == page


@pytest.mark.parametrize("coding", [Coding.MH, Coding.MR], ids=lambda c: c.value)
def test_aligned_eols_end_on_octet_boundaries(coding):
    bits = line_bits(encode(text_page(height=50), EncodeOptions(coding=coding, align_eol=True)))
    ends = [m.end() for m in re.finditer(r"0{11,}1", bits)]
    assert len(ends) == 50 + 6 and all(end % 8 == 0 for end in ends)


# ---- Damage and copy quality -----------------------------------------------------------------


def spoil(data: bytes, start: int, length: int) -> bytes:
    return data[:start] + bytes(b ^ 0x5A for b in data[start:start + length]) + data[start + length:]


def test_damaged_mh_lines_are_counted_and_replaced():
    page = text_page()
    data = encode(page)
    decoded = decode(spoil(data, len(data) // 2, 40))
    # Garbage can swallow EOLs, so some lines vanish (spandsp and HylaFAX lose them too); the
    # rest decode, and nothing after the damage is lost.
    assert page.height - 20 <= decoded.lines <= page.height
    assert 1 <= decoded.bad_lines <= 20 and decoded.good_lines >= page.height - 20
    assert decoded.longest_bad_run <= decoded.bad_lines
    assert decoded.bitmap.height == decoded.lines
    assert decoded.end_of_page
    assert decoded.bitmap.data[-page.stride * 100:] == page.data[-page.stride * 100:]


def test_mr_error_spreads_no_further_than_the_next_1d_line():
    page = text_page()
    data = encode(page, EncodeOptions(coding=Coding.MR, k=4))
    decoded = decode(spoil(data, len(data) // 2, 3), Coding.MR)
    assert 1 <= decoded.longest_bad_run <= 4


def test_a_page_cut_short_has_no_end_of_page():
    data = encode(text_page())
    decoded = decode(data[: len(data) // 2])
    assert not decoded.end_of_page and decoded.lines < text_page().height


def quality(good: int, bad: int, run: int) -> DecodedPage:
    return DecodedPage(Bitmap.blank(good + bad), good, bad, run, True)


@pytest.mark.parametrize(("good", "bad", "run", "verdict"), [
    (1000, 0, 0, FCF.MCF),
    (950, 50, 5, FCF.MCF),   # exactly 95 % good, 5 in a row: HylaFAX's defaults still accept
    (949, 51, 1, FCF.RTN),   # under 95 %
    (990, 10, 6, FCF.RTN),   # too many in a row
    (0, 0, 0, FCF.RTN),      # nothing decodable
])
def test_copy_quality_policy(good, bad, run, verdict):
    assert CopyQualityPolicy().response(quality(good, bad, run)) is verdict


def test_copy_quality_policy_is_configurable():
    lenient = CopyQualityPolicy(percent_good_lines=80, max_consecutive_bad_lines=30)
    assert lenient.acceptable(quality(850, 150, 25))


def test_check_page_serves_the_t30_engine():
    session = Session(coding=Coding.MR)
    data = encode(text_page(height=120), EncodeOptions(coding=Coding.MR))
    assert t4.check_page(data, session) == PageQuality(good_lines=120, bad_lines=0,
                                                       longest_bad_run=0)
