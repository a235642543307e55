"""Turning submitted bytes into text, the way the emulator approximates Copyleaks' file readers.

* txt, csv, md, xml, rtf and source code: decoded as UTF-8 (a BOM is stripped).
* html/htm: tags, scripts and styles removed, entities unescaped.
* docx/pptx/xlsx/odt/odp/epub (zip containers): text of the XML/HTML parts.
* pdf: the strings shown with Tj/TJ (enough for simple PDFs such as the emulator's own reports).
* other document types: UTF-8 if the bytes decode, else "The submitted file is invalid" (14).
* OCR images: there is no OCR here; the "text" of an image is a metadata chunk (PNG tEXt/iTXt
  keys "Text", "Description" or "Comment", or a JPEG/GIF comment). An image without one yields
  "Not enough text to scan" (11), an unreadable image "The submitted file is invalid" (14).
"""

from __future__ import annotations

import html
import io
import re
import zipfile

TEXT_TYPES = {"txt", "csv", "md", "xml", "rtf", "latex", "tex"}
HTML_TYPES = {"html", "htm"}
CODE_TYPES = {"ts", "py", "go", "cs", "c", "h", "idc", "cpp", "hpp", "c++", "h++", "cc", "hh", "java", "js",
              "swift", "rb", "pl", "php", "sh", "m", "scala", "css"}
ZIP_TYPES = {"docx", "pptx", "ppsx", "xlsx", "odt", "odp", "epub", "pages"}
OTHER_DOC_TYPES = {"pdf", "doc", "ppt", "xls", "chm"}
SUPPORTED_TEXTUAL = TEXT_TYPES | HTML_TYPES | CODE_TYPES | ZIP_TYPES | OTHER_DOC_TYPES
OCR_TYPES = {"gif", "png", "bmp", "jpg", "jpeg"}

# [DOC-tech] file size limits in bytes.
SIZE_LIMITS = {"html": 5 << 20, "htm": 5 << 20, "txt": 3 << 20, "csv": 3 << 20}
DOC_LIMIT = 50 << 20
CODE_LIMIT = 3 << 20
IMAGE_LIMIT = 25 << 20


class ExtractionError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def size_limit(ext: str) -> int:
    if ext in SIZE_LIMITS:
        return SIZE_LIMITS[ext]
    if ext in CODE_TYPES or ext in TEXT_TYPES:
        return CODE_LIMIT
    if ext in OCR_TYPES:
        return IMAGE_LIMIT
    return DOC_LIMIT


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(7) from exc


_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</?(p|div|br|li|h[1-6]|tr|title|section|article)\b[^>]*>", re.IGNORECASE)


def html_to_text(markup: str) -> str:
    markup = _SCRIPT.sub(" ", markup)
    markup = _BLOCK.sub("\n", markup)
    text = html.unescape(_TAG.sub("", markup))
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _zip_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = []
            for name in sorted(zf.namelist()):
                skip = name.startswith(("[", "_rels", "docProps"))
                if name.endswith((".xml", ".html", ".xhtml", ".htm")) and not skip:
                    content = zf.read(name).decode("utf-8", errors="replace")
                    content = re.sub(r"</w:p>|</a:p>|</text:p>", "\n", content)
                    parts.append(html_to_text(content))
            return "\n".join(p for p in parts if p)
    except zipfile.BadZipFile as exc:
        raise ExtractionError(14) from exc


_PDF_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)\s*Tj|\[(?:[^\]]*)\]\s*TJ")
_PDF_LITERAL = re.compile(rb"\((?:\\.|[^\\)])*\)")


def _pdf_unescape(raw: bytes) -> str:
    out = re.sub(rb"\\([nrtbf()\\])", lambda m: {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b",
                                                  b"f": b"\f"}.get(m.group(1), m.group(1)), raw)
    return out.decode("latin-1")


def _pdf_text(data: bytes) -> str:
    lines = []
    for op in _PDF_STRING.finditer(data):
        pieces = [_pdf_unescape(lit[1:-1]) for lit in _PDF_LITERAL.findall(op.group(0))]
        lines.append("".join(pieces))
    return "\n".join(lines)


def extract_document(data: bytes, filename: str) -> str:
    """Text of a submitted document; raises ExtractionError(code) with a Copyleaks error code."""
    ext = extension(filename)
    if ext not in SUPPORTED_TEXTUAL:
        raise ExtractionError(10)
    if len(data) > size_limit(ext):
        raise ExtractionError(6)
    if ext in HTML_TYPES:
        return html_to_text(_decode(data))
    if ext in ZIP_TYPES:
        return _zip_text(data)
    if ext == "pdf":
        if not data.startswith(b"%PDF"):
            raise ExtractionError(14)
        return _pdf_text(data)
    if ext in OTHER_DOC_TYPES:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ExtractionError(14) from exc
    return _decode(data)


def extract_image_text(data: bytes, filename: str) -> str:
    """The "OCR" of an image: its embedded text metadata (see the module docstring)."""
    ext = extension(filename)
    if ext not in OCR_TYPES:
        raise ExtractionError(10)
    if len(data) > IMAGE_LIMIT:
        raise ExtractionError(6)
    from PIL import Image  # lazy: Pillow is only needed for image features

    try:
        with Image.open(io.BytesIO(data)) as img:
            info = dict(getattr(img, "text", {}) or {})
            info.update({k: v for k, v in img.info.items() if isinstance(v, (str, bytes))})
    except Exception as exc:  # any decoder failure means an invalid image
        raise ExtractionError(14) from exc
    for key in ("Text", "text", "Description", "description", "Comment", "comment"):
        value = info.get(key)
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if isinstance(value, str) and value.strip():
            return value
    return ""


def meets_minimum(text: str, words: int) -> bool:
    """Copyleaks' minimum: 30 characters and at least 6 words (error code 11)."""
    return len(text.strip()) >= 30 and words >= 6


def extraction_title(name: str, text: str) -> str:
    """A title for an indexed document: its file name or URL, else its first words."""
    if name:
        return name
    words = text.split()
    return " ".join(words[:8])
