"""Engine plumbing of the store: connections, transactions, dialect-specific upserts.

SQLite (one machine) runs in WAL mode with one writer at a time; PostgreSQL (production) uses a
pre-pinged pool. Every other store module goes through :class:`StoreEngine`'s ``_read`` and
``_write`` transactions and its ``_insert`` (an INSERT that can say ON CONFLICT on both).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from airflow_copyleaks.store.types import dumps_json

CHUNK = 500  # ids per IN (...) query: well under every driver's parameter limit
# Seconds a PostgreSQL connection attempt may take: libpq's default waits as long as the OS
# does (minutes) for a server that does not answer.
CONNECT_TIMEOUT_SECONDS = 10


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


class StoreEngine:
    """Owns the engines. Subclasses (the store's parts) only use the protected helpers.

    :param url: SQLAlchemy URL of the store (SQLite file or PostgreSQL database).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.query_count = 0
        self._count_lock = threading.Lock()
        self._pid = os.getpid()
        self.is_sqlite = url.startswith("sqlite")
        # SQLite has one writer at a time; threads of this process queue here, in order, instead of
        # in SQLite's busy handler, whose growing sleeps gave a few writers second-long waits.
        self._write_gate: Any = threading.RLock() if self.is_sqlite else nullcontext()
        if self.is_sqlite:
            # Reads begin deferred; writes begin IMMEDIATE so two writers queue on the lock
            # instead of failing with "database is locked" when both upgrade a read lock.
            self._read_engine = self._sqlite_engine(immediate=False)
            self._write_engine = self._sqlite_engine(immediate=True)
        else:
            engine = sa.create_engine(
                url,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                json_serializer=dumps_json,
                connect_args=_connect_args(url),
            )
            self._read_engine = self._write_engine = engine
        for engine in {self._read_engine, self._write_engine}:
            sa.event.listen(engine, "before_cursor_execute", self._count_query)

    def _sqlite_engine(self, *, immediate: bool) -> Engine:
        engine = sa.create_engine(
            self.url, connect_args={"timeout": 30, "check_same_thread": False}, json_serializer=dumps_json
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        if immediate:
            # Reads need no BEGIN: in autocommit mode each SELECT sees one consistent WAL snapshot.
            @sa.event.listens_for(engine, "begin")
            def _on_begin(conn: sa.Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def _count_query(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Transaction bookkeeping is not a query: counts stay comparable between SQLite and PostgreSQL.
        if statement.startswith("BEGIN"):
            return
        with self._count_lock:
            self.query_count += 1

    def _check_fork(self) -> None:
        """A forked child (LocalExecutor, task runner) must not reuse its parent's connections."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            if self.is_sqlite:  # a thread of the parent may have held it at fork time
                self._write_gate = threading.RLock()
            for engine in {self._read_engine, self._write_engine}:
                engine.dispose(close=False)

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        self._check_fork()
        with self._write_gate, self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        self._check_fork()
        with self._read_engine.begin() as conn:
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)

    def dispose(self) -> None:
        self._read_engine.dispose()
        self._write_engine.dispose()


def _connect_args(url: str) -> dict[str, Any]:
    """A connect timeout for PostgreSQL drivers, unless the URL sets one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return {}
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def _enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a new SQLite file to WAL. The switch needs the file to itself and may answer
    "database is locked" at once (no busy wait) when several processes open a new store together."""
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.01 + 0.01 * attempt)
