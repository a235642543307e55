"""Scan completions as a feed, and how far each event-driven watcher has read it.

The event-driven trigger (:mod:`airflow_copyleaks.triggers.events`) turns completions recorded
here into asset events. Every triggerer process reads the feed once per poll for all its
watchers (:meth:`Watermarks.completions_after`); each watcher's position is a row of its own
(the watermark), written once Airflow has taken the asset events up to it, and read back when a
triggerer starts the watcher again. Completions of scans no task registered (a CMS that called
Copyleaks with the receiver's webhook URL) are events like any other: the receiver records them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from airflow_copyleaks.store import event_order
from airflow_copyleaks.store import schema as t
from airflow_copyleaks.store.engine import StoreEngine, utcnow
from airflow_copyleaks.store.records import document
from airflow_copyleaks.store.status import error_fields, number

#: The scan events that end a scan, and so may drive a DAG.
COMPLETION_EVENTS = ("completed", "error", "indexed")
FEED_PAGE = 1000  # completions per read: a long backlog is read in pages


@dataclass(frozen=True)
class Completion:
    """One final status webhook of a scan, as the event-driven trigger sees it.

    :param event_id: The delivery's id in the event feed.
    :param scan_id: The scan.
    :param status: ``completed``, ``error`` or ``indexed``.
    :param score: The aggregated score (percent) of a completed scan.
    :param developer_payload: The developer payload Copyleaks echoed.
    :param error: ``code`` and ``message`` of an error.
    :param scan_meta: What the submitting task recorded (``{}`` for a scan from outside Airflow).
    :param received_at: When the receiver stored the delivery.
    """

    event_id: int
    scan_id: str
    status: str  # completed | error | indexed
    score: float | None  # aggregatedScore (percent), for a completed scan
    developer_payload: str | None
    error: dict[str, Any] | None
    scan_meta: dict[str, Any]
    received_at: datetime

    def to_event(self) -> dict[str, Any]:
        """The asset event's payload (plain JSON)."""
        return {
            "event_id": self.event_id,
            "scan_id": self.scan_id,
            "status": self.status,
            "score": self.score,
            "developer_payload": self.developer_payload,
            "error": self.error,
            "dag_id": self.scan_meta.get("dag_id"),
            "conn_id": self.scan_meta.get("conn_id"),
            "received_at": self.received_at.isoformat(),
        }


def _score(value: Any) -> float | None:
    # Copyleaks sends {aggregatedScore: ...}; the receiver also accepts a bare number.
    return number(value.get("aggregatedScore") if isinstance(value, Mapping) else value)


def _payload_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _completion(row: Any) -> Completion:
    # The payload's parts arrive decoded (JSON path expressions); the scan's meta is a column that
    # rows from before the JSON type may hold as text.
    error = None
    if row.event == "error":
        code, message = error_fields({"error": row.error})
        error = {"code": code, "message": message or "no message"}
    meta = document(row.meta, {})
    return Completion(
        event_id=int(row.id),
        scan_id=row.scan_id,
        status=row.event,
        score=_score(row.score),
        developer_payload=_payload_text(row.developer_payload),
        error=error,
        scan_meta=meta if isinstance(meta, dict) else {},
        received_at=row.received_at,
    )


class Watermarks(StoreEngine):
    """The completion feed and the watchers' watermarks, part of :class:`~airflow_copyleaks.store.ScanStore`."""

    def feed_position(self) -> int:
        """The highest event id every earlier event is visible below (where a new watcher starts)."""
        with self._read() as conn:
            return self._horizon(conn)

    def _horizon(self, conn: sa.Connection) -> int:
        latest = int(conn.execute(sa.select(sa.func.max(t.event.c.id))).scalar() or 0)
        if self.is_sqlite:
            return latest  # one writer at a time: every id up to the highest is committed
        horizon = event_order.visible_horizon(conn)
        # At the instant a writer has drawn an id it has not published, go no further than before.
        return min(latest, horizon) if horizon is not None else -1

    def settled_position(self) -> int:
        """The feed position, waiting while a writer is between drawing its id and publishing
        it (a moment). Never a guess: starting from 0 would replay every past completion, and
        starting past an unpublished id would skip it."""
        delay = 0.001
        while True:
            position = self.feed_position()
            if position >= 0:
                return position
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def completions_after(self, position: int, limit: int = FEED_PAGE) -> tuple[list[Completion], int]:
        """Completions with an event id above ``position``, oldest first, and the position they
        reach: every event up to it (completion or not) has been looked at. One query (two on
        PostgreSQL, whose visible horizon is read first)."""
        e, s = t.event, t.scan
        earlier = t.event.alias("earlier")
        # One completion per scan and status: a resent webhook whose body differs (a new event
        # to the store) must not run a DAG a second time.
        first_of_its_kind = ~(
            sa.select(earlier.c.id)
            .where(earlier.c.scan_id == e.c.scan_id, earlier.c.event == e.c.event, earlier.c.id < e.c.id)
            .exists()
        )
        with self._read() as conn:
            horizon = self._horizon(conn)
            if horizon <= position:
                return [], position
            query = (
                sa.select(
                    e.c.id,
                    e.c.scan_id,
                    e.c.event,
                    e.c.received_at,
                    e.c.payload["developerPayload"].label("developer_payload"),
                    e.c.payload[("results", "score")].label("score"),
                    e.c.payload["error"].label("error"),
                    s.c.meta,
                )
                .select_from(e.outerjoin(s, s.c.scan_id == e.c.scan_id))
                .where(e.c.id > position, e.c.id <= horizon, e.c.event.in_(COMPLETION_EVENTS), first_of_its_kind)
                .order_by(e.c.id)
                .limit(limit)
            )
            rows = conn.execute(query).all()
        if len(rows) == limit:
            return [_completion(r) for r in rows], int(rows[-1].id)  # more to read from there
        return [_completion(r) for r in rows], horizon

    def watermark(self, key: str) -> int | None:
        """The position saved for watcher ``key``, or None for a watcher never started."""
        with self._read() as conn:
            value = conn.execute(sa.select(t.watermark.c.position).where(t.watermark.c.key == key)).scalar()
        return None if value is None else int(value)

    def start_watermark(self, key: str) -> int:
        """The position of watcher ``key``: its saved one, or (first start) the feed's current
        end, saved at once so that what arrives from now on is seen even across a restart."""
        start = self.settled_position()
        with self._write() as conn:
            stmt = self._insert(t.watermark).values(key=key, position=start, updated_at=utcnow())
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            return int(conn.execute(sa.select(t.watermark.c.position).where(t.watermark.c.key == key)).scalar_one())

    def advance_watermarks(self, positions: Mapping[str, int]) -> None:
        """Move watchers forward (never back): one statement per distinct position."""
        by_position: dict[int, list[str]] = {}
        for key, position in positions.items():
            by_position.setdefault(int(position), []).append(key)
        if not by_position:
            return
        now = utcnow()
        with self._write() as conn:
            for position, keys in sorted(by_position.items()):
                conn.execute(
                    sa.update(t.watermark)
                    .where(t.watermark.c.key.in_(keys), t.watermark.c.position < position)
                    .values(position=position, updated_at=now)
                )
