"""Removing what the store keeps past its retention: old scans, their events, exports, artifacts'
index rows and check results. Credentials-related rows (token cache, leases, rate slots, login
blocks) are the store's working state, not records, and are never purged here."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from airflow_copyleaks.store import schema as t
from airflow_copyleaks.store.engine import StoreEngine


class Retention(StoreEngine):
    def _old_exports(self, cutoff: datetime) -> sa.Select[tuple[str]]:
        return sa.select(t.export.c.export_id).where(t.export.c.created_at < cutoff)

    def artifacts_before(self, cutoff: datetime) -> list[str]:
        """Locations of the artifacts the purge at ``cutoff`` would remove (delete those files first)."""
        query = sa.select(t.artifact.c.location).where(
            sa.or_(t.artifact.c.created_at < cutoff, t.artifact.c.export_id.in_(self._old_exports(cutoff)))
        )
        with self._read() as conn:
            return [str(location) for location in conn.execute(query).scalars()]

    def purge_before(self, cutoff: datetime, *, dry_run: bool = False) -> dict[str, int]:
        """Delete records older than ``cutoff`` in one transaction; the number of rows per kind."""
        old_scans = sa.select(t.scan.c.scan_id).where(t.scan.c.updated_at < cutoff)
        # The newest event always stays: on SQLite a new event takes the highest id + 1, and the
        # triggers' watchers read events by id, so ids must never go back.
        newest = sa.select(sa.func.max(t.event.c.id)).scalar_subquery()
        events = sa.and_(
            sa.or_(t.event.c.received_at < cutoff, t.event.c.scan_id.in_(old_scans)), t.event.c.id < newest
        )
        artifacts = sa.or_(t.artifact.c.created_at < cutoff, t.artifact.c.export_id.in_(self._old_exports(cutoff)))
        plan = [
            ("events", t.event, events),
            ("scans", t.scan, t.scan.c.updated_at < cutoff),
            ("artifacts", t.artifact, artifacts),
            ("exports", t.export, t.export.c.created_at < cutoff),
            ("check_results", t.check_result, t.check_result.c.created_at < cutoff),
        ]
        counts: dict[str, int] = {}
        with self._write() as conn:
            for name, table, where in plan:
                if dry_run:
                    counts[name] = int(
                        conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar() or 0
                    )
                else:
                    counts[name] = int(conn.execute(sa.delete(table).where(where)).rowcount or 0)
        return counts
