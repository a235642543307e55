"""Read-only summaries of the store for the Copyleaks page: recent scans, paid checks, the last webhook.

Kept apart from the write path: these queries only read, and a page view never takes a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from airflow_copyleaks.store import schema as t
from airflow_copyleaks.store.records import ScanStatus, StoredEvent
from airflow_copyleaks.store.scan_store import ScanStore


def scans_since(store: ScanStore, since: datetime, *, limit: int = 50_000) -> list[ScanStatus]:
    """Scans created or updated at or after ``since``, newest first."""
    query = (
        sa.select(t.scan)
        .where(sa.or_(t.scan.c.updated_at >= since, t.scan.c.created_at >= since))
        .order_by(t.scan.c.updated_at.desc())
        .limit(limit)
    )
    with store._read() as conn:
        return [ScanStatus.from_row(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class PaidCheck:
    """A synchronous check (moderation, image, AI text, writing) that cost credits."""

    dag_id: str
    kind: str
    credits: float
    created_at: datetime


def paid_checks_since(store: ScanStore, since: datetime, *, limit: int = 50_000) -> list[PaidCheck]:
    """Checks recorded at or after ``since`` with their DAG and credits known, sandbox excluded."""
    c = t.check_result.c
    query = (
        sa.select(c.dag_id, c.kind, c.credits, c.created_at)
        .where(c.created_at >= since, c.dag_id.is_not(None), c.credits > 0, sa.not_(sa.func.coalesce(c.sandbox, False)))
        .order_by(c.created_at.desc())
        .limit(limit)
    )
    with store._read() as conn:
        return [PaidCheck(row.dag_id, row.kind, float(row.credits), row.created_at) for row in conn.execute(query)]


def last_event(store: ScanStore) -> StoredEvent | None:
    """The webhook delivery received last (what the receiver last stored), if any."""
    latest = store.latest_event_id()
    events = store.events_after(latest - 1, limit=1) if latest else []
    return events[0] if events else None
