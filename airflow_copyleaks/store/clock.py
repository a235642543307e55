"""The database's clock, for everything processes on several machines compare: leases, request
slots, login blocks.

Hosts' clocks drift apart; a host 30 s behind would write a lease that every other host already
sees as expired, and a second login would follow. So each store measures how far its host's clock
is from the database's (one query, repeated every minute, shared by the process's stores of one
URL so that they convert alike) and stamps coordination times with database time. An SQLite file
lives on one machine: its clock is that machine's, the one ``time.time()`` reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import sqlalchemy as sa

from airflow_copyleaks.store.engine import StoreEngine

REMEASURE_SECONDS = 60.0
_DB_EPOCH = sa.text("SELECT extract(epoch FROM clock_timestamp())")
# (store URL, host clock) -> (offset, when measured on the monotonic clock)
_offsets: dict[tuple[str, Callable[[], float]], tuple[float, float]] = {}
_offsets_lock = threading.Lock()


class DatabaseClock(StoreEngine):
    """Database time from the host's clock plus a measured offset."""

    #: The host's clock (epoch seconds); tests give a wrong one to show it does not matter.
    clock: Callable[[], float] = staticmethod(time.time)

    def db_time(self) -> float:
        """Now on the database's clock, in epoch seconds."""
        return self.clock() + self.clock_offset()

    def db_now(self) -> datetime:
        return datetime.fromtimestamp(self.db_time(), timezone.utc)

    def clock_offset(self) -> float:
        """Seconds to add to the host's clock to get the database's."""
        key = (self.url, self.clock)
        with _offsets_lock:
            known = _offsets.get(key)
            if known is None or time.monotonic() - known[1] > REMEASURE_SECONDS:
                known = _offsets[key] = (self._measure_offset(), time.monotonic())
        return known[0]

    def _measure_offset(self) -> float:
        if self.is_sqlite:
            return time.time() - self.clock()
        with self._read() as conn:
            before = self.clock()
            database = float(conn.execute(_DB_EPOCH).scalar_one())
            after = self.clock()
        return database - (before + after) / 2
