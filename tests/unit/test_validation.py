"""Every validation rule at and just past its limit; the error names the field and the limit."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_copyleaks import validation as v
from airflow_copyleaks.exceptions import CopyleaksValidationError


def png_header(width: int, height: int) -> bytes:
    """A PNG signature and IHDR chunk claiming ``width`` x ``height`` (no pixel data needed)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def test_scan_id_length_limits() -> None:
    assert v.validate_scan_id("abc") == "abc"
    assert v.validate_scan_id("a" * 36) == "a" * 36
    with pytest.raises(CopyleaksValidationError, match=r"scan_id: is 2 characters long \(limit: 3 to 36"):
        v.validate_scan_id("ab")
    with pytest.raises(CopyleaksValidationError, match="is 37 characters"):
        v.validate_scan_id("a" * 37)


@pytest.mark.parametrize("bad", ["UPPER", "with space", "tab\tid", "a#b", "a?b", "émile", "a\\b"])
def test_scan_id_rejects_characters_outside_the_documented_set(bad: str) -> None:
    with pytest.raises(CopyleaksValidationError) as err:
        v.validate_scan_id(bad)
    assert err.value.field == "scan_id"
    assert "a-z" in str(err.value)


@pytest.mark.parametrize("good", ["a/b.c", "x'y;z", 'q"r,s~t`u|v', "(a){b}<c>", "!@$^&-+%=_:"])
def test_scan_id_accepts_documented_symbols(good: str) -> None:
    assert v.validate_scan_id(good) == good


def test_filename_rules() -> None:
    assert v.validate_filename("essay.docx") == "essay.docx"
    with pytest.raises(CopyleaksValidationError, match="not a path"):
        v.validate_filename("/home/me/essay.docx")
    with pytest.raises(CopyleaksValidationError, match="not a path"):
        v.validate_filename("C:\\docs\\essay.docx")
    with pytest.raises(CopyleaksValidationError, match="unsupported extension 'exe'"):
        v.validate_filename("virus.exe")
    with pytest.raises(CopyleaksValidationError, match="no extension"):
        v.validate_filename("README")
    with pytest.raises(CopyleaksValidationError, match="255 characters"):
        v.validate_filename("a" * 252 + ".txt")
    assert v.validate_filename("a" * 251 + ".txt")


def test_file_size_limits_per_type() -> None:
    v.validate_file_size("a.txt", 3 * v.MB)
    with pytest.raises(CopyleaksValidationError, match=r"limit: 3 MB for text"):
        v.validate_file_size("a.txt", 3 * v.MB + 1)
    v.validate_file_size("a.html", 5 * v.MB)
    with pytest.raises(CopyleaksValidationError, match="5 MB for HTML"):
        v.validate_file_size("a.html", 5 * v.MB + 1)
    v.validate_file_size("a.pdf", 50 * v.MB)
    with pytest.raises(CopyleaksValidationError, match="50 MB for documents"):
        v.validate_file_size("a.pdf", 50 * v.MB + 1)
    with pytest.raises(CopyleaksValidationError, match="25 MB for images"):
        v.validate_file_size("a.png", 25 * v.MB + 1)
    with pytest.raises(CopyleaksValidationError, match="is empty"):
        v.validate_file_size("a.txt", 0)


def test_minimum_text_is_30_characters_and_6_words() -> None:
    v.validate_scan_text("one two three four five sixxxxx")  # 32 chars, 6 words
    with pytest.raises(CopyleaksValidationError, match="5 words"):
        v.validate_scan_text("one two three four fiveeeeeeeeeeeeeeeee")
    with pytest.raises(CopyleaksValidationError, match="29 characters"):
        v.validate_scan_text("a b c d e f ghijklmnopqrstuvw")
    with pytest.raises(CopyleaksValidationError, match="at least 30 characters and 6 words"):
        v.validate_scan_text("   ")


def test_developer_payload_512() -> None:
    assert v.validate_developer_payload("x" * 512) == "x" * 512
    assert v.validate_developer_payload(None) is None
    with pytest.raises(CopyleaksValidationError, match="513 characters long.*512"):
        v.validate_developer_payload("x" * 513)


def test_moderation_labels() -> None:
    assert v.validate_moderation_labels(None) == list(v.MODERATION_LABELS)
    assert v.validate_moderation_labels(["toxic-v1"]) == ["toxic-v1"]
    assert v.validate_moderation_labels(["other-v1"]) == ["other-v1"]  # sent by Copyleaks' Python example
    with pytest.raises(CopyleaksValidationError, match=r"unknown label\(s\) \['EXAMPLE-v1'\]"):
        v.validate_moderation_labels(["EXAMPLE-v1"])
    with pytest.raises(CopyleaksValidationError, match="1 to 32 labels"):
        v.validate_moderation_labels([])
    with pytest.raises(CopyleaksValidationError, match="twice"):
        v.validate_moderation_labels(["toxic-v1", "toxic-v1"])


def test_text_length_bounds() -> None:
    v.validate_text_length("x" * 255, minimum=255, maximum=25_000)
    with pytest.raises(CopyleaksValidationError, match="254 characters long.*255 to 25000"):
        v.validate_text_length("x" * 254, minimum=255, maximum=25_000)
    with pytest.raises(CopyleaksValidationError, match="25001"):
        v.validate_text_length("x" * 25_001, minimum=255, maximum=25_000)


def test_start_triggers_at_most_100() -> None:
    assert len(v.validate_start_triggers([f"id{i:03d}" for i in range(100)])) == 100
    with pytest.raises(CopyleaksValidationError, match="101 ids"):
        v.validate_start_triggers([f"id{i:03d}" for i in range(101)])


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png_header(640, 480), v.ImageInfo("png", 640, 480)),
        (jpeg_header(1920, 1080), v.ImageInfo("jpeg", 1920, 1080)),
        (b"GIF89a" + struct.pack("<HH", 30, 20) + b"\x00" * 8, v.ImageInfo("gif", 30, 20)),
        (b"BM" + b"\x00" * 16 + struct.pack("<ii", 100, -50) + b"\x00" * 8, v.ImageInfo("bmp", 100, 50)),
        (b"not an image at all", None),
    ],
)
def test_read_image_header(data: bytes, expected: v.ImageInfo | None) -> None:
    assert v.read_image_header(data) == expected


def test_image_check_megapixels_read_from_header_of_a_small_file() -> None:
    claims_80_mp = png_header(10_000, 8_000)
    assert len(claims_80_mp) < 100
    with pytest.raises(CopyleaksValidationError, match=r"10000x8000 = 80.0 megapixels \(limit: 75 megapixels"):
        v.validate_image_for_check(claims_80_mp, "big.png")
    assert v.validate_image_for_check(png_header(10_000, 7_500), "ok.png").pixels == 75_000_000


def test_image_check_size_and_format() -> None:
    with pytest.raises(CopyleaksValidationError, match="less than 20 MB"):
        v.validate_image_for_check(png_header(10, 10) + b"\x00" * (20 * v.MB), "a.png")
    with pytest.raises(CopyleaksValidationError, match="not a readable"):
        v.validate_image_for_check(b"GARBAGE" * 10, "a.png")
    with pytest.raises(CopyleaksValidationError, match="filename: has an unsupported extension 'tiff'"):
        v.validate_image_for_check(png_header(10, 10), "a.tiff")


@given(st.text(max_size=60))
def test_scan_id_validator_never_accepts_an_id_outside_the_rules(candidate: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789!@$^&-+%=_(){}<>';:/.\",~`|")
    ok = 3 <= len(candidate) <= 36 and set(candidate) <= allowed
    try:
        v.validate_scan_id(candidate)
    except CopyleaksValidationError:
        assert not ok
    else:
        assert ok


@given(st.integers(min_value=1, max_value=70_000), st.integers(min_value=1, max_value=70_000))
def test_png_header_round_trip(width: int, height: int) -> None:
    assert v.read_image_header(png_header(width, height)) == v.ImageInfo("png", width, height)


@pytest.mark.parametrize("bad", ["abc\n", "abc\r\n", "\nabc", "ab\nc"])
def test_scan_id_with_a_newline_anywhere_is_refused(bad: str) -> None:
    # A pattern ending in ``$`` matches before a final newline: the whole id must match.
    with pytest.raises(CopyleaksValidationError, match="scan_id: contains characters Copyleaks does not allow"):
        v.validate_scan_id(bad)
