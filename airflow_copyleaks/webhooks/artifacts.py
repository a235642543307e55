"""Where exported artifacts land: object storage under keys no id can steer (decision 5).

Keys are made of digests of the export and result ids, never the ids themselves, so an id such
as ``../../etc/passwd`` or ``a/../b`` cannot escape the artifacts folder. A file is written under
a temporary name and then renamed, so a reader never finds half an artifact.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

EXTENSIONS = {"result": "json", "pdf": "pdf", "crawled": "json", "ai": "json", "writing": "json"}


def _digest(ident: str) -> str:
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def artifact_key(export_id: str, kind: str, result_id: str | None = None) -> str:
    if kind not in EXTENSIONS:
        raise ValueError(f"unknown artifact kind {kind!r}")
    name = f"{kind}-{_digest(result_id)}" if result_id else kind
    return f"{_digest(export_id)}/{name}.{EXTENSIONS[kind]}"


@dataclass(frozen=True)
class WrittenArtifact:
    location: str
    size: int
    sha256: str


class ArtifactWriter:
    """Writes artifacts below ``base_url`` (any ObjectStoragePath URL: file://, s3://, gs://)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._base: Any = None

    def _root(self) -> Any:
        if self._base is None:
            from airflow.sdk import ObjectStoragePath

            self._base = ObjectStoragePath(self.base_url)
        return self._base

    def write(self, export_id: str, kind: str, result_id: str | None, data: bytes) -> WrittenArtifact:
        target = self._root() / artifact_key(export_id, kind, result_id)
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
