"""Deferrable waits on Copyleaks scans and exports, read from the ScanStore.

Copyleaks reports only by webhook; the receiver writes each delivery to the store, and these
triggers read the store. Their arguments are plain JSON (Airflow serialises them with
``airflow.sdk.serde``) and they keep nothing in memory that a triggerer restart would lose: what
arrived, and when a resend was last asked for, is in the store.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from airflow.triggers.base import BaseTrigger, TriggerEvent
from sqlalchemy.exc import InterfaceError, OperationalError

from airflow_copyleaks import config
from airflow_copyleaks.masking import mask_url_password
from airflow_copyleaks.topology import display_url, unregistered_message
from airflow_copyleaks.triggers.resends import ResendService, resend_service_for
from airflow_copyleaks.triggers.watcher import Subscription, watcher_for
from airflow_copyleaks.waits import records
from airflow_copyleaks.waits.domain import (
    ScanRecord,
    accepted_statuses,
    build_event,
    export_event,
    normalise_statuses,
    scan_outcome,
)

T = TypeVar("T")
# What a store that is restarting or unreachable raises; anything else is a bug and surfaces.
STORE_UNREACHABLE = (OperationalError, InterfaceError)


async def until_the_store_answers(
    action: Callable[[], Awaitable[T]], *, deadline: float | None, first_delay: float, log: Any
) -> T | None:
    """Run ``action``, trying again with backoff while the store is unreachable; None past ``deadline``.

    A trigger that starts while PostgreSQL restarts (a triggerer restart, a task deferring) then
    waits for the store instead of failing its task.
    """
    delay = max(0.1, first_delay)
    while True:
        try:
            return await action()
        except STORE_UNREACHABLE as err:
            now = time.time()
            if deadline is not None and now >= deadline:
                return None
            log.warning("Copyleaks store unreachable (%s); trying again in %.1fs", type(err).__name__, delay)
            await asyncio.sleep(delay if deadline is None else min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, 30.0)


class CopyleaksScanTrigger(BaseTrigger):
    """Wait until every scan reached a wanted status (``error`` ends a scan's wait too).

    :param scan_ids: The scans to wait for.
    :param wanted: ``completed``, ``creditsChecked`` or ``indexed`` (or a list of them).
    :param deadline: Wall-clock end of the wait (epoch seconds); past it the trigger yields a
        ``timeout`` event, which the task handles (a framework deferral timeout would skip it).
    :param copyleaks_conn_id: Connection used to ask Copyleaks to resend a missing webhook.
    :param store_url: The ScanStore to read (default: the configured one).
    :param poll_interval: Seconds between reads of new events (default: ``[copyleaks]
        poll_interval_seconds``).
    :param resend_after_seconds: The scans' expected duration: one silent this long gets a
        "resend webhook" request from the triggerer's resend service, later ones back off
        (default: ``[copyleaks] resend_after_seconds``; 0 disables).
    """

    def __init__(
        self,
        scan_ids: Sequence[str],
        wanted: str | Sequence[str] = "completed",
        *,
        deadline: float | None = None,
        copyleaks_conn_id: str = "copyleaks_default",
        store_url: str | None = None,
        poll_interval: float | None = None,
        resend_after_seconds: float | None = None,
    ) -> None:
        super().__init__()
        if not scan_ids:
            raise ValueError("scan_ids is empty: nothing to wait for")
        self.scan_ids = list(dict.fromkeys(str(s) for s in scan_ids))
        self.wanted = normalise_statuses(wanted)
        self.deadline = float(deadline) if deadline is not None else None
        self.copyleaks_conn_id = copyleaks_conn_id
        self.store_url = store_url
        mask_url_password(store_url)  # trigger arguments are printed with the trigger
        self.poll_interval = float(poll_interval) if poll_interval is not None else None
        self.resend_after_seconds = float(resend_after_seconds) if resend_after_seconds is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "scan_ids": list(self.scan_ids),
                "wanted": list(self.wanted),
                "deadline": self.deadline,
                "copyleaks_conn_id": self.copyleaks_conn_id,
                "store_url": self.store_url,
                "poll_interval": self.poll_interval,
                "resend_after_seconds": self.resend_after_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        store_url = self.store_url or config.store_url()
        poll = self.poll_interval if self.poll_interval is not None else config.get_float("poll_interval_seconds")
        resend_after = (
            self.resend_after_seconds
            if self.resend_after_seconds is not None
            else config.get_float("resend_after_seconds")
        )
        accepted = accepted_statuses(self.wanted)
        scans: dict[str, Any] = dict.fromkeys(self.scan_ids)
        started = await until_the_store_answers(
            lambda: self._subscribe_and_read(store_url, poll), deadline=self.deadline, first_delay=poll, log=self.log
        )
        if started is None:
            message = "the Copyleaks store was unreachable until the deadline"
            yield TriggerEvent(build_event(self.scan_ids, self.wanted, scans, status="timeout", message=message))
            return
        store, subscription, current = started
        scans.update(current)
        missing = [sid for sid in self.scan_ids if sid not in current]
        if missing:  # written to another store: its webhooks will never reach this one
            subscription.close()
            yield self._failed(unregistered_message(store_url, missing, store.store_id()), scans)
            return
        resends = self._resend_service(store_url, store, resend_after)

        def wake() -> None:  # the resend service learned something (a 404) about our scans
            subscription.queue.put_nowait({})

        try:
            while True:
                pending = [sid for sid in self.scan_ids if scan_outcome(scans[sid], accepted) == "pending"]
                if not pending:
                    yield self._succeeded(scans, resends, wake)
                    return
                now = time.time()
                if self.deadline is not None and now >= self.deadline:
                    yield self._timed_out(pending, scans)
                    return
                if resends is not None:
                    for sid in pending:
                        scan = scans[sid]
                        resends.watch(sid, scan["last_activity"], resend_after, wake, scan.get("resend_attempts", 0))
                    unknown = resends.unknown_among(pending)
                    if unknown:
                        yield self._failed(
                            f"Copyleaks does not know scan(s) {unknown[:5]} (404 on resend webhook)", scans
                        )
                        return
                # The watcher wakes us when one of our scans changes, the resend service when
                # Copyleaks does not know one; on our own we only look at the deadline, so
                # thousands of idle triggers cost next to nothing.
                wait = 60.0 if self.deadline is None else min(60.0, max(0.0, self.deadline - now))
                changed = await subscription.changes(wait)
                scans.update(changed)
        finally:
            subscription.close()
            if resends is not None:
                resends.forget(self.scan_ids, wake)

    def _succeeded(self, scans: dict[str, Any], resends: ResendService | None, wake: Any) -> TriggerEvent:
        if resends is not None:  # before the event: the triggerer may close us any time after it
            resends.forget(self.scan_ids, wake, finished=self.scan_ids)
        return TriggerEvent(build_event(self.scan_ids, self.wanted, scans))

    def _failed(self, message: str, scans: dict[str, Any]) -> TriggerEvent:
        self.log.error(message)
        return TriggerEvent(build_event(self.scan_ids, self.wanted, scans, status="error", message=message))

    def _timed_out(self, pending: Sequence[str], scans: dict[str, Any]) -> TriggerEvent:
        message = f"timed out waiting for {len(pending)} scan(s) to reach {'/'.join(self.wanted)}"
        self.log.warning("%s: %s", message, list(pending[:10]))
        return TriggerEvent(build_event(self.scan_ids, self.wanted, scans, status="timeout", message=message))

    def _resend_service(self, store_url: str, store: Any, resend_after: float) -> ResendService | None:
        if resend_after <= 0:
            return None
        budget = config.resend_budget_per_minute()
        return resend_service_for(store_url, store, self.copyleaks_conn_id, budget)

    async def _subscribe_and_read(self, store_url: str, poll: float) -> tuple[Any, Subscription, dict[str, ScanRecord]]:
        # One thread hop for both: thousands of triggers start at once on a few default threads.
        store, store_id = await asyncio.to_thread(_open_and_identify, store_url)
        self.log.info("Reading Copyleaks store %s (store id %s)", display_url(store_url), store_id)
        # Subscribed first, read second: nothing written in between can be missed.
        subscription = await watcher_for(store_url, store, poll).subscribe(self.scan_ids, poll)
        try:
            return store, subscription, await asyncio.to_thread(records.get_scans, store, self.scan_ids)
        except BaseException:
            subscription.close()
            raise


def _open_and_identify(store_url: str) -> tuple[Any, str]:
    store = records.open_store(store_url)
    return store, store.store_id()


class CopyleaksExportTrigger(BaseTrigger):
    """Wait for an export's completion webhook (the receiver records it with the export).

    Exports are few and short, so this polls the export's own row rather than the event feed.

    :param export_id: The export to wait for.
    :param scan_id: The exported scan (carried into the event for the task).
    :param deadline: Wall-clock end of the wait (epoch seconds); past it the trigger yields a
        ``timeout`` event.
    :param store_url: The ScanStore to read (default: the configured one).
    :param poll_interval: Seconds between reads of the export's row (default: ``[copyleaks]
        poll_interval_seconds``).
    """

    def __init__(
        self,
        export_id: str,
        *,
        scan_id: str | None = None,
        deadline: float | None = None,
        store_url: str | None = None,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.export_id = export_id
        self.scan_id = scan_id
        self.deadline = float(deadline) if deadline is not None else None
        self.store_url = store_url
        mask_url_password(store_url)  # trigger arguments are printed with the trigger
        self.poll_interval = float(poll_interval) if poll_interval is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "export_id": self.export_id,
                "scan_id": self.scan_id,
                "deadline": self.deadline,
                "store_url": self.store_url,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        store_url = self.store_url or config.store_url()
        poll = self.poll_interval if self.poll_interval is not None else config.get_float("poll_interval_seconds")
        store = await until_the_store_answers(
            lambda: asyncio.to_thread(records.open_store, store_url),
            deadline=self.deadline,
            first_delay=poll,
            log=self.log,
        )
        while True:
            export = None  # with no store until the deadline, the timeout below says so
            if store is not None:
                export = await until_the_store_answers(
                    functools.partial(asyncio.to_thread, records.get_export, store, self.export_id),
                    deadline=self.deadline,
                    first_delay=poll,
                    log=self.log,
                )
            if export is not None and export["status"] != "pending":
                yield TriggerEvent(export_event(self.export_id, self.scan_id, export))
                return
            now = time.time()
            if self.deadline is not None and now >= self.deadline:
                yield TriggerEvent(export_event(self.export_id, self.scan_id, export, timed_out=True))
                return
            await asyncio.sleep(min(poll, self.deadline - now) if self.deadline is not None else poll)
