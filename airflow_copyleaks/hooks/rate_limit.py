"""A token-bucket limiter that keeps one process under the account's request rate."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """Allows ``rate`` acquisitions per second, spaced evenly (bursts of at most ``burst``).

    The default burst of one keeps every sliding one-second window at or under ``rate``, which
    is how a server counts; a larger burst would let two windows' worth through at once.

    Shared by every hook of one account in a process (see :meth:`for_account`) so that a batch
    running on a thread pool stays under the limit as a whole.
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
