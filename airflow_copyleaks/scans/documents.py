"""The documents a submit task scans: one item or a batch, each text, a file, a URL or an image.

An item is ``{"key": ..., "text" | "path" | "url" | "ocr_path": ..., "filename": ...}``; a bare
string is a text. Normalising does no I/O; loading (reading a local file or an
``ObjectStoragePath``) happens per item, so one unreadable file is that item's error and the batch
goes on.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from airflow_copyleaks import ids
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.local_files import check_local_read

SOURCES = ("text", "path", "url", "ocr_path")
KEY_MAX = 200
PATTERN_MAX = 100
_ID_PREFIX = re.compile(r"[a-z0-9]{1,8}")  # what ids.derive_id keeps of a prefix
_ID_PATTERN = re.compile(rf"\S{{1,{PATTERN_MAX}}}")


@dataclass(frozen=True)
class Document:
    key: str
    source: str  # text | path | url | ocr_path
    value: Any  # str, os.PathLike or ObjectStoragePath
    filename: str | None = None
    problem: str | None = None  # an unusable item, reported as its error
    # Per-item scan settings: the prefix of its scan id, and which indexed documents it is never
    # compared with (Copyleaks' scanning.exclude.idPattern), e.g. its own earlier indexed copies.
    id_prefix: str | None = None
    exclude_id_pattern: str | None = None

    @property
    def kind(self) -> str:
        """How it is submitted: ``text``, ``file``, ``url`` or ``ocr``."""
        return {"text": "text", "path": "file", "url": "url", "ocr_path": "ocr"}[self.source]


@dataclass(frozen=True)
class Loaded:
    content: bytes | None  # None for URLs
    filename: str | None
    sha256: str


def documents_from(value: Any) -> list[Document]:
    """Normalise the operator's ``documents`` argument (an item or a list of items).

    An empty list is nothing to do (an upstream task found nothing new tonight), not an error;
    ``None`` is, since it usually means a template or XCom that did not resolve.
    """
    if value is None:
        raise CopyleaksValidationError("documents", "is empty: give a text, an item dict or a list of them")
    entries = list(value) if isinstance(value, (list, tuple)) else [value]
    docs = [_document(entry, n) for n, entry in enumerate(entries)]
    repeated = sorted(k for k, count in Counter(d.key for d in docs).items() if count > 1)
    if repeated:
        # Two items with one key would share one scan id (and one result).
        raise CopyleaksValidationError("documents", f"item keys must be unique; repeated: {repeated[:10]}")
    return docs


def _document(entry: Any, position: int) -> Document:
    if isinstance(entry, str):
        return Document(str(position), "text", entry)
    if isinstance(entry, os.PathLike) or hasattr(entry, "read_bytes"):
        return Document(str(position), "path", entry)
    if not isinstance(entry, dict):
        return Document(str(position), "text", None, problem=f"is a {type(entry).__name__}, not a str or dict")
    key = str(entry["key"]) if entry.get("key") not in (None, "") else str(position)
    if len(key) > KEY_MAX:
        return Document(key[:KEY_MAX], "text", None, problem=f"key is {len(key)} characters (limit {KEY_MAX})")
    given = [s for s in SOURCES if entry.get(s) is not None]
    filename = str(entry["filename"]) if entry.get("filename") else None
    if len(given) != 1:
        return Document(key, "text", None, filename, problem=f"needs exactly one of {', '.join(SOURCES)} (has {given})")
    prefix, pattern = entry.get("id_prefix"), entry.get("exclude_id_pattern")
    if prefix is not None and not (isinstance(prefix, str) and _ID_PREFIX.fullmatch(prefix)):
        return Document(key, "text", None, filename, problem="id_prefix must be 1 to 8 lower-case letters or digits")
    if pattern is not None and not (isinstance(pattern, str) and _ID_PATTERN.fullmatch(pattern)):
        return Document(
            key, "text", None, filename, problem=f"exclude_id_pattern must be 1 to {PATTERN_MAX} characters, no spaces"
        )
    return Document(key, given[0], entry[given[0]], filename, id_prefix=prefix, exclude_id_pattern=pattern)


def load(doc: Document) -> Loaded:
    """Read the document; raises CopyleaksValidationError naming the item if it is unusable."""
    field = f"documents[{doc.key}]"
    if doc.problem:
        raise CopyleaksValidationError(field, doc.problem)
    if doc.source == "url":
        if not isinstance(doc.value, str):
            raise CopyleaksValidationError(field, "url must be a string")
        return Loaded(None, None, ids.content_sha256(doc.value))
    if doc.source == "text":
        if not isinstance(doc.value, str):
            raise CopyleaksValidationError(field, f"text must be a string, got {type(doc.value).__name__}")
        data = doc.value.encode("utf-8")
        return Loaded(data, doc.filename or "document.txt", ids.content_sha256(data))
    path = _as_path(doc.value)
    check_local_read(path, field)
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as err:
        raise CopyleaksValidationError(field, f"cannot read {path}: {err}") from None
    # Copyleaks wants a bare name: a full path gives "Bad filename!" (REFERENCE.md §3.1).
    filename = doc.filename or PurePosixPath(str(getattr(path, "name", "") or "document")).name
    return Loaded(data, filename, ids.content_sha256(data))


def _as_path(value: Any) -> Any:
    if hasattr(value, "read_bytes") and not isinstance(value, str):
        return value  # pathlib.Path or ObjectStoragePath
    text = os.fspath(value)
    if "://" in text and not text.startswith("file://"):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(text)
    return Path(text.removeprefix("file://"))
