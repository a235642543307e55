"""Where exported artifacts land: object storage under keys no id can steer (decision 5).

Layout: ``{base}/{sha256(scan_id)[:16]}-{slug}/{sha256(export_id)[:16]}-{slug}/{name}.{ext}``.
The digests make each folder unique; the slugs (lower-case letters, digits and dashes only) are
for people browsing the bucket. No raw id reaches a path, so ``../../etc/passwd`` or ``a/../b``
cannot escape the artifacts folder. A file is written under a temporary name and then moved, so
a reader never finds half an artifact.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

EXTENSIONS = {"result": "json", "pdf": "pdf", "crawled": "json", "ai": "json", "writing": "json"}
UNKNOWN_SCAN = "unregistered"  # an export the store has no record of (still authenticated)


def _slug(ident: str, limit: int = 24) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", ident.lower()).strip("-")[:limit].strip("-")
    return slug or "id"


def _folder(ident: str) -> str:
    return f"{hashlib.sha256(ident.encode()).hexdigest()[:16]}-{_slug(ident)}"


def artifact_key(scan_id: str | None, export_id: str, kind: str, result_id: str | None = None) -> str:
    """The key of one artifact, relative to the artifacts URL."""
    if kind not in EXTENSIONS:
        raise ValueError(f"unknown artifact kind {kind!r}")
    name = f"result-{_folder(result_id)}" if result_id is not None else kind
    scan_folder = _folder(scan_id) if scan_id else UNKNOWN_SCAN
    return f"{scan_folder}/{_folder(export_id)}/{name}.{EXTENSIONS[kind]}"


@dataclass(frozen=True)
class WrittenArtifact:
    location: str
    size: int
    sha256: str


class ArtifactWriter:
    """Writes artifacts below ``base_url`` (any ObjectStoragePath URL: file://, s3://, gs://).

    :param base_url: the folder artifacts go below (``[copyleaks] artifacts_url``).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._base: Any = None

    def _root(self) -> Any:
        if self._base is None:
            # Imported here: the Task SDK is heavy and the receiver may never get an artifact.
            from airflow.sdk import ObjectStoragePath

            self._base = ObjectStoragePath(self.base_url)
        return self._base

    def write(
        self, scan_id: str | None, export_id: str, kind: str, result_id: str | None, data: bytes
    ) -> WrittenArtifact:
        target = self._root() / artifact_key(scan_id, export_id, kind, result_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        temporary.write_bytes(data)
        try:
            temporary.rename(target)
        except (NotImplementedError, OSError):
            # Stores without rename (some object stores) write whole objects atomically anyway.
            target.write_bytes(data)
            temporary.unlink(missing_ok=True)
        return WrittenArtifact(location=str(target), size=len(data), sha256=hashlib.sha256(data).hexdigest())
