"""ScanStore: the only code that touches the provider's database (DESIGN.md).

SQLAlchemy Core over an SQLite file (WAL, for a single machine) or PostgreSQL (production). Every
write is idempotent and happens in one transaction, so a crash never leaves half a record and a
duplicate webhook changes nothing. Ids are always bound parameters, never SQL text.

The class is assembled from one part per concern: ``engine`` (connections and transactions),
``migrations`` (schema upgrades), ``scans`` (scans, events and the watchers' cursor, with the
status rules of ``status``), ``exports`` (exports, artifacts, check results) and
``coordination`` (token cache, leases, request slots shared by processes) and ``watermarks``
(the completion feed of event-driven watchers and how far each has read it).
"""

from __future__ import annotations

from collections.abc import Callable

from airflow_copyleaks.store import migrations
from airflow_copyleaks.store.coordination import Coordination
from airflow_copyleaks.store.engine import utcnow
from airflow_copyleaks.store.exports import ExportRecords
from airflow_copyleaks.store.records import ExportStatus, ScanStatus, StoredEvent
from airflow_copyleaks.store.retention import Retention
from airflow_copyleaks.store.scans import ScanRecords
from airflow_copyleaks.store.status import EVENTS, FINAL_STATUSES, STATUS_EVENTS, STATUS_RANK
from airflow_copyleaks.store.watermarks import Watermarks

__all__ = [
    "EVENTS",
    "FINAL_STATUSES",
    "STATUS_EVENTS",
    "STATUS_RANK",
    "ExportStatus",
    "ScanStatus",
    "ScanStore",
    "StoredEvent",
    "utcnow",
]


class ScanStore(ScanRecords, ExportRecords, Coordination, Retention, Watermarks):
    """See the module docstring; construct with a SQLAlchemy URL or use :func:`get_store`.

    :param url: SQLAlchemy URL: ``sqlite:///path`` or ``postgresql+psycopg2://...`` (or psycopg).
    :param clock: this host's clock (epoch seconds); leases and request slots run on the
        database's, measured against it.
    """

    def __init__(self, url: str, *, clock: Callable[[], float] | None = None) -> None:
        super().__init__(url)
        if clock is not None:
            self.clock = clock
        with self._write() as conn:
            #: The schema version found or made when the store was opened (read without a query).
            self.opened_schema_version = migrations.migrate(conn)
            self._store_id: str | None = migrations.store_id(conn)

    def schema_version(self) -> int:
        with self._read() as conn:
            return migrations.schema_version(conn)

    def store_id(self) -> str:
        """The store's identity: random, made with its schema, the same for every process using it."""
        if self._store_id is None:
            with self._read() as conn:
                self._store_id = migrations.store_id(conn)
        return self._store_id
