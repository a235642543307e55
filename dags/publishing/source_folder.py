"""The sample drafts (``dags/data/drafts.json`` and ``drafts/<id>.txt``) as a :class:`DraftSource`.

The drafts themselves are read-only sample data shipped with the DAGs. The decisions recorded on
them are state, and state must be shared by every machine that runs a task: it lives in object
storage below ``[copyleaks] artifacts_url`` (``publishing/drafts/<id>.json``, one small object
per draft so that two tasks deciding on two drafts never rewrite each other's record), not in
the DAGs folder, which each machine has its own copy of.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from publishing.source_drafts import (
    QUEUE_STATUS,
    STATUS_AFTER,
    Decision,
    Draft,
    DraftUpdate,
    Outcome,
    parse_decision,
    refusal,
)

DATA = Path(__file__).resolve().parent.parent / "data"
STATE_FOLDER = "publishing/drafts"
_DRAFT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def _state_root() -> str:
    from airflow_copyleaks import config

    return f"{config.artifacts_url().rstrip('/')}/{STATE_FOLDER}"


class FolderDraftSource:
    """Drafts from the sample folder; decisions in object storage (``state_url``).

    :param root: The folder with ``drafts.json``, the drafts' texts and images (default:
        ``$COPYLEAKS_EXAMPLE_DATA``, else the shipped ``dags/data``).
    :param state_url: Where decisions are recorded, one object per draft (default: below
        ``[copyleaks] artifacts_url``, where every machine sees them).
    """

    name = "folder"

    def __init__(self, root: Path | None = None, state_url: str | None = None) -> None:
        # COPYLEAKS_EXAMPLE_DATA: another archive in the same layout, as for the published articles.
        self.root = root or Path(os.environ.get("COPYLEAKS_EXAMPLE_DATA") or DATA)
        self.state_url = (state_url or _state_root()).rstrip("/")

    def _entries(self) -> dict[str, dict[str, Any]]:
        index = self.root / "drafts.json"
        entries = json.loads(index.read_text()) if index.exists() else []
        return {entry["id"]: entry for entry in entries}

    def _state_path(self, draft_id: str) -> Any:
        from airflow.sdk import ObjectStoragePath

        if not _DRAFT_ID.fullmatch(draft_id):  # ids name objects: nothing that could leave the folder
            raise ValueError(f"draft id {draft_id!r} must be 1 to 64 letters, digits, '-' or '_'")
        return ObjectStoragePath(f"{self.state_url}/{draft_id}.json")

    def _state(self, draft_id: str) -> dict[str, Any]:
        path = self._state_path(draft_id)
        return json.loads(path.read_text()) if path.exists() else {}

    def _draft(self, entry: dict[str, Any]) -> Draft:
        state = self._state(entry["id"])
        image = entry.get("hero_image") or ""
        return Draft(
            id=entry["id"],
            title=entry["title"],
            body=self._inside(entry["body"]).read_text().strip(),
            hero_image_url=self._inside(image).as_uri() if image else None,
            modified_at=_time(state.get("modified_at") or entry["modified_at"]),
            status=state.get("status") or entry.get("status") or QUEUE_STATUS,
            note=state.get("note", ""),
        )

    def _inside(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"{name!r} is outside the sample folder")
        return path

    def list_drafts(self) -> list[Draft]:
        drafts = [self._draft(entry) for entry in self._entries().values()]
        return sorted((d for d in drafts if d.status == QUEUE_STATUS), key=lambda d: (d.modified_at, d.id))

    def get_draft(self, draft_id: str) -> Draft | None:
        entry = self._entries().get(draft_id)
        return self._draft(entry) if entry else None

    def read_hero_image(self, draft: Draft) -> bytes | None:
        entry = self._entries().get(draft.id)
        image = (entry or {}).get("hero_image") or ""
        return self._inside(image).read_bytes() if image else None

    def apply_decision(
        self, draft_id: str, decision: Decision | str, note: str = "", *, checked_modified: datetime | None = None
    ) -> DraftUpdate:
        chosen = parse_decision(decision)
        refused = refusal(self.get_draft(draft_id), draft_id, chosen, checked_modified, note)
        if refused:
            return refused
        status = STATUS_AFTER[chosen]
        now = datetime.now(timezone.utc).isoformat()
        record = {"status": status, "note": note, "decision": chosen.value, "decided_at": now, "modified_at": now}
        path = self._state_path(draft_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        # One object written whole (object stores replace an object atomically).
        path.write_text(json.dumps(record, indent=2, sort_keys=True))
        return DraftUpdate(draft_id, chosen.value, Outcome.UPDATED.value, status, f"draft {draft_id} is now {status!r}")
