"""Scans and their webhook events: registration, idempotent delivery, status folding, the cursor."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from airflow_copyleaks.store import event_order
from airflow_copyleaks.store import schema as t
from airflow_copyleaks.store.engine import StoreEngine, chunks, utcnow
from airflow_copyleaks.store.records import ScanStatus, StoredEvent, document
from airflow_copyleaks.store.status import EVENTS, STATUS_EVENTS, advances, status_fields

# A delivery's statements are built once and given their values at execution: a statement built
# per call with its values inline makes SQLAlchemy derive a cache key from every value (the JSON
# payload's type included) on each delivery, which cost more than the SQL itself.
_READ_SCAN_FOR_UPDATE = sa.select(t.scan).where(t.scan.c.scan_id == sa.bindparam("key")).with_for_update()
_UPDATE_SCAN = sa.update(t.scan).where(t.scan.c.scan_id == sa.bindparam("key"))


class ScanRecords(StoreEngine):
    """The scan and event half of :class:`~airflow_copyleaks.store.ScanStore`."""

    def register_scan(
        self, scan_id: str, *, kind: str, action: str, sandbox: bool, meta: dict[str, Any] | None = None
    ) -> bool:
        """Note a scan before it is submitted. True if new; an existing scan keeps its status."""
        now = utcnow()
        details = {"kind": kind, "action": action, "sandbox": sandbox, "meta": meta or {}}
        stmt = (
            self._insert(t.scan)
            .values(scan_id=scan_id, status="submitted", event_count=0, created_at=now, updated_at=now, **details)
            .on_conflict_do_nothing(index_elements=["scan_id"])
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount:
                return True
            # A webhook can beat the registration (the row then has no details yet): fill them in,
            # leaving the status alone.
            conn.execute(
                sa.update(t.scan).where(t.scan.c.scan_id == scan_id, t.scan.c.kind.is_(None)).values(**details)
            )
            return False

    def record_event(self, scan_id: str, event: str, payload: dict[str, Any], *, raw_body: bytes) -> bool:
        """Store one webhook delivery and fold it into the scan's status. False for a duplicate."""
        if event not in EVENTS:
            raise ValueError(f"unknown scan event {event!r}; expected one of {sorted(EVENTS)}")
        with self._write() as conn:
            return self._record_event_in(conn, scan_id, event, payload, raw_body=raw_body)

    def _record_event_in(
        self, conn: sa.Connection, scan_id: str, event: str, payload: dict[str, Any], *, raw_body: bytes
    ) -> bool:
        values = {
            "scan_id": scan_id,
            "event": event,
            "digest": hashlib.sha256(raw_body).hexdigest(),
            "payload": payload,
            "received_at": utcnow(),
        }
        if not conn.execute(self._insert_event, values).rowcount:
            return False
        self._fold(conn, scan_id, event, payload)
        return True

    @cached_property
    def _insert_event(self) -> Any:
        """The event INSERT (a duplicate delivery inserts nothing), built once per store."""
        insert = self._insert(t.event)
        if not self.is_sqlite:
            # Ids must become visible in order for the watchers' cursor (event_order.py).
            insert = insert.values(id=event_order.NEXT_EVENT_ID)
        return insert.on_conflict_do_nothing(index_elements=["scan_id", "event", "digest"])

    def _fold(self, conn: sa.Connection, scan_id: str, event: str, payload: dict[str, Any]) -> None:
        """Count a new event on its scan and let it advance the status."""
        now = utcnow()
        # FOR UPDATE (PostgreSQL; SQLite writers are serial anyway): the status is computed from
        # this read, and mark_started() must not slip in between the read and the write.
        row = conn.execute(_READ_SCAN_FOR_UPDATE, {"key": scan_id}).mappings().first()
        if row is None and event == "deleted":
            return  # a delete request's completion: an event, but no scan to fold it into
        if row is None:
            # The webhook beat the registration; a registration racing it keeps its own row.
            conn.execute(
                self._insert(t.scan)
                .values(scan_id=scan_id, status="submitted", event_count=0, meta={}, created_at=now, updated_at=now)
                .on_conflict_do_nothing(index_elements=["scan_id"])
            )
            row = conn.execute(_READ_SCAN_FOR_UPDATE, {"key": scan_id}).mappings().one()
        changes: dict[str, Any] = {"event_count": row["event_count"] + 1, "updated_at": now}
        if event in STATUS_EVENTS and advances(row["status"], event):
            changes.update(status_fields(event, payload))
        conn.execute(_UPDATE_SCAN, {"key": scan_id, **changes})

    def mark_started(self, scan_ids: Sequence[str]) -> None:
        """Price-checked scans that Copyleaks accepted to start."""
        now = utcnow()
        with self._write() as conn:
            for chunk in chunks(scan_ids):
                conn.execute(
                    sa.update(t.scan)
                    .where(t.scan.c.scan_id.in_(chunk), t.scan.c.status.in_(["submitted", "creditsChecked"]))
                    .values(status="started", updated_at=now)
                )

    def mark_resend_requested(self, scan_id: str) -> None:
        with self._write() as conn:
            attempts = sa.func.coalesce(t.scan.c.resend_attempts, 0) + 1
            conn.execute(
                sa.update(t.scan)
                .where(t.scan.c.scan_id == scan_id)
                .values(resend_requested_at=utcnow(), resend_attempts=attempts)
            )

    def get_scan(self, scan_id: str) -> ScanStatus | None:
        return self.get_scans([scan_id]).get(scan_id)

    def get_scans(self, scan_ids: Sequence[str]) -> dict[str, ScanStatus]:
        """Statuses of many scans: one query per 500 ids, never one per id."""
        found: dict[str, ScanStatus] = {}
        unique = list(dict.fromkeys(scan_ids))
        with self._read() as conn:
            for chunk in chunks(unique):
                for row in conn.execute(sa.select(t.scan).where(t.scan.c.scan_id.in_(chunk))).mappings():
                    found[row["scan_id"]] = ScanStatus.from_row(row)
        return found

    def latest_event_id(self) -> int:
        """Where a new cursor starts: the last event id no earlier, uncommitted one can precede."""
        for _ in range(1000):
            with self._read() as conn:
                latest = int(conn.execute(sa.select(sa.func.max(t.event.c.id))).scalar() or 0)
                horizon = latest if self.is_sqlite else event_order.visible_horizon(conn)
            if horizon is not None:
                return min(latest, horizon)
            time.sleep(0.001)  # a writer is between drawing its id and publishing it: a moment
        return 0  # never seen settled: start from the beginning rather than skip an event

    def events_after(self, event_id: int, limit: int = 10_000) -> list[StoredEvent]:
        """Events with an id above ``event_id``, oldest first: a cursor over every scan at once.

        On PostgreSQL only up to the first id still in flight: a later call returns the rest.
        """
        query = (
            sa.select(t.event.c.id, t.event.c.scan_id, t.event.c.event, t.event.c.received_at)
            .where(t.event.c.id > event_id)
            .order_by(t.event.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            if not self.is_sqlite:
                horizon = event_order.visible_horizon(conn)
                if horizon is None:
                    return []  # the next call reads on
                query = query.where(t.event.c.id <= horizon)
            return [StoredEvent(r.id, r.scan_id, r.event, r.received_at) for r in conn.execute(query)]

    def get_event_payload(self, scan_id: str, event: str) -> dict[str, Any] | None:
        query = (
            sa.select(t.event.c.payload)
            .where(t.event.c.scan_id == scan_id, t.event.c.event == event)
            .order_by(t.event.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            payload = conn.execute(query).scalar()
        return document(payload, None)

    def count_events(self, scan_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(t.event)
        if scan_id is not None:
            query = query.where(t.event.c.scan_id == scan_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar() or 0)
