"""What the waits need from the ScanStore, in one place: reads, small summaries, resends.

Triggers, the sensor's poke mode and the operators all read scans through these functions, so the
meaning of a stored scan for a wait (its status, when it was last heard of, its summary) is
defined once. Every function here is blocking; async callers run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksNotFoundError
from airflow_copyleaks.waits.domain import ScanRecord, ScanSummary

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStatus, ScanStore, StoredEvent

log = logging.getLogger(__name__)


def open_store(url: str | None = None) -> ScanStore:
    from airflow_copyleaks.store import get_store

    return get_store(url)


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _code(value: str | None) -> int | str | None:
    # The store keeps codes as text (some are names); numeric ones go back to numbers.
    if value is not None and value.isdigit():
        return int(value)
    return value


def normalise_scan(record: ScanStatus) -> ScanRecord:
    """A stored scan as plain JSON-able data: ``scan_id``, ``status``, ``last_activity`` (epoch
    seconds: the latest of registration, last delivery and last resend request), ``summary``."""
    times = [_epoch(record.created_at), _epoch(record.updated_at), _epoch(record.resend_requested_at)]
    summary: dict[str, Any] = {
        "credits": record.credits,
        "score": record.score,
        "total_words": record.total_words,
    }
    if record.status == "error" or record.error_code or record.error_message:
        summary["error"] = {"code": _code(record.error_code), "message": record.error_message or "no message"}
    return {
        "scan_id": record.scan_id,
        "status": record.status,
        "last_activity": max(t for t in times if t is not None),
        "resend_requested_at": _epoch(record.resend_requested_at),
        "resend_attempts": record.resend_attempts,
        "started": record.status == "started",
        "summary": cast(ScanSummary, {k: v for k, v in summary.items() if v is not None}),
        "meta": dict(record.meta or {}),
    }


def get_scans(store: ScanStore, scan_ids: Sequence[str]) -> dict[str, ScanRecord]:
    """The stored scans among ``scan_ids`` (unknown ones are left out), normalised; one query
    per 500 ids."""
    if not scan_ids:
        return {}
    return {sid: normalise_scan(rec) for sid, rec in store.get_scans(list(scan_ids)).items()}


def read_events_after(store: ScanStore, cursor: int) -> tuple[list[StoredEvent], int]:
    """New events after ``cursor`` (across every scan) and the cursor to use next time."""
    events = store.events_after(cursor)
    return events, (events[-1].id if events else cursor)


def event_scan_id(event: StoredEvent) -> str:
    return event.scan_id


def get_export(store: ScanStore, export_id: str) -> dict[str, Any] | None:
    record = store.get_export(export_id)
    return record.to_dict() if record is not None else None


class Resender:
    """Ask Copyleaks to resend the webhook of scans silent for too long, at most once per period.

    The request time is written to the store (``mark_resend_requested``), so a trigger rebuilt
    after a triggerer restart does not resend again at once.
    """

    def __init__(self, store: Any, copyleaks_conn_id: str, after_seconds: float) -> None:
        self.store = store
        self.copyleaks_conn_id = copyleaks_conn_id
        self.after_seconds = after_seconds
        self.started = time.time()  # stand-in for scans the store does not know
        self._hook: Any = None

    def silent(self, pending: Sequence[str], scans: dict[str, dict[str, Any] | None], now: float) -> list[str]:
        out = []
        for sid in pending:
            record = scans.get(sid)
            last = (record or {}).get("last_activity") or self.started
            if now - last >= self.after_seconds:
                out.append(sid)
        return out

    async def resend_silent(
        self, pending: Sequence[str], scans: dict[str, dict[str, Any] | None], now: float
    ) -> list[str]:
        """From async code: resend what is silent; return the scans Copyleaks does not know."""
        import asyncio

        silent = self.silent(pending, scans, now)
        if not silent:
            return []
        if self._hook is None:
            self._hook = await async_hook(self.copyleaks_conn_id, self.store)
        return await asyncio.to_thread(self._resend, silent, scans, now)

    def resend_silent_sync(
        self, pending: Sequence[str], scans: dict[str, dict[str, Any] | None], now: float
    ) -> list[str]:
        silent = self.silent(pending, scans, now)
        if not silent:
            return []
        if self._hook is None:
            from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

            self._hook = CopyleaksHook(self.copyleaks_conn_id, store=self.store)
        return self._resend(silent, scans, now)

    def _resend(self, silent: Sequence[str], scans: dict[str, dict[str, Any] | None], now: float) -> list[str]:
        unknown = []
        for sid in silent:
            try:
                self._hook.resend_webhook(sid)
                log.info("Scan %s silent for %.0fs: asked Copyleaks to resend its webhook", sid, self.after_seconds)
            except CopyleaksNotFoundError:
                unknown.append(sid)
                continue
            except CopyleaksApiError as err:  # 400: still running, nothing to resend yet
                log.info("Resend webhook for %s not possible yet: %s", sid, err.message)
            except Exception as err:  # a network hiccup: try again next period
                log.warning("Resend webhook for %s failed: %s", sid, err)
            try:
                self.store.mark_resend_requested(sid)
            except Exception as err:  # an unregistered scan: remember in memory only
                log.debug("Could not record the resend of %s: %s", sid, err)
            record = scans.get(sid) or {"scan_id": sid, "status": None, "summary": {}}
            scans[sid] = {**record, "last_activity": now, "resend_requested_at": now}
        return unknown


async def async_hook(conn_id: str, store: Any) -> Any:
    """A hook whose connection was read on the async path (the sync one can block a triggerer)."""
    from airflow.providers.common.compat.connection import get_async_connection

    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

    conn = await get_async_connection(conn_id)
    return CopyleaksHook.from_connection(conn, store=store)
