"""Checks of what Copyleaks would refuse, run before any request (DESIGN.md decision 6).

Each check raises :class:`CopyleaksValidationError` naming the field and the limit, so a DAG
author sees the mistake at once, nothing is sent and no credit is spent. Limits come from
REFERENCE.md and the Copyleaks technical specifications (seeds/003).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from airflow_copyleaks.exceptions import CopyleaksValidationError

MB = 1024 * 1024

SCAN_ID_MIN, SCAN_ID_MAX = 3, 36
# [a-z0-9] plus the symbols Copyleaks documents for scan and export ids.
_SCAN_ID_SYMBOLS = "!@$^&-+%=_(){}<>';:/.\",~`|"
# Always used with fullmatch: ``$`` would also match before a final newline ("abc\n").
_SCAN_ID_RE = re.compile("[a-z0-9" + re.escape(_SCAN_ID_SYMBOLS) + "]+")

FILENAME_MAX = 255
DEVELOPER_PAYLOAD_MAX = 512
MIN_TEXT_CHARS, MIN_TEXT_WORDS = 30, 6
MAX_DOCUMENT_WORDS = 500_000  # 2,000 pages of 250 words

TEXTUAL_TYPES = {"html", "htm", "txt", "csv", "rtf", "xml", "md"}
DOCUMENT_TYPES = {
    "pdf", "docx", "doc", "pptx", "ppt", "odt", "chm", "epub", "odp", "ppsx", "pages", "xlsx", "xls",
    "latex", "tex",
}  # fmt: skip
SOURCE_CODE_TYPES = {
    "ts", "py", "go", "cs", "c", "h", "idc", "cpp", "hpp", "c++", "h++", "cc", "hh", "java", "js",
    "swift", "rb", "pl", "php", "sh", "m", "scala", "css",
}  # fmt: skip
OCR_TYPES = {"gif", "png", "bmp", "jpg", "jpeg", "pdf", "docx"}

# Max upload size per file type (technical specifications, "File Size").
_SIZE_LIMITS: list[tuple[set[str], int, str]] = [
    ({"html", "htm"}, 5 * MB, "HTML files"),
    ({"txt", "csv", "md", "xml", "rtf"} | SOURCE_CODE_TYPES, 3 * MB, "text and source-code files"),
    (DOCUMENT_TYPES, 50 * MB, "documents"),
    ({"gif", "png", "bmp", "jpg", "jpeg"}, 25 * MB, "images"),
]

MODERATION_LABELS = (
    "toxic-v1", "profanity-v1", "hate-speech-v1", "harassment-v1", "self-harm-v1", "adult-v1",
    "violent-v1", "drugs-v1", "firearms-v1", "cybersecurity-v1",
)  # fmt: skip
# Accepted when asked for but not checked by default: Copyleaks' Python example sends it, its
# label list does not name it (REFERENCE §10.4).
MODERATION_EXTRA_LABELS = ("other-v1",)
MODERATION_TEXT_MAX = 25_000
MODERATION_LABELS_MAX = 32

AI_DETECTION_TEXT_MIN, AI_DETECTION_TEXT_MAX = 255, 25_000
WRITING_FEEDBACK_TEXT_MAX = 25_000

IMAGE_CHECK_MAX_BYTES = 20 * MB  # "< 20 MB"
IMAGE_CHECK_MAX_PIXELS = 75_000_000
# AI image detection: "max 16 MP" on one page, 6000x4500 (27 MP) on a newer one; the larger holds.
AI_IMAGE_MAX_PIXELS = 27_000_000
IMAGE_CHECK_FORMATS = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "raw", "ico"}

START_TRIGGER_MAX = 100
EXPORT_MAX_RETRIES = (1, 12)


def validate_scan_id(scan_id: object, field: str = "scan_id") -> str:
    if not isinstance(scan_id, str):
        raise CopyleaksValidationError(field, f"must be a string, got {type(scan_id).__name__}")
    if not SCAN_ID_MIN <= len(scan_id) <= SCAN_ID_MAX:
        raise CopyleaksValidationError(
            field, f"is {len(scan_id)} characters long", limit=f"{SCAN_ID_MIN} to {SCAN_ID_MAX} characters"
        )
    if not _SCAN_ID_RE.fullmatch(scan_id):
        bad = sorted({c for c in scan_id if not _SCAN_ID_RE.fullmatch(c)})
        raise CopyleaksValidationError(
            field,
            f"contains characters Copyleaks does not allow: {''.join(bad)!r}",
            limit=f"lower-case a-z, digits and {_SCAN_ID_SYMBOLS}",
        )
    return scan_id


def file_extension(filename: str) -> str:
    return PurePosixPath(filename).suffix.lstrip(".").lower()


def validate_filename(filename: object, *, allowed: Iterable[str] | None = None, field: str = "filename") -> str:
    """A bare file name (not a path) with an extension Copyleaks reads."""
    if not isinstance(filename, str) or not filename.strip():
        raise CopyleaksValidationError(field, "is required")
    if len(filename) > FILENAME_MAX:
        raise CopyleaksValidationError(field, f"is {len(filename)} characters long", limit=f"{FILENAME_MAX} characters")
    # Copyleaks answers "Bad filename!" (code 24) to a path, e.g. PHP SDK issue #14.
    if PurePosixPath(filename).name != filename or PureWindowsPath(filename).name != filename:
        raise CopyleaksValidationError(field, f"must be a file name, not a path: {filename!r}")
    allowed_set = set(allowed) if allowed is not None else TEXTUAL_TYPES | DOCUMENT_TYPES | SOURCE_CODE_TYPES
    ext = file_extension(filename)
    if ext not in allowed_set:
        raise CopyleaksValidationError(
            field,
            f"has an unsupported extension {ext!r}" if ext else "has no extension",
            limit="one of " + ", ".join(sorted(allowed_set)),
        )
    return filename


def validate_file_size(filename: str, size: int, field: str = "file") -> None:
    ext = file_extension(filename)
    if size <= 0:
        raise CopyleaksValidationError(field, f"{filename!r} is empty")
    for types, limit, label in _SIZE_LIMITS:
        if ext in types and size > limit:
            raise CopyleaksValidationError(
                field, f"{filename!r} is {size / MB:.1f} MB", limit=f"{limit // MB} MB for {label}"
            )


def count_words(text: str) -> int:
    return len(text.split())


def validate_scan_text(text: object, field: str = "text") -> str:
    """Enough text for a plagiarism scan: 30 characters and 6 words (Copyleaks code 11)."""
    if not isinstance(text, str):
        raise CopyleaksValidationError(field, f"must be a string, got {type(text).__name__}")
    stripped = text.strip()
    words = count_words(stripped)
    if len(stripped) < MIN_TEXT_CHARS or words < MIN_TEXT_WORDS:
        raise CopyleaksValidationError(
            field,
            f"has {len(stripped)} characters and {words} words",
            limit=f"at least {MIN_TEXT_CHARS} characters and {MIN_TEXT_WORDS} words",
        )
    if words > MAX_DOCUMENT_WORDS:
        raise CopyleaksValidationError(field, f"has {words} words", limit=f"{MAX_DOCUMENT_WORDS} words")
    return text


def validate_text_length(text: object, *, minimum: int, maximum: int, field: str = "text") -> str:
    if not isinstance(text, str):
        raise CopyleaksValidationError(field, f"must be a string, got {type(text).__name__}")
    if not minimum <= len(text) <= maximum:
        raise CopyleaksValidationError(
            field, f"is {len(text)} characters long", limit=f"{minimum} to {maximum} characters"
        )
    return text


def validate_developer_payload(payload: object, field: str = "developer_payload") -> str | None:
    if payload is None:
        return None
    if not isinstance(payload, str):
        raise CopyleaksValidationError(field, f"must be a string, got {type(payload).__name__}")
    if len(payload) > DEVELOPER_PAYLOAD_MAX:
        raise CopyleaksValidationError(
            field, f"is {len(payload)} characters long", limit=f"{DEVELOPER_PAYLOAD_MAX} characters"
        )
    return payload


def validate_submission(
    scan_id: str,
    *,
    kind: str,
    properties: Mapping[str, Any],
    content: bytes | None = None,
    filename: str | None = None,
    url: str | None = None,
) -> None:
    """What a submit request is checked for, run by the operator before it records anything.

    ``kind`` is ``text``, ``file``, ``ocr`` or ``url``. The hook checks the request again when it
    sends it; this lets the operator refuse an item before the store says "submitted".
    """
    validate_scan_id(scan_id)
    validate_developer_payload(properties.get("developerPayload"), field="properties.developerPayload")
    from airflow_copyleaks.scans.references import check_references_property  # pydantic: only when submitting

    check_references_property(properties)
    if kind == "url":
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise CopyleaksValidationError("url", f"must be an http(s) URL, got {url!r}")
        return
    if content is None or filename is None:
        raise CopyleaksValidationError("content", "is required for a text, file or image submission")
    validate_filename(filename, allowed=OCR_TYPES if kind == "ocr" else None)
    validate_file_size(filename, len(content))
    if kind == "text" or file_extension(filename) in TEXTUAL_TYPES:
        field = "text" if kind == "text" else "content"
        try:
            validate_scan_text(content.decode("utf-8"), field=field)
        except UnicodeDecodeError as err:
            raise CopyleaksValidationError(field, f"{filename!r} is not UTF-8 text") from err


def untemplated_webhook_base_url(value: str | None) -> str | None:
    """An operator's ``webhook_base_url`` as written in the DAG file, never a template.

    Where Copyleaks sends results must not be chosen by whoever triggers a run (a Param rendered
    into it would send the scan's results to their server): the operators do not render it, and
    a value that looks like a template is refused rather than sent as it is.
    """
    if value is not None and ("{{" in value or "{%" in value):
        raise CopyleaksValidationError(
            "webhook_base_url",
            "is a template; set it on the connection (or as a fixed string in the DAG file)",
        )
    return value


def validate_moderation_labels(labels: Sequence[str] | None, field: str = "labels") -> list[str]:
    chosen = list(MODERATION_LABELS if labels is None else labels)
    if not 1 <= len(chosen) <= MODERATION_LABELS_MAX:
        raise CopyleaksValidationError(field, f"has {len(chosen)} labels", limit=f"1 to {MODERATION_LABELS_MAX} labels")
    known = MODERATION_LABELS + MODERATION_EXTRA_LABELS
    unknown = [label for label in chosen if label not in known]
    if unknown:
        raise CopyleaksValidationError(field, f"unknown label(s) {unknown}", limit="one of " + ", ".join(known))
    if len(set(chosen)) != len(chosen):
        raise CopyleaksValidationError(field, "lists a label twice")
    return chosen


def validate_start_triggers(scan_ids: Sequence[str], field: str = "scan_ids") -> list[str]:
    ids = [validate_scan_id(s, field) for s in scan_ids]
    if not ids:
        raise CopyleaksValidationError(field, "is empty", limit=f"1 to {START_TRIGGER_MAX} ids per call")
    if len(ids) > START_TRIGGER_MAX:
        raise CopyleaksValidationError(
            field, f"has {len(ids)} ids", limit=f"{START_TRIGGER_MAX} ids per call (the operator chunks)"
        )
    return ids


def validate_max_retries(value: int, field: str = "max_retries") -> int:
    low, high = EXPORT_MAX_RETRIES
    if not isinstance(value, int) or not low <= value <= high:
        raise CopyleaksValidationError(field, f"is {value!r}", limit=f"{low} to {high}")
    return value


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_image_header(data: bytes) -> ImageInfo | None:
    """Format and size from the first bytes of an image, without decoding it.

    Knows PNG, GIF, BMP, WebP, ICO and JPEG (walking the markers to the SOF segment); returns
    None for anything else.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ImageInfo("png", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return ImageInfo("gif", width, height)
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return ImageInfo("bmp", abs(width), abs(height))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        return _webp_size(data)
    if data[:4] == b"\x00\x00\x01\x00" and len(data) >= 8:
        return ImageInfo("ico", data[6] or 256, data[7] or 256)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> ImageInfo | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageInfo("webp", width, height)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return ImageInfo("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    return None


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> ImageInfo | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _JPEG_SOF and pos + 9 <= len(data):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageInfo("jpeg", width, height)
        pos += 2 + length
    return None


def validate_image_for_check(data: bytes, filename: str, field: str = "image") -> ImageInfo:
    """The image plagiarism detector's limits: < 20 MB, at most 75 megapixels, known formats."""
    validate_filename(filename, allowed=IMAGE_CHECK_FORMATS, field="filename")
    if not data:
        raise CopyleaksValidationError(field, "is empty")
    if len(data) >= IMAGE_CHECK_MAX_BYTES:
        raise CopyleaksValidationError(
            field, f"is {len(data) / MB:.1f} MB", limit=f"less than {IMAGE_CHECK_MAX_BYTES // MB} MB"
        )
    info = read_image_header(data)
    if info is None:
        raise CopyleaksValidationError(
            field, "is not a readable PNG, JPEG, GIF, BMP, WebP or ICO image", limit="supported formats"
        )
    if info.pixels > IMAGE_CHECK_MAX_PIXELS:
        raise CopyleaksValidationError(
            field,
            f"is {info.width}x{info.height} = {info.pixels / 1e6:.1f} megapixels",
            limit=f"{IMAGE_CHECK_MAX_PIXELS // 1_000_000} megapixels",
        )
    return info
