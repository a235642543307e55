"""Turn what a DAG author passes (one item or a list) into keyed items, and load images.

Normalising is cheap and does no I/O, so it runs before the batch; reading an image happens in
the batch's worker, so one unreadable file is that item's error and files load concurrently.

Text items: a string, ``{"key": ..., "text": ...}`` or ``{"key": ..., "path": ...}`` (read as UTF-8
in the worker, so a long body never rides in XCom; extra keys, e.g. a whole database row,
are ignored). Image items: a local path or an ``ObjectStoragePath``/URL (``s3://...``), raw
bytes, a ``data:`` URI, or ``{"key": ..., "path" | "base64" | "data": ..., "filename": ...}``
(XCom must stay JSON, so bytes travel between tasks as base64).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_copyleaks import validation as v
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.local_files import check_local_read

KEY_MAX_CHARS = 200


@dataclass(frozen=True)
class TextItem:
    key: str
    text: Any  # validated in the worker: a bad item is that item's error, not the batch's
    path: Any = None  # or where to read it (local or ObjectStoragePath), so no body rides in XCom


@dataclass(frozen=True)
class ImageItem:
    key: str
    path: Any = None  # str, os.PathLike or ObjectStoragePath
    data: bytes | None = None
    base64: str | None = None
    filename: str | None = None
    problem: str | None = None  # an unusable item, reported as its error when it runs


def as_list(value: Any) -> list[Any]:
    """One item or a batch: a list/tuple is a batch, anything else a single item."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _key(entry: Any, position: int) -> str:
    if isinstance(entry, dict) and entry.get("key") not in (None, ""):
        key = str(entry["key"])
        if len(key) > KEY_MAX_CHARS:
            raise CopyleaksValidationError("key", f"{key[:40]!r}... is {len(key)} characters", limit=f"{KEY_MAX_CHARS}")
        return key
    return str(position)


def _unique(keys: Sequence[str], field: str) -> None:
    # Two items with one key would get one scan id: the second would read the first's result.
    dupes = sorted(k for k, n in Counter(keys).items() if n > 1)
    if dupes:
        raise CopyleaksValidationError(field, f"item keys must be unique; repeated: {dupes[:10]}")


def text_items(value: Any, field: str = "texts") -> list[TextItem]:
    entries = as_list(value)
    if not entries:
        raise CopyleaksValidationError(field, "is empty: give a text, a {'key', 'text'} dict or a list of them")
    items = []
    for position, entry in enumerate(entries):
        if isinstance(entry, dict) and entry.get("text") is None and entry.get("path") is not None:
            items.append(TextItem(_key(entry, position), None, path=entry["path"]))
            continue
        text = entry.get("text") if isinstance(entry, dict) else entry
        items.append(TextItem(_key(entry, position), text))
    _unique([i.key for i in items], field)
    return items


def image_items(value: Any, field: str = "images") -> list[ImageItem]:
    entries = as_list(value)
    if not entries:
        raise CopyleaksValidationError(field, "is empty: give a path, bytes, a dict or a list of them")
    items = [_image_item(entry, position) for position, entry in enumerate(entries)]
    _unique([i.key for i in items], field)
    return items


def _image_item(entry: Any, position: int) -> ImageItem:
    key = _key(entry, position)
    if isinstance(entry, (bytes, bytearray, memoryview)):
        return ImageItem(key, data=bytes(entry))
    if isinstance(entry, str) and entry.startswith("data:"):
        header, _, payload = entry.partition(",")
        if ";base64" not in header:
            return ImageItem(key, problem="a data: URI must be base64-encoded")
        return ImageItem(key, base64=payload)
    if isinstance(entry, dict):
        filename = entry.get("filename")
        sources = [k for k in ("path", "base64", "data") if entry.get(k) is not None]
        if len(sources) != 1:
            return ImageItem(key, problem=f"needs exactly one of path, base64, data (has {sources or 'none'})")
        source = sources[0]
        if source == "data" and not isinstance(entry["data"], (bytes, bytearray)):
            return ImageItem(key, problem="'data' must be bytes (use 'base64' for a string)")
        return ImageItem(
            key,
            path=entry.get("path"),
            data=bytes(entry["data"]) if source == "data" else None,
            base64=entry.get("base64"),
            filename=str(filename) if filename else None,
        )
    if isinstance(entry, (str, os.PathLike)) or hasattr(entry, "read_bytes"):
        return ImageItem(key, path=entry)
    return ImageItem(key, problem=f"is a {type(entry).__name__}, not a path, bytes or a dict")


def load_image(item: ImageItem) -> tuple[bytes, str]:
    """The image's bytes and the file name to upload; raises CopyleaksValidationError if unusable.

    Sizes are checked before reading where the storage can tell, so a 300 MB file is refused
    without loading it.
    """
    field = f"images[{item.key}]"
    if item.problem:
        raise CopyleaksValidationError(field, item.problem)
    filename = item.filename
    if item.data is not None:
        data = item.data
    elif item.base64 is not None:
        try:
            data = base64.b64decode(item.base64, validate=True)
        except (binascii.Error, ValueError) as err:
            raise CopyleaksValidationError(field, f"is not valid base64: {err}") from None
    else:
        path = _as_path(item.path)
        check_local_read(path, field)
        size = _size_of(path)
        if size is not None and size >= v.IMAGE_CHECK_MAX_BYTES:
            raise CopyleaksValidationError(
                field, f"{path} is {size / v.MB:.1f} MB", limit=f"less than {v.IMAGE_CHECK_MAX_BYTES // v.MB} MB"
            )
        try:
            data = path.read_bytes()
        except (OSError, ValueError) as err:
            raise CopyleaksValidationError(field, f"cannot read {path}: {err}") from None
        filename = filename or path.name
    if not filename:
        # Bytes from XCom carry no name: name them after the format their header declares.
        info = v.read_image_header(data)
        filename = f"image.{info.format if info else 'bin'}"
    return data, filename


def load_text(item: TextItem) -> Any:
    """The item's text: given, or read (UTF-8) from its path in the worker."""
    if item.path is None:
        return item.text
    path = _as_path(item.path)
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, ValueError) as err:
        raise CopyleaksValidationError(f"texts[{item.key}]", f"cannot read {path}: {err}") from None


def _as_path(value: Any) -> Any:
    if hasattr(value, "read_bytes") and not isinstance(value, str):
        return value  # pathlib.Path or ObjectStoragePath already
    text = os.fspath(value)
    if "://" in text and not text.startswith("file://"):
        from airflow.sdk import ObjectStoragePath  # only for remote storage; keeps parsing light

        return ObjectStoragePath(text)
    return Path(text.removeprefix("file://"))


def _size_of(path: Any) -> int | None:
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None  # missing file: reported by the read below
    size = getattr(stat, "st_size", None)
    if size is None and isinstance(stat, dict):
        size = stat.get("size")
    return int(size) if size is not None else None
