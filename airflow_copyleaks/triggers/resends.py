"""One resend service per event loop: asks Copyleaks to resend the webhooks of silent scans, cheaply.

A triggerer holds thousands of waiting scans, and real scans take minutes to an hour. If each
trigger resent its own silent scans on a fixed period, every scan longer than the period would be
resent (Copyleaks answers "still running"), the calls would fill the loop's default thread pool
that store reads also use, and every trigger would hold its own HTTP session. Here one service per
(event loop, store, connection) does it for all of them:

- a scan is resent only once it has been silent longer than its expected duration
  (``resend_after_seconds``), counted from its last activity in the store, so a triggerer restart
  never resends at once; once enough scans of this loop finished, the expected duration is also
  twice their 90th percentile, so a scan far slower than its siblings (its webhook most likely
  lost) is resent without waiting out a generous setting;
- after each resend, the next one for that scan waits twice as long as the last (capped);
- the account gets a budget of resend requests per minute; past it, due scans wait their turn;
- requests go through one hook (one aiohttp session per loop); the store writes that remember
  them run on the service's own two threads, never queued behind HTTP or in front of store reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksNotFoundError
from airflow_copyleaks.waits import records

log = logging.getLogger(__name__)

MAX_INTERVAL_SECONDS = 6 * 3600.0  # backoff cap: a wait's deadline comes before more resends matter
CONCURRENT_REQUESTS = 4
LEARN_AFTER = 5  # finished scans needed before their durations count
MIN_LEARNED_SECONDS = 1.0


@dataclass
class _Silent:
    """A watched scan: when its next resend is due and how many were asked for."""

    due: float
    after: float
    seen: float  # its last activity when first watched: its registration, for a new scan
    attempts: int = 0
    waiters: set[Callable[[], None]] = field(default_factory=set)


class Budget:
    """A token bucket: ``per_minute`` requests a minute, in bursts of at most that many.

    :param per_minute: Requests allowed a minute (at least 1).
    :param clock: Monotonic seconds (tests pass their own).
    """

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = max(1.0, per_minute)
        self._clock = clock
        self._tokens = self.per_minute
        self._at = clock()

    def take(self, wanted: int) -> int:
        now = self._clock()
        self._tokens = min(self.per_minute, self._tokens + (now - self._at) * self.per_minute / 60.0)
        self._at = now
        granted = min(wanted, int(self._tokens))
        self._tokens -= granted
        return granted


class ResendService:
    """See the module docstring. Triggers call :meth:`watch` for their pending scans each time they
    look at them, :meth:`unknown_among` to learn of scans Copyleaks does not know, and
    :meth:`forget` when they stop waiting.

    :param store: The ScanStore the waits read (resend requests are remembered there).
    :param copyleaks_conn_id: Connection the resend requests go through.
    :param budget_per_minute: Most resend requests a minute for this connection.
    """

    def __init__(self, store: Any, copyleaks_conn_id: str, budget_per_minute: float) -> None:
        self.store = store
        self.copyleaks_conn_id = copyleaks_conn_id
        self.budget = Budget(budget_per_minute)
        self.scans: dict[str, _Silent] = {}
        self.unknown: set[str] = set()
        self.durations: deque[float] = deque(maxlen=500)
        self.requests = 0
        self._hook: Any = None
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="copyleaks-resend")
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def watch(self, scan_id: str, last_activity: float, after: float, wake: Callable[[], None]) -> None:
        """Resend ``scan_id`` once silent ``after`` seconds since ``last_activity`` (epoch)."""
        due = last_activity + after
        entry = self.scans.get(scan_id)
        if entry is None:
            entry = self.scans[scan_id] = _Silent(due=due, after=after, seen=last_activity)
            self._changed.set()
        elif due > entry.due:  # news of the scan: silence counts again from it
            entry.due = due
        entry.waiters.add(wake)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="copyleaks-resends")

    def forget(self, scan_ids: Iterable[str], wake: Callable[[], None], *, finished: Iterable[str] = ()) -> None:
        """Stop resending ``scan_ids`` for ``wake``; those in ``finished`` reached their end unaided,
        and how long they took teaches the service what a normal scan takes."""
        now, ended = time.time(), set(finished)
        for scan_id in scan_ids:
            entry = self.scans.get(scan_id)
            if entry is not None and scan_id in ended and entry.attempts == 0:
                self.durations.append(now - entry.seen)
                self._changed.set()  # the expected duration may have shortened: look again
            if entry is not None:
                entry.waiters.discard(wake)
                if not entry.waiters:
                    del self.scans[scan_id]

    def unknown_among(self, scan_ids: Iterable[str]) -> list[str]:
        return [sid for sid in scan_ids if sid in self.unknown]

    async def _run(self) -> None:
        while self.scans:
            now = time.time()
            learned = self.learned_duration()
            due = sorted((self._due(e, learned), sid) for sid, e in self.scans.items() if self._due(e, learned) <= now)
            granted = self.budget.take(len(due))
            if granted:
                gate = asyncio.Semaphore(CONCURRENT_REQUESTS)
                await asyncio.gather(*(self._resend(sid, gate) for _due, sid in due[:granted]))
            self._changed.clear()
            nearest = min((self._due(e, learned) for e in self.scans.values()), default=now + 60.0)
            # Over budget: look again once a request's worth has refilled.
            wait = 60.0 / self.budget.per_minute if len(due) > granted else max(0.0, nearest - time.time())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(max(wait, 0.01), 60.0))

    def learned_duration(self) -> float | None:
        """Twice the 90th percentile of the durations seen here, once there are enough of them."""
        if len(self.durations) < LEARN_AFTER:
            return None
        ordered = sorted(self.durations)
        return max(MIN_LEARNED_SECONDS, 2 * ordered[int(0.9 * (len(ordered) - 1))])

    @staticmethod
    def _due(entry: _Silent, learned: float | None) -> float:
        if learned is None or entry.attempts:
            return entry.due
        return min(entry.due, entry.seen + learned)

    async def _resend(self, scan_id: str, gate: asyncio.Semaphore) -> None:
        entry = self.scans.get(scan_id)
        if entry is None:
            return
        async with gate:
            if self._hook is None:
                self._hook = await records.async_hook(self.copyleaks_conn_id, self.store)
            self.requests += 1
            try:
                await self._hook.aresend_webhook(scan_id)
                log.info("Scan %s silent for %.0fs: asked Copyleaks to resend its webhook", scan_id, entry.after)
            except CopyleaksNotFoundError:
                self.unknown.add(scan_id)
                for wake in list(entry.waiters):
                    wake()
                return
            except CopyleaksApiError as err:  # 400: still running, nothing to resend yet
                log.info("Resend webhook for %s not possible yet: %s", scan_id, err.message)
            except Exception as err:  # a network hiccup: the backoff below paces the next try
                log.warning("Resend webhook for %s failed: %s", scan_id, err)
        entry.attempts += 1
        entry.due = time.time() + min(entry.after * 2**entry.attempts, MAX_INTERVAL_SECONDS)
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
