"""The receiver's way to the store: worker threads of its own, and an outage remembered.

The receiver may live in Airflow's api-server, whose event loop also serves the UI and the task
heartbeats of the Execution API. So the store is opened and used only in worker threads, and from
a limiter of the receiver's own (not anyio's default pool, which the api-server's sync endpoints
share): a slow or unreachable store can hold at most ``threads`` threads. A store that could not be
opened, or lost its connection, is remembered for ``retry_after`` seconds: deliveries in that time
get an instant 503 with Retry-After (Copyleaks delivers again later) instead of each waiting for a
connect timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_THREADS = 8
DEFAULT_RETRY_AFTER = 5.0
RETRY_AFTER_HINT = 30  # seconds, in the 503's Retry-After: Copyleaks keeps its own schedule anyway
MAX_REFUSED = 10_000  # refused scan ids remembered until written: a flood of forged ones costs no more
REFUSED_WRITE_SECONDS = 1.0  # at most one write of them a second


class StoreUnavailable(Exception):
    """The store cannot be used now; answer 503 and let Copyleaks deliver again."""

    def __init__(self) -> None:
        super().__init__("the store does not answer; deliver again later")


class StoreGate:
    """Runs store work in the receiver's own threads; opens the store on first use.

    :param store: an open store, or None to open ``[copyleaks] store_url`` on first use (a mounted
        app gets no lifespan events, and importing the plugin must not touch the database).
    :param threads: how many deliveries may use the store at once.
    :param retry_after: seconds a failed open or a lost connection is remembered.
    :param opener: opens the configured store (tests pass their own).
    """

    def __init__(
        self,
        store: ScanStore | None = None,
        *,
        threads: int = DEFAULT_THREADS,
        retry_after: float = DEFAULT_RETRY_AFTER,
        opener: Callable[[], ScanStore] | None = None,
    ) -> None:
        self._store = store
        self._opener = opener or _configured_store
        self._threads = threads
        self._limiter: anyio.CapacityLimiter | None = None
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._failed_until = 0.0
        self._last_use_failed = False
        self._refused: set[str] = set()
        self._refused_lock = threading.Lock()
        self._refused_written = 0.0

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        # Created on first use, inside the event loop that serves the app.
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._threads)
        return self._limiter

    @property
    def store(self) -> ScanStore | None:
        """The store if it is open (never opens it)."""
        return self._store

    @property
    def healthy(self) -> bool:
        """Whether the store answered the last delivery that used it (or none has failed yet)."""
        return not self._last_use_failed and not self.unavailable_for()

    def unavailable_for(self) -> float:
        """Seconds until the store is tried again (0: it may be used now)."""
        return max(0.0, self._failed_until - time.monotonic())

    async def run(self, work: Callable[[ScanStore], T]) -> T:
        """``work(store)`` in one of the receiver's threads."""
        if self.unavailable_for():
            raise StoreUnavailable
        return await anyio.to_thread.run_sync(self._call, work, limiter=self.limiter)

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """CPU work for a delivery (parsing a body) in the same threads, off the event loop."""
        return await anyio.to_thread.run_sync(work, *args, limiter=self.limiter)

    def note_refused(self, scan_id: str) -> None:
        """A delivery for ``scan_id`` was refused (401, 503): its webhook may be lost, so the
        waits should ask Copyleaks to resend it. Remembered until written to the store."""
        with self._refused_lock:
            if len(self._refused) < MAX_REFUSED:
                self._refused.add(scan_id)

    async def write_refused(self) -> None:
        """Write the remembered refusals now (at most once a second); never raises."""
        if not self._refused or time.monotonic() - self._refused_written < REFUSED_WRITE_SECONDS:
            return
        self._refused_written = time.monotonic()
        try:
            await self.run(lambda store: None)  # _call writes them once the store answers
        except Exception as err:
            log.debug("Refused deliveries not written yet: %s", err)

    def _write_refused(self, store: ScanStore) -> None:
        with self._refused_lock:
            refused, self._refused = self._refused, set()
        if not refused:
            return
        try:
            store.note_delivery_failures(refused)
        except Exception as err:  # kept for the next use of the store
            log.debug("Could not record refused deliveries: %s", err)
            with self._refused_lock:
                self._refused.update(refused)

    def _call(self, work: Callable[[ScanStore], T]) -> T:
        if self.unavailable_for():  # failed while this delivery waited for a thread
            raise StoreUnavailable
        try:
            result = work(self._open())
        except (OperationalError, InterfaceError) as err:
            self._last_use_failed = True
            if isinstance(err, DBAPIError) and err.connection_invalidated:
                self._remember_failure(err)
            raise StoreUnavailable from err
        self._last_use_failed = False
        if self._refused:
            self._write_refused(self._open())
        return result

    def _open(self) -> ScanStore:
        with self._lock:
            if self._store is None:
                if self.unavailable_for():
                    raise StoreUnavailable
                try:
                    self._store = self._opener()
                except Exception as err:
                    self._last_use_failed = True
                    self._remember_failure(err)
                    raise StoreUnavailable from err
            return self._store

    def _remember_failure(self, err: BaseException) -> None:
        self._failed_until = time.monotonic() + self.retry_after
        log.warning(
            "Copyleaks receiver: the store does not answer (%s); deliveries get 503 for %.0f s",
            type(err).__name__,
            self.retry_after,
        )


def _configured_store() -> ScanStore:
    from airflow_copyleaks.store import get_store

    return get_store()
