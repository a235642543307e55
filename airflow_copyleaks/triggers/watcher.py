"""One store watcher per store URL per event loop: the triggerer's single reader of new events.

A triggerer process may hold thousands of waiting scans. If each trigger polled the store for its
own scans, the store would see one query per scan per poll interval. Instead every trigger
subscribes its scan ids here; one asyncio task reads ``events_after(cursor)`` once per interval
for all of them, fetches the changed scans in bulk, and hands each record to the triggers that
wait on it. The watcher holds no state that matters: its cursor starts at the store's latest
event, and a new subscriber reads its scans itself after subscribing, so nothing written before
or after the subscription is missed.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from typing import Any

from airflow_copyleaks.waits import records

log = logging.getLogger(__name__)


class Subscription:
    """What one trigger receives: changed scan records, queued until it reads them.

    :param watcher: The store watcher this subscription belongs to.
    :param scan_ids: The scans the trigger waits for.
    """

    def __init__(self, watcher: StoreWatcher, scan_ids: Iterable[str]) -> None:
        self.watcher = watcher
        self.scan_ids = frozenset(scan_ids)
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def changes(self, timeout: float) -> dict[str, Any]:
        """Records of scans that changed, waiting up to ``timeout`` seconds (may be empty)."""
        changed: dict[str, Any] = {}
        try:
            changed.update(await asyncio.wait_for(self.queue.get(), timeout=max(0.0, timeout)))
        except asyncio.TimeoutError:
            return changed
        while not self.queue.empty():  # coalesce what piled up meanwhile
            changed.update(self.queue.get_nowait())
        return changed

    def close(self) -> None:
        self.watcher.unsubscribe(self)


class StoreWatcher:
    """Polls one store for new events and wakes the subscribed triggers.

    :param store: The ScanStore to read.
    :param poll_interval: Seconds between reads; the fastest subscriber lowers it.
    """

    def __init__(self, store: Any, poll_interval: float) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.by_scan: dict[str, set[Subscription]] = {}
        self.polls = 0
        self._task: asyncio.Task[None] | None = None
        self._cursor: Any = None
        self._cursor_lock = asyncio.Lock()

    async def subscribe(self, scan_ids: Iterable[str], poll_interval: float) -> Subscription:
        """Register ``scan_ids``; the caller reads their current state only after this returns."""
        if self._cursor is None:
            # Fix the cursor before the subscriber's own read, so an event landing in between is
            # seen by one of the two reads (or both: records are idempotent).
            async with self._cursor_lock:
                if self._cursor is None:
                    self._cursor = await asyncio.to_thread(self.store.latest_event_id)
        sub = Subscription(self, scan_ids)
        for scan_id in sub.scan_ids:
            self.by_scan.setdefault(scan_id, set()).add(sub)
        # The fastest subscriber sets the pace: one query per interval whatever the number of scans.
        self.poll_interval = min(self.poll_interval, poll_interval)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="copyleaks-store-watcher")
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        for scan_id in sub.scan_ids:
            subs = self.by_scan.get(scan_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.by_scan[scan_id]

    async def _run(self) -> None:
        idle_polls = 0
        failing = 0
        while True:
            await asyncio.sleep(self.poll_interval)
            if not self.by_scan:
                idle_polls += 1
                if idle_polls >= 2:  # nobody waits any more: stop (a new subscriber restarts us)
                    return
                continue
            idle_polls = 0
            try:
                await self._poll_once()
            except Exception as err:  # a store hiccup must not end every wait in the process
                failing += 1
                if failing == 1:  # the whole story once, then one line a minute or so
                    log.exception("Copyleaks store watcher: reading new events failed; retrying every interval")
                elif failing * self.poll_interval % 60 < self.poll_interval:
                    log.warning("Copyleaks store watcher: store still unreachable (%s)", type(err).__name__)
                continue
            if failing:
                log.info("Copyleaks store watcher: the store answers again after %d failed poll(s)", failing)
                failing = 0

    async def _poll_once(self) -> None:
        self.polls += 1
        events, cursor = await asyncio.to_thread(records.read_events_after, self.store, self._cursor)
        changed = {sid for sid in (records.event_scan_id(e) for e in events) if sid in self.by_scan}
        if not changed:
            self._cursor = cursor
            return
        scans = await asyncio.to_thread(records.get_scans, self.store, sorted(changed))
        # Past these events only once their scans were read: a failed read is tried again next poll.
        self._cursor = cursor
        woken: dict[Subscription, dict[str, Any]] = {}
        for scan_id in changed:
            record = scans.get(scan_id)
            if record is None:
                continue
            for sub in self.by_scan.get(scan_id, ()):
                woken.setdefault(sub, {})[scan_id] = record
        for sub, recs in woken.items():
            sub.queue.put_nowait(recs)


# One watcher per store URL per event loop (a loop cannot await another loop's tasks).
_WATCHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, StoreWatcher]] = weakref.WeakKeyDictionary()


def watcher_for(store_url: str, store: Any, poll_interval: float) -> StoreWatcher:
    per_loop = _WATCHERS.setdefault(asyncio.get_running_loop(), {})
    watcher = per_loop.get(store_url)
    if watcher is None:
        watcher = per_loop[store_url] = StoreWatcher(store, poll_interval)
    return watcher
