"""What the example DAGs hold back, kept where every machine sees it.

A report task may run on any worker, so holds cannot live on a worker's own disk: they live in
object storage below ``[copyleaks] artifacts_url`` (``publishing/holds/<kind>/<id>.json``), one
small object per held item. Two workers holding different items write different objects, so
neither can lose the other's hold (as a read-modify-write of one shared file would).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

HOLDS_FOLDER = "publishing/holds"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def default_holds_url() -> str:
    from airflow_copyleaks import config

    return f"{config.artifacts_url().rstrip('/')}/{HOLDS_FOLDER}"


def _checked(field: str, value: str) -> str:
    # Kinds and ids name objects: nothing that could leave the holds folder.
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"hold {field} {value!r} must be 1 to 64 letters, digits, '-' or '_'")
    return value


def _write_whole(path: Any, text: str) -> None:
    """Write one object so that a reader sees the old one, the new one, or none; never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    protocols = path.fs.protocol if isinstance(path.fs.protocol, tuple) else (path.fs.protocol,)
    if not {"file", "local"} & set(protocols):
        path.write_text(text)  # an object store replaces an object in one step
        return
    # A local file is written in place: write a sibling and rename it over (atomic in one folder).
    partial = path.parent / f".{path.name}.{uuid.uuid4().hex}.partial"
    partial.write_text(text)
    path.fs.mv(partial.path, path.path)


class HoldStore:
    """Held-back items under ``url`` (default: ``<artifacts_url>/publishing/holds``)."""

    def __init__(self, url: str | None = None) -> None:
        self._url = url

    @property
    def url(self) -> str:
        # Resolved on use: a source built only to read articles never needs the setting.
        return (self._url or default_holds_url()).rstrip("/")

    def _path(self, kind: str, item_id: str) -> Any:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(f"{self.url}/{kind}/{item_id}.json")

    def hold(self, kind: str, ids: Iterable[str], reason: str) -> list[str]:
        """Record that items are held back; returns the ids that were not held before."""
        kind = _checked("kind", kind)
        wanted = [_checked("id", item_id) for item_id in ids]  # all checked before anything is written
        now = datetime.now(timezone.utc).isoformat()
        added = []
        for item_id in wanted:
            path = self._path(kind, item_id)
            if not path.exists():
                added.append(item_id)
            record = {"kind": kind, "id": item_id, "reason": reason, "held_at": now}
            _write_whole(path, json.dumps(record, indent=2, sort_keys=True))
        return added

    def holds(self) -> dict[str, dict[str, Any]]:
        """Every held item, keyed ``"<kind>:<id>"``."""
        from airflow.sdk import ObjectStoragePath

        root = ObjectStoragePath(self.url)
        if not root.exists():
            return {}
        found: dict[str, dict[str, Any]] = {}
        for folder in root.iterdir():
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name.endswith(".json") and not entry.name.startswith("."):
                    record = json.loads(entry.read_text())
                    found[f"{record['kind']}:{record['id']}"] = record
        return dict(sorted(found.items()))
