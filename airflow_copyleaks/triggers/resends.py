"""One resend service per event loop: asks Copyleaks to resend the webhooks of silent scans, cheaply.

A triggerer holds thousands of waiting scans, and real scans take minutes to an hour. If each
trigger resent its own silent scans on a fixed period, every scan longer than the period would be
resent (Copyleaks answers "still running"), the calls would fill the loop's default thread pool
that store reads also use, and every trigger would hold its own HTTP session. Here one service per
(event loop, store, connection) does it for all of them, by the policy every wait shares
(:mod:`airflow_copyleaks.waits.resend_policy`: expected duration, backoff, early after a failed
delivery, the account's budget shared through the store). Requests go through one hook (one
aiohttp session per loop); the store work (budget slots, failed deliveries, remembering resends)
runs on the service's own two threads, never queued behind HTTP or in front of store reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksNotFoundError
from airflow_copyleaks.waits import records
from airflow_copyleaks.waits.resend_policy import (
    FAILURES_EVERY_SECONDS,
    ResendBudget,
    ResendPolicy,
    Silent,
    read_failures,
)

log = logging.getLogger(__name__)

CONCURRENT_REQUESTS = 4


class ResendService:
    """See the module docstring. Triggers call :meth:`watch` for their pending scans each time they
    look at them, :meth:`unknown_among` to learn of scans Copyleaks does not know, and
    :meth:`forget` when they stop waiting.

    :param store: The ScanStore the waits read (resend requests are remembered there).
    :param copyleaks_conn_id: Connection the resend requests go through.
    :param budget_per_minute: Most resend requests a minute for the connection's account, shared
        with every process of the account through the store.
    """

    def __init__(self, store: Any, copyleaks_conn_id: str, budget_per_minute: float) -> None:
        self.store = store
        self.copyleaks_conn_id = copyleaks_conn_id
        self.budget_per_minute = budget_per_minute
        self.policy = ResendPolicy()
        self.unknown: set[str] = set()
        self.requests = 0
        self._hook: Any = None
        self._budget: ResendBudget | None = None
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="copyleaks-resend")
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._requests: set[asyncio.Task[None]] = set()

    @property
    def scans(self) -> dict[str, Silent]:
        return self.policy.scans

    def watch(
        self, scan_id: str, last_activity: float, after: float, wake: Callable[[], None], attempts: int = 0
    ) -> None:
        """Resend ``scan_id`` once silent ``after`` seconds since ``last_activity`` (epoch), backing
        off from the ``attempts`` resends the store counts."""
        new = scan_id not in self.policy.scans
        self.policy.watch(scan_id, last_activity, after, attempts).waiters.add(wake)
        if new:
            self._changed.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="copyleaks-resends")

    def forget(self, scan_ids: Iterable[str], wake: Callable[[], None], *, finished: Iterable[str] = ()) -> None:
        """Stop resending ``scan_ids`` for ``wake``; those in ``finished`` reached their end unaided,
        and how long they took teaches the service what a normal scan takes."""
        now, ended = time.time(), set(finished)
        for scan_id in scan_ids:
            entry = self.policy.scans.get(scan_id)
            if entry is None:
                continue
            if scan_id in ended:
                self.policy.finished(scan_id, now)
                self._changed.set()  # the expected duration may have shortened: look again
            entry.waiters.discard(wake)
            if not entry.waiters:
                del self.policy.scans[scan_id]

    def unknown_among(self, scan_ids: Iterable[str]) -> list[str]:
        return [sid for sid in scan_ids if sid in self.unknown]

    def learned_duration(self) -> float | None:
        return self.policy.learned_duration()

    async def close(self) -> None:
        """Stop the service's loop and requests (the event loop is closing)."""
        for task in [self._task, *self._requests]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._executor.shutdown(wait=False)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(CONCURRENT_REQUESTS)
        failures_read = 0.0
        while self.policy.scans:
            if time.monotonic() - failures_read >= FAILURES_EVERY_SECONDS:
                failures_read = time.monotonic()
                watched = list(self.policy.scans)
                self.policy.delivery_failed(
                    await loop.run_in_executor(self._executor, read_failures, self.store, watched)
                )
            if self.policy.due(time.time()):
                # One request at a time takes the account's next slot; past the budget it waits for it.
                slot = await self._reserve()
                await asyncio.sleep(max(0.0, slot - time.time()))
                due = self.policy.due(time.time())  # a webhook may have come meanwhile
                if due:
                    self.policy.scans[due[0]].in_flight = True
                    task = loop.create_task(self._resend(due[0], gate))
                    self._requests.add(task)
                    task.add_done_callback(self._requests.discard)
                continue
            self._changed.clear()
            wait = self.policy.nearest(default=time.time() + 60.0) - time.time()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(max(wait, 0.01), FAILURES_EVERY_SECONDS))

    async def _ensure_hook(self) -> Any:
        if self._hook is None:
            self._hook = await records.async_hook(self.copyleaks_conn_id, self.store)
            self._budget = ResendBudget(self._hook, self.budget_per_minute)
        return self._hook

    async def _reserve(self) -> float:
        await self._ensure_hook()
        assert self._budget is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._budget.reserve)

    async def _resend(self, scan_id: str, gate: asyncio.Semaphore) -> None:
        entry = self.policy.scans.get(scan_id)
        if entry is None:
            return
        async with gate:
            hook = await self._ensure_hook()
            self.requests += 1
            try:
                await hook.aresend_webhook(scan_id)
                log.info("Scan %s silent for %.0fs: asked Copyleaks to resend its webhook", scan_id, entry.after)
            except CopyleaksNotFoundError:
                self.unknown.add(scan_id)
                for wake in list(entry.waiters):
                    wake()
            except CopyleaksApiError as err:  # 400: still running, nothing to resend yet
                log.info("Resend webhook for %s not possible yet: %s", scan_id, err.message)
            except Exception as err:  # a network hiccup: the backoff paces the next try
                log.warning("Resend webhook for %s failed: %s", scan_id, err)
        self.policy.resent(scan_id, time.time())
        self._changed.set()
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self.store.mark_resend_requested, scan_id)
        except Exception as err:  # the store hiccuped: only a restart would resend early
            log.debug("Could not record the resend of %s: %s", scan_id, err)


# One service per event loop, store and connection (a loop cannot await another loop's tasks).
_SERVICES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], ResendService]] = (
    weakref.WeakKeyDictionary()
)


def resend_service_for(store_url: str, store: Any, copyleaks_conn_id: str, budget_per_minute: float) -> ResendService:
    per_loop = _SERVICES.setdefault(asyncio.get_running_loop(), {})
    key = (store_url, copyleaks_conn_id)
    service = per_loop.get(key)
    if service is None:
        service = per_loop[key] = ResendService(store, copyleaks_conn_id, budget_per_minute)
    return service
