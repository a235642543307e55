"""The gate's side of the draft source: what it stages for the checks and which drafts await an editor.

Drafts come from :func:`publishing.source_drafts.draft_source` (the sample folder or WordPress).
The checks read files, never text through XCom, so each draft's text and hero image are staged in
object storage below ``[copyleaks] artifacts_url`` (``inputs/<dag>/<run>/``) where every worker
reads them. A draft sent to an editor stays ``draft`` in the CMS until the decision; a marker
(``publishing/in_review/<id>.json``) keeps the next scheduled run from checking it again and
tells the deadline alert what is still waiting.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from publishing.source_drafts import Draft, draft_source

IN_REVIEW_FOLDER = "publishing/in_review"


def _root() -> str:
    from airflow_copyleaks import config

    return config.artifacts_url().rstrip("/")


def _path(key: str) -> Any:
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(f"{_root()}/{key}")


def stage(source: Any, drafts: list[Draft], dag_id: str, run_id: str) -> list[dict[str, str]]:
    """Write each draft's text (and hero image) where the checks read them; their locations."""
    from airflow_copyleaks.ui.locations import safe_name

    folder = f"inputs/{safe_name(dag_id)}/{safe_name(run_id)}"  # local_roots admits <artifacts>/inputs
    staged = []
    for draft in drafts:
        text = _path(f"{folder}/{draft.id}.txt")
        text.parent.mkdir(parents=True, exist_ok=True)
        text.write_text(draft.text())
        entry = {"key": draft.id, "title": draft.title, "text": str(text), "image": "",
                 "modified_at": draft.modified_at.isoformat()}  # fmt: skip
        data = source.read_hero_image(draft)
        if data:
            # The URL's path only: "a.png?ver=2" is a PNG, not a ".png?ver=2" file.
            suffix = PurePosixPath(urlsplit(str(draft.hero_image_url or "")).path).suffix.lower() or ".png"
            image = _path(f"{folder}/{draft.id}{suffix}")
            image.write_bytes(data)
            entry["image"] = str(image)
        staged.append(entry)
    return staged


def mark_in_review(draft_id: str, title: str, note: str, run_id: str) -> None:
    record = {"id": draft_id, "title": title, "note": note, "run_id": run_id,
              "since": datetime.now(timezone.utc).isoformat()}  # fmt: skip
    path = _path(f"{IN_REVIEW_FOLDER}/{draft_id}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


def clear_in_review(draft_id: str) -> None:
    path = _path(f"{IN_REVIEW_FOLDER}/{draft_id}.json")
    if path.exists():
        path.unlink()


def in_review_ids() -> set[str]:
    folder = _path(IN_REVIEW_FOLDER)
    return {p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json")} if folder.exists() else set()


def unreviewed() -> list[dict[str, Any]]:
    """Drafts waiting for an editor's decision (what the gate's deadline alert lists)."""
    waiting = []
    for draft_id in sorted(in_review_ids()):
        try:
            waiting.append(json.loads(_path(f"{IN_REVIEW_FOLDER}/{draft_id}.json").read_text()))
        except FileNotFoundError:  # decided between the listing and this read: no longer waiting
            continue
    return waiting


def new_drafts(ids: list[str]) -> tuple[Any, list[Draft]]:
    """The source and the drafts to check: those named (again, whatever their state), else the
    CMS's new drafts that are not already waiting for an editor."""
    source = draft_source()
    if ids:
        found = [source.get_draft(i) for i in ids]
        return source, [d for d in found if d is not None]
    waiting = in_review_ids()
    return source, [d for d in source.list_drafts() if d.id not in waiting]
