"""Request-rate limits: one process (token bucket) or every process sharing the store (schedule)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.backends import SlotBackend

log = logging.getLogger(__name__)


class RateLimiter:
    """Allows ``rate`` acquisitions per second, spaced evenly (bursts of at most ``burst``).

    The default burst of one keeps every sliding one-second window at or under ``rate``, which
    is how a server counts; a larger burst would let two windows' worth through at once.

    Shared by every hook of one account in a process (see :meth:`for_account`) so that a batch
    running on a thread pool stays under the limit as a whole.

    :param rate: acquisitions per second.
    :param burst: acquisitions allowed at once (default one).
    """

    _by_account: dict[tuple[str, float], RateLimiter] = {}
    _registry_lock = threading.Lock()

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else 1.0
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def for_account(cls, account: str, rate: float) -> RateLimiter:
        with cls._registry_lock:
            limiter = cls._by_account.get((account, rate))
            if limiter is None:
                limiter = cls._by_account[(account, rate)] = cls(rate)
            return limiter

    def acquire(self) -> float:
        """Block until a request may go; returns the seconds waited."""
        if self.rate <= 0:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                delay = (1 - self._tokens) / self.rate
            time.sleep(delay)
            waited += delay


class SharedRateLimiter:
    """Keeps every process of one account under ``rate`` together, through the ScanStore.

    Each request reserves the next free slot on the account's schedule (one small write) and
    sleeps until it: mapped tasks on four workers then send 10 requests/s in all, not 40, and
    meet no 429s. If the store cannot be reached the process falls back to its own token bucket,
    so a store outage slows nothing down that would otherwise work.

    :param store: where the schedule is kept (a ScanStore).
    :param account: the account the limit belongs to (hashed into the schedule's name).
    :param rate: requests per second for all processes together.
    """

    def __init__(self, store: SlotBackend, account: str, rate: float) -> None:
        self.store = store
        self.rate = rate
        self.schedule = "rate:" + hashlib.sha256(account.encode()).hexdigest()[:40]
        self._fallback = RateLimiter.for_account(account, rate)
        self._warned = False

    def acquire(self) -> float:
        """Block until this request's slot; returns the seconds waited."""
        if self.rate <= 0:
            return 0.0
        try:
            slot = self.store.reserve_request_slot(self.schedule, 1.0 / self.rate)
        except Exception as err:  # the store is down: limit this process alone rather than fail
            if not self._warned:
                log.warning("Shared rate limit unavailable (%s); limiting this process only", type(err).__name__)
                self._warned = True
            return self._fallback.acquire()
        delay = max(0.0, slot - time.time())
        if delay:
            time.sleep(delay)
        return delay


class WindowLimiter:
    """At most ``limit`` acquisitions in any ``window_seconds``, for every process of the account.

    Copyleaks counts exports in a sliding minute: the first ``limit`` go at once and each later
    one waits until the oldest of the last ``limit`` leaves the window. The window is kept a
    little longer than the server's, so that network jitter never puts one too many into it.

    :param store: where the window's slots are kept (a ScanStore).
    :param account: the account the limit belongs to (hashed into the window's name).
    :param limit: acquisitions allowed in one window.
    :param window_seconds: the window's length, as the server counts it.
    :param what: what is limited (names the window: ``export``, ``resends``, ...).
    """

    def __init__(
        self, store: SlotBackend, account: str, limit: int, window_seconds: float, *, what: str = "export"
    ) -> None:
        self.store = store
        self.what = what
        self.limit = limit
        self.window_seconds = window_seconds * 1.05
        self.schedule = "window:" + hashlib.sha256(account.encode()).hexdigest()[:40]
        self._warned = False

    def acquire(self) -> float:
        """Block until this call's slot; returns the seconds waited."""
        if self.limit <= 0:
            return 0.0
        delay = max(0.0, self.reserve() - time.time())
        if delay:
            time.sleep(delay)
        return delay

    def reserve(self) -> float:
        """Take the next slot without waiting for it; returns when it comes (epoch seconds)."""
        try:
            return self.store.reserve_window_slot(self.schedule, self.limit, self.window_seconds)
        except Exception as err:  # the store is down: keep the limit in this process rather than fail
            if not self._warned:
                log.warning(
                    "Shared %s limit unavailable (%s); limiting this process only", self.what, type(err).__name__
                )
                self._warned = True
            from airflow_copyleaks.hooks.backends import MEMORY

            return MEMORY.reserve_window_slot(self.schedule, self.limit, self.window_seconds)
