"""What the store answers: plain frozen records built from its rows."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from airflow_copyleaks.store.status import FINAL_STATUSES


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def document(value: Any, default: Any) -> Any:
    """A JSON column's value. Rows written before the JSON column type may hold the JSON text."""
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value


@dataclass(frozen=True)
class ScanStatus:
    scan_id: str
    status: str
    kind: str | None
    action: str | None
    sandbox: bool | None
    credits: int | None
    score: float | None
    total_words: int | None
    error_code: str | None
    error_message: str | None
    event_count: int
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    resend_requested_at: datetime | None
    resend_attempts: int = 0

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "updated_at", "resend_requested_at"):
            data[key] = _iso(data[key])
        return data

    @classmethod
    def from_row(cls, row: Any) -> ScanStatus:
        meta = document(row["meta"], {})
        return cls(
            scan_id=row["scan_id"],
            status=row["status"],
            kind=row["kind"],
            action=row["action"],
            sandbox=row["sandbox"],
            credits=row["credits"],
            score=row["score"],
            total_words=row["total_words"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            event_count=row["event_count"],
            meta=meta if isinstance(meta, dict) else {},
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            resend_requested_at=row["resend_requested_at"],
            resend_attempts=row["resend_attempts"] or 0,
        )


@dataclass(frozen=True)
class StoredEvent:
    id: int
    scan_id: str
    event: str
    received_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "received_at": _iso(self.received_at)}


@dataclass(frozen=True)
class ExportStatus:
    export_id: str
    scan_id: str
    status: str  # pending | completed | failed
    expected: list[str]
    artifacts: list[dict[str, Any]]
    payload: dict[str, Any] | None
    unhealthy: list[dict[str, Any]]
    meta: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        data["completed_at"] = _iso(self.completed_at)
        return data

    @classmethod
    def from_rows(cls, row: Any, artifacts: list[dict[str, Any]]) -> ExportStatus:
        payload = document(row["payload"], None)
        unhealthy = [task for task in (payload or {}).get("tasks") or [] if not task_healthy(task)]
        return cls(
            export_id=row["export_id"],
            scan_id=row["scan_id"],
            status=row["status"],
            expected=document(row["expected"], []),
            artifacts=artifacts,
            payload=payload,
            unhealthy=unhealthy,
            meta=document(row["meta"], {}),
            created_at=row["created_at"],
            completed_at=row["completed_at"],
        )


def task_healthy(task: dict[str, Any]) -> bool:
    """Whether one task of Copyleaks' export-completed webhook reached its endpoint."""
    status = task.get("httpStatusCode")
    return bool(task.get("isHealthy")) and isinstance(status, int) and 200 <= status < 300
