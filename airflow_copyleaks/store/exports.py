"""Exports, their artifacts, and the results of synchronous checks."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from airflow_copyleaks.store import schema as t
from airflow_copyleaks.store.engine import StoreEngine, utcnow
from airflow_copyleaks.store.records import ExportStatus, document, task_healthy


class ExportRecords(StoreEngine):
    """The export and check-result half of :class:`~airflow_copyleaks.store.ScanStore`."""

    def register_export(
        self, export_id: str, scan_id: str, *, expected: list[str], meta: dict[str, Any] | None = None
    ) -> bool:
        stmt = (
            self._insert(t.export)
            .values(
                export_id=export_id,
                scan_id=scan_id,
                status="pending",
                expected=expected,
                meta=meta or {},
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["export_id"])
        )
        with self._write() as conn:
            return bool(conn.execute(stmt).rowcount)

    def record_artifact(
        self, export_id: str, kind: str, *, result_id: str | None, location: str, size: int, sha256: str
    ) -> bool:
        """Index an artifact the receiver wrote. True if new or its content changed (a retried push
        that overwrote the file with other bytes); a duplicate push changes nothing."""
        values = {"location": location, "size": size, "sha256": sha256}
        key = (
            t.artifact.c.export_id == export_id,
            t.artifact.c.kind == kind,
            t.artifact.c.result_id == (result_id or ""),
        )
        stmt = (
            self._insert(t.artifact)
            .values(export_id=export_id, kind=kind, result_id=result_id or "", created_at=utcnow(), **values)
            .on_conflict_do_nothing(index_elements=["export_id", "kind", "result_id"])
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount:
                return True
            changed = conn.execute(sa.update(t.artifact).where(*key, t.artifact.c.sha256 != sha256).values(**values))
            return bool(changed.rowcount)

    def export_scan_id(self, export_id: str) -> str | None:
        """The scan an export was registered for (the receiver files artifacts under it)."""
        with self._read() as conn:
            scan_id = conn.execute(sa.select(t.export.c.scan_id).where(t.export.c.export_id == export_id)).scalar()
        return str(scan_id) if scan_id else None

    def exports_for_scan(self, scan_id: str) -> list[str]:
        """Ids of the exports registered for a scan, oldest first."""
        query = sa.select(t.export.c.export_id).where(t.export.c.scan_id == scan_id).order_by(t.export.c.created_at)
        with self._read() as conn:
            return [str(export_id) for export_id in conn.execute(query).scalars()]

    def record_export_completed(self, export_id: str, payload: dict[str, Any], *, raw_body: bytes) -> bool:
        digest = hashlib.sha256(raw_body).hexdigest()
        tasks = [task for task in payload.get("tasks") or [] if isinstance(task, dict)]
        healthy = bool(payload.get("completed")) and all(task_healthy(task) for task in tasks)
        values = {
            "status": "completed" if healthy else "failed",
            "payload": payload,
            "completion_digest": digest,
            "completed_at": utcnow(),
        }
        with self._write() as conn:
            # A completion for an export we did not register (e.g. started elsewhere) gets a row.
            conn.execute(
                self._insert(t.export)
                .values(export_id=export_id, scan_id="", status="pending", expected=[], meta={}, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["export_id"])
            )
            # Only the first completion counts; duplicates and late deliveries change nothing. The
            # condition is in the UPDATE itself, so two receivers cannot both win.
            first = conn.execute(
                sa.update(t.export)
                .where(t.export.c.export_id == export_id, t.export.c.completion_digest.is_(None))
                .values(**values)
            )
        return bool(first.rowcount)

    def get_export(self, export_id: str) -> ExportStatus | None:
        with self._read() as conn:
            row = conn.execute(sa.select(t.export).where(t.export.c.export_id == export_id)).mappings().first()
            if row is None:
                return None
            artifacts = conn.execute(
                sa.select(t.artifact).where(t.artifact.c.export_id == export_id).order_by(t.artifact.c.id)
            ).mappings()
            artifact_list = [
                {
                    "kind": a["kind"],
                    "result_id": a["result_id"] or None,
                    "location": a["location"],
                    "size": a["size"],
                    "sha256": a["sha256"],
                }
                for a in artifacts
            ]
        return ExportStatus.from_rows(row, artifact_list)

    # ------------------------------------------------------------------ synchronous check results

    def save_check_result(
        self,
        scan_id: str,
        kind: str,
        summary: dict[str, Any],
        *,
        dag_id: str | None = None,
        credits: float | None = None,
        sandbox: bool | None = None,
    ) -> bool:
        """Record a paid check once; ``dag_id``, ``credits`` and ``sandbox`` feed the Copyleaks page."""
        values = {"dag_id": dag_id, "credits": credits, "sandbox": sandbox}
        stmt = (
            self._insert(t.check_result)
            .values(scan_id=scan_id, kind=kind, summary=summary, created_at=utcnow(), **values)
            .on_conflict_do_nothing(index_elements=["scan_id"])
        )
        with self._write() as conn:
            return bool(conn.execute(stmt).rowcount)

    def get_check_result(self, scan_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            summary = conn.execute(
                sa.select(t.check_result.c.summary).where(t.check_result.c.scan_id == scan_id)
            ).scalar()
        result = document(summary, None)
        return result if isinstance(result, dict) else None
