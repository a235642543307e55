"""Run one synchronous check per item, concurrently, and record every item's outcome.

The work function gets one hook shared by all threads, so the process-wide rate limiter and the
cached token are shared too: the pool only overlaps network latency, the limiter keeps the whole
batch at the account's request rate, and the hook's backoff absorbs the occasional 429. One
item's failure (bad input, an API error that outlived the retries) becomes that item's outcome;
the batch goes on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksValidationError

log = logging.getLogger(__name__)

Status = Literal["ok", "already_checked", "error", "cancelled"]
T = TypeVar("T")

# Threads mostly wait on the network or the limiter; twice the rate keeps the limiter busy while
# slow responses are outstanding, and the cap bounds sockets and memory for very large batches.
WORKERS_PER_RPS = 2
MAX_WORKERS = 32
WORKERS_WITHOUT_LIMIT = 8


@dataclass
class ItemOutcome:
    """What happened to one item of a batch.

    ``status`` is ``ok`` (checked now), ``already_checked`` (the scan id was used before: the
    earlier result comes from the store and costs nothing now), ``error`` or ``cancelled``.
    ``summary`` is the check's small JSON summary; ``credits`` what this run paid for it.
    """

    key: str
    scan_id: str | None = None
    status: Status = "ok"
    summary: dict[str, Any] | None = None
    credits: float = 0.0
    error: str | None = None
    error_type: str | None = None
    retryable: bool = False
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("error", "cancelled")

    @classmethod
    def from_exception(cls, key: str, err: BaseException, *, scan_id: str | None = None) -> ItemOutcome:
        return cls(
            key=key,
            scan_id=scan_id,
            status="error",
            error=str(err),
            error_type=type(err).__name__,
            retryable=is_retryable(err),
        )


def is_retryable(err: BaseException) -> bool:
    """Whether a later attempt could succeed (rate limits, 5xx, network), as opposed to bad input."""
    if isinstance(err, CopyleaksValidationError):
        return False
    if isinstance(err, CopyleaksApiError):
        return bool(err.retryable)
    return bool(getattr(err, "retryable", isinstance(err, (ConnectionError, TimeoutError, OSError))))


def workers_for_rate(requests_per_second: float, items: int, override: int | None = None) -> int:
    """Pool size for ``items`` at the account's request rate (0 or less: no client-side limit)."""
    if items <= 0:
        return 1
    if override is not None:
        return max(1, min(int(override), items))
    if requests_per_second <= 0:
        return min(items, WORKERS_WITHOUT_LIMIT)
    return max(1, min(items, MAX_WORKERS, math.ceil(requests_per_second * WORKERS_PER_RPS)))


class BatchRunner(Generic[T]):
    """Calls ``work(item)`` for every item on a thread pool; never lets one item stop the others.

    :param work: checks one item and returns its outcome; may raise, which is recorded as that
        item's error (with ``key_of(item)`` as its key).
    :param key_of: the item's key, used when ``work`` raises.
    :param max_workers: pool size (see :func:`workers_for_rate`).
    """

    def __init__(
        self,
        work: Callable[[T], ItemOutcome],
        *,
        key_of: Callable[[T], str],
        max_workers: int,
        progress_every: int = 50,
    ) -> None:
        self.work = work
        self.key_of = key_of
        self.max_workers = max(1, max_workers)
        self.progress_every = progress_every
        self._cancelled = threading.Event()
        self._done = 0
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Stop starting new items (``on_kill``); items already in flight finish."""
        self._cancelled.set()

    def run(self, items: Sequence[T]) -> list[ItemOutcome]:
        """Every item's outcome, in the order of ``items``."""
        if not items:
            return []
        self._done = 0
        if self.max_workers == 1 or len(items) == 1:
            return [self._one(item, len(items)) for item in items]
        with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="copyleaks-check") as pool:
            futures = [pool.submit(self._one, item, len(items)) for item in items]
            return [f.result() for f in futures]

    def _one(self, item: T, total: int) -> ItemOutcome:
        key = self.key_of(item)
        if self._cancelled.is_set():
            return ItemOutcome(key=key, status="cancelled", error="the task was stopped before this item ran")
        started = time.monotonic()
        try:
            outcome = self.work(item)
        except Exception as err:  # one item's failure is its outcome, never the batch's
            outcome = ItemOutcome.from_exception(key, err, scan_id=getattr(err, "scan_id", None))
            log.warning("Item %r failed: %s", key, err)
        outcome.seconds = round(time.monotonic() - started, 3)
        with self._lock:
            self._done += 1
            done = self._done
        if self.progress_every and (done % self.progress_every == 0 or done == total) and total > 1:
            log.info("Checked %d of %d items", done, total)
        return outcome
