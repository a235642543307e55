"""Where the hook keeps what every process of an account shares: the token, leases, rate slots.

Two implementations satisfy these interfaces: the ScanStore (shared by every process and machine
that opens it) and :class:`MemoryBackend` (this process only). The memory one lets a hook work
with no database at all, e.g. ``CopyleaksHook().get_credits()`` in a script, at the price of one
login and one rate limit per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

from airflow_copyleaks import config
from airflow_copyleaks.exceptions import CopyleaksError


@runtime_checkable
class TokenBackend(Protocol):
    """The encrypted token of each account, and leases that make one process log in for all."""

    def get_token(self, account_id: str) -> tuple[bytes, datetime] | None: ...

    def put_token(self, account_id: str, ciphertext: bytes, expires_at: datetime) -> None: ...

    def delete_token(self, account_id: str, *, only_if: bytes | None = None) -> None: ...

    def try_acquire_lease(self, name: str, holder: str, ttl_seconds: float) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def record_login_block(self, account_id: str, status: int, cause: str, lifts_at: datetime) -> None: ...

    def get_login_block(self, account_id: str) -> tuple[int, str, datetime] | None: ...

    def clear_login_block(self, account_id: str) -> None: ...

    def db_now(self) -> datetime:
        """Now on the clock every sharer of this backend compares times with."""
        ...


@runtime_checkable
class SlotBackend(Protocol):
    """Schedules whose slots are handed out ``interval_seconds`` apart, whoever asks."""

    def reserve_request_slot(self, name: str, interval_seconds: float) -> float: ...

    def reserve_window_slot(self, name: str, limit: int, window_seconds: float) -> float: ...


class RequestLimiter(Protocol):
    """Blocks until one more request may go; returns the seconds waited."""

    def acquire(self) -> float: ...


class MemoryBackend:
    """:class:`TokenBackend` and :class:`SlotBackend` in this process's memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[bytes, datetime]] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        self._slots: dict[str, float] = {}
        self._blocks: dict[str, tuple[int, str, datetime]] = {}
        self._windows: dict[str, deque[float]] = {}

    def get_token(self, account_id: str) -> tuple[bytes, datetime] | None:
        with self._lock:
            return self._tokens.get(account_id)

    def put_token(self, account_id: str, ciphertext: bytes, expires_at: datetime) -> None:
        with self._lock:
            self._tokens[account_id] = (ciphertext, expires_at)

    def delete_token(self, account_id: str, *, only_if: bytes | None = None) -> None:
        with self._lock:
            row = self._tokens.get(account_id)
            if row is not None and (only_if is None or row[0] == only_if):
                del self._tokens[account_id]

    def try_acquire_lease(self, name: str, holder: str, ttl_seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            current = self._leases.get(name)
            if current is not None and current[0] != holder and current[1] > now:
                return False
            self._leases[name] = (holder, now + ttl_seconds)
            return True

    def release_lease(self, name: str, holder: str) -> None:
        with self._lock:
            if self._leases.get(name, ("", 0.0))[0] == holder:
                del self._leases[name]

    def record_login_block(self, account_id: str, status: int, cause: str, lifts_at: datetime) -> None:
        with self._lock:
            self._blocks[account_id] = (status, cause, lifts_at)

    def get_login_block(self, account_id: str) -> tuple[int, str, datetime] | None:
        with self._lock:
            block = self._blocks.get(account_id)
        return block if block is not None and block[2] > datetime.now(timezone.utc) else None

    def clear_login_block(self, account_id: str) -> None:
        with self._lock:
            self._blocks.pop(account_id, None)

    def db_now(self) -> datetime:
        return datetime.now(timezone.utc)  # shared by this process only: its own clock

    def reserve_request_slot(self, name: str, interval_seconds: float) -> float:
        now = time.time()
        with self._lock:
            slot = max(now, self._slots.get(name, now))
            self._slots[name] = slot + interval_seconds
            return slot

    def reserve_window_slot(self, name: str, limit: int, window_seconds: float) -> float:
        now = time.time()
        with self._lock:
            latest = self._windows.setdefault(name, deque(maxlen=limit))
            slot = max(now, latest[-1]) if latest else now
            if len(latest) == limit:
                slot = max(slot, latest[0] + window_seconds)
            latest.append(slot)
            return slot


MEMORY = MemoryBackend()  # one per process, shared by its hooks as the store would be

log = logging.getLogger(__name__)
_warned: set[str] = set()


def _without_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: name the setting only
        return "(unreadable URL)"


def open_backend() -> TokenBackend:
    """The configured store, or :data:`MEMORY` when it cannot be opened (said once per store)."""
    from airflow_copyleaks.store import get_store

    try:
        return get_store()
    except CopyleaksError:
        raise  # a configuration refused on purpose (a machine-local store under Celery): never hidden
    except Exception as err:
        where = _without_password(config.store_url())
        if where not in _warned:
            _warned.add(where)
            log.warning(
                "The Copyleaks store %s ([copyleaks] store_url) cannot be opened (%s): the token and "
                "rate limit are kept in this process only, so each process logs in on its own",
                where, type(err).__name__,
            )  # fmt: skip
        return MEMORY
