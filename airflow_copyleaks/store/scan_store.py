"""ScanStore: the only code that touches the provider's database (DESIGN.md).

SQLAlchemy Core over an SQLite file (WAL, for a single machine) or PostgreSQL (production). Every
write is idempotent and happens in one transaction, so a crash never leaves half a record and a
duplicate webhook changes nothing. Ids are always bound parameters, never SQL text.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from airflow_copyleaks.store import schema as t

# How far each status is along a scan's life. A late or duplicate delivery of an earlier status
# never moves a scan back; completed and error are final (only a deletion follows them).
STATUS_RANK = {
    "submitted": 0,
    "creditsChecked": 1,
    "started": 2,
    "indexed": 3,
    "completed": 4,
    "error": 4,
    "deleted": 5,
}
FINAL_STATUSES = {"completed", "error", "indexed", "deleted"}
# Events that set the scan's status; "newResult" only counts (the scan is still running).
STATUS_EVENTS = {"completed", "error", "creditsChecked", "indexed", "started", "deleted"}
EVENTS = STATUS_EVENTS | {"newResult"}
_CHUNK = 500  # ids per IN (...) query: well under every driver's parameter limit
# PostgreSQL advisory lock keys: schema migration, and event inserts (see record_event).
_MIGRATION_LOCK = 7216540031
_EVENT_LOCK = 7216540032


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class ScanStatus:
    scan_id: str
    status: str
    kind: str | None
    action: str | None
    sandbox: bool | None
    credits: int | None
    score: float | None
    total_words: int | None
    error_code: str | None
    error_message: str | None
    event_count: int
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    resend_requested_at: datetime | None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "updated_at", "resend_requested_at"):
            data[key] = _iso(data[key])
        return data


@dataclass(frozen=True)
class StoredEvent:
    id: int
    scan_id: str
    event: str
    received_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "received_at": _iso(self.received_at)}


@dataclass(frozen=True)
class ExportStatus:
    export_id: str
    scan_id: str
    status: str  # pending | completed | failed
    expected: list[str]
    artifacts: list[dict[str, Any]]
    payload: dict[str, Any] | None
    unhealthy: list[dict[str, Any]]
    meta: dict[str, Any]
    created_at: datetime
    completed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        data["completed_at"] = _iso(self.completed_at)
        return data


def _error_fields(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """Copyleaks' error webhook: ``error`` is an object or a list of them, codes numbers or strings."""
    error: Any = payload.get("error")
    if isinstance(error, list):
        error = error[0] if error else None
    if isinstance(error, dict):
        code = error.get("code", error.get("id"))
        message = error.get("message")
        return (None if code is None else str(code)[:64]), (str(message) if message else None)
    if error is not None:
        return None, str(error)
    return None, None


def _number(value: Any) -> float | None:
    """A number from a payload, or None: a malformed field must not fail the whole delivery."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and abs(number) <= t.INTEGER_MAX else None


class ScanStore:
    """See the module docstring; construct with a SQLAlchemy URL or use :func:`get_store`."""

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
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, future=True)
            self._read_engine = self._write_engine = engine
        for engine in {self._read_engine, self._write_engine}:
            sa.event.listen(engine, "before_cursor_execute", self._count_query)
        self._migrate()

    # ------------------------------------------------------------------ engine plumbing

    def _sqlite_engine(self, *, immediate: bool) -> Engine:
        engine = sa.create_engine(self.url, connect_args={"timeout": 30, "check_same_thread": False}, future=True)

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

    def _migrate(self) -> None:
        """Create or upgrade the schema; safe when many processes start at once."""
        with self._write() as conn:
            if not self.is_sqlite:
                # One migrating process at a time; the others wait here, then find nothing to do.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            t.schema_version.create(conn, checkfirst=True)
            current = conn.execute(sa.select(t.schema_version.c.version).where(t.schema_version.c.id == 1)).scalar()
            current = current or 0
            for version in range(current + 1, t.SCHEMA_VERSION + 1):
                t.MIGRATIONS[version](conn)
            if current == 0:
                conn.execute(sa.insert(t.schema_version).values(id=1, version=t.SCHEMA_VERSION))
            elif current < t.SCHEMA_VERSION:
                conn.execute(
                    sa.update(t.schema_version).where(t.schema_version.c.id == 1).values(version=t.SCHEMA_VERSION)
                )

    def schema_version(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(t.schema_version.c.version)).scalar() or 0)

    def dispose(self) -> None:
        self._read_engine.dispose()
        self._write_engine.dispose()

    # ------------------------------------------------------------------ scans and events

    def register_scan(
        self, scan_id: str, *, kind: str, action: str, sandbox: bool, meta: dict[str, Any] | None = None
    ) -> bool:
        """Note a scan before it is submitted. True if new; an existing scan keeps its status."""
        now = utcnow()
        details = {"kind": kind, "action": action, "sandbox": sandbox, "meta": json.dumps(meta or {}, sort_keys=True)}
        stmt = (
            self._insert(t.scan)
            .values(scan_id=scan_id, status="submitted", event_count=0, created_at=now, updated_at=now, **details)
            .on_conflict_do_nothing(index_elements=["scan_id"])
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount:
                return True
            # A webhook can beat the registration (the row then has no details yet): fill them in,
            # leaving the status alone.
            conn.execute(
                sa.update(t.scan).where(t.scan.c.scan_id == scan_id, t.scan.c.kind.is_(None)).values(**details)
            )
            return False

    def record_event(self, scan_id: str, event: str, payload: dict[str, Any], *, raw_body: bytes) -> bool:
        """Store one webhook delivery and fold it into the scan's status. False for a duplicate."""
        if event not in EVENTS:
            raise ValueError(f"unknown scan event {event!r}; expected one of {sorted(EVENTS)}")
        now = utcnow()
        digest = hashlib.sha256(raw_body).hexdigest()
        insert_event = (
            self._insert(t.event)
            .values(scan_id=scan_id, event=event, digest=digest, payload=json.dumps(payload), received_at=now)
            .on_conflict_do_nothing(index_elements=["scan_id", "event", "digest"])
        )
        with self._write() as conn:
            if not self.is_sqlite:
                # Event ids must become visible in id order, or a reader of events_after() could move
                # its cursor past an id whose transaction commits later. SQLite writers are serial
                # already; on PostgreSQL this lock (released at commit) serialises event inserts.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_EVENT_LOCK)))
            if not conn.execute(insert_event).rowcount:
                return False
            # FOR UPDATE (PostgreSQL; SQLite writers are serial anyway): the status is computed from
            # this read, and mark_started() must not slip in between the read and the write.
            read_scan = sa.select(t.scan).where(t.scan.c.scan_id == scan_id).with_for_update()
            row = conn.execute(read_scan).mappings().first()
            if row is None and event == "deleted":
                return True  # a delete request's completion: an event, but no scan to fold it into
            if row is None:
                # The webhook beat the registration; a registration racing it keeps its own row.
                conn.execute(
                    self._insert(t.scan)
                    .values(
                        scan_id=scan_id, status="submitted", event_count=0, meta="{}", created_at=now, updated_at=now
                    )
                    .on_conflict_do_nothing(index_elements=["scan_id"])
                )
                row = conn.execute(read_scan).mappings().one()
            changes: dict[str, Any] = {"event_count": row["event_count"] + 1, "updated_at": now}
            if event in STATUS_EVENTS and self._advances(row["status"], event):
                changes.update(self._status_fields(event, payload))
            conn.execute(sa.update(t.scan).where(t.scan.c.scan_id == scan_id).values(**changes))
        return True

    @staticmethod
    def _advances(current: str, new: str) -> bool:
        """Whether an event of status ``new`` may update a scan now at ``current``."""
        if new == "deleted":
            return True
        if current in FINAL_STATUSES:
            return False
        rank_new, rank_current = STATUS_RANK.get(new, 0), STATUS_RANK.get(current, 0)
        # The same status again (e.g. a resent creditsChecked) may refresh its figures.
        return rank_new > rank_current or new == current

    @staticmethod
    def _status_fields(event: str, payload: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"status": event}
        document = payload.get("scannedDocument")
        document = document if isinstance(document, dict) else {}
        if event == "creditsChecked":
            credits = payload.get("credits")
            fields["credits"] = _integer(credits if credits is not None else document.get("credits"))
            fields["total_words"] = _integer(document.get("totalWords"))
        if event == "completed":
            fields["credits"] = _integer(document.get("credits"))
            fields["total_words"] = _integer(document.get("totalWords"))
            results = payload.get("results")
            score = results.get("score") if isinstance(results, dict) else None
            fields["score"] = _number(score.get("aggregatedScore") if isinstance(score, dict) else score)
        if event == "error":
            fields["error_code"], fields["error_message"] = _error_fields(payload)
        return fields

    def mark_started(self, scan_ids: Sequence[str]) -> None:
        """Price-checked scans that Copyleaks accepted to start."""
        now = utcnow()
        with self._write() as conn:
            for chunk in _chunks(scan_ids):
                conn.execute(
                    sa.update(t.scan)
                    .where(t.scan.c.scan_id.in_(chunk), t.scan.c.status.in_(["submitted", "creditsChecked"]))
                    .values(status="started", updated_at=now)
                )

    def mark_resend_requested(self, scan_id: str) -> None:
        with self._write() as conn:
            conn.execute(sa.update(t.scan).where(t.scan.c.scan_id == scan_id).values(resend_requested_at=utcnow()))

    def get_scan(self, scan_id: str) -> ScanStatus | None:
        return self.get_scans([scan_id]).get(scan_id)

    def get_scans(self, scan_ids: Sequence[str]) -> dict[str, ScanStatus]:
        """Statuses of many scans: one query per 500 ids, never one per id."""
        found: dict[str, ScanStatus] = {}
        unique = list(dict.fromkeys(scan_ids))
        with self._read() as conn:
            for chunk in _chunks(unique):
                for row in conn.execute(sa.select(t.scan).where(t.scan.c.scan_id.in_(chunk))).mappings():
                    found[row["scan_id"]] = _scan_status(row)
        return found

    def latest_event_id(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.max(t.event.c.id))).scalar() or 0)

    def events_after(self, event_id: int, limit: int = 10_000) -> list[StoredEvent]:
        """Events with an id above ``event_id``, oldest first: a cursor over every scan at once."""
        query = (
            sa.select(t.event.c.id, t.event.c.scan_id, t.event.c.event, t.event.c.received_at)
            .where(t.event.c.id > event_id)
            .order_by(t.event.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [
                StoredEvent(r.id, r.scan_id, r.event, _aware(r.received_at) or utcnow()) for r in conn.execute(query)
            ]

    def get_event_payload(self, scan_id: str, event: str) -> dict[str, Any] | None:
        query = (
            sa.select(t.event.c.payload)
            .where(t.event.c.scan_id == scan_id, t.event.c.event == event)
            .order_by(t.event.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            payload = conn.execute(query).scalar()
        return json.loads(payload) if payload else None

    def count_events(self, scan_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(t.event)
        if scan_id is not None:
            query = query.where(t.event.c.scan_id == scan_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar() or 0)

    # ------------------------------------------------------------------ exports

    def register_export(
        self, export_id: str, scan_id: str, *, expected: list[str], meta: dict[str, Any] | None = None
    ) -> bool:
        stmt = (
            self._insert(t.export)
            .values(
                export_id=export_id,
                scan_id=scan_id,
                status="pending",
                expected=json.dumps(expected),
                meta=json.dumps(meta or {}),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["export_id"])
        )
        with self._write() as conn:
            return bool(conn.execute(stmt).rowcount)

    def record_artifact(
        self, export_id: str, kind: str, *, result_id: str | None, location: str, size: int, sha256: str
    ) -> bool:
        """Index an artifact the receiver wrote. True if new or its content changed (a retried push
        that overwrote the file with other bytes); a duplicate push changes nothing."""
        values = {"location": location, "size": size, "sha256": sha256}
        key = (
            t.artifact.c.export_id == export_id,
            t.artifact.c.kind == kind,
            t.artifact.c.result_id == (result_id or ""),
        )
        stmt = (
            self._insert(t.artifact)
            .values(export_id=export_id, kind=kind, result_id=result_id or "", created_at=utcnow(), **values)
            .on_conflict_do_nothing(index_elements=["export_id", "kind", "result_id"])
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount:
                return True
            changed = conn.execute(sa.update(t.artifact).where(*key, t.artifact.c.sha256 != sha256).values(**values))
            return bool(changed.rowcount)

    def export_scan_id(self, export_id: str) -> str | None:
        """The scan an export was registered for (the receiver files artifacts under it)."""
        with self._read() as conn:
            scan_id = conn.execute(sa.select(t.export.c.scan_id).where(t.export.c.export_id == export_id)).scalar()
        return str(scan_id) if scan_id else None

    def exports_for_scan(self, scan_id: str) -> list[str]:
        """Ids of the exports registered for a scan, oldest first."""
        query = sa.select(t.export.c.export_id).where(t.export.c.scan_id == scan_id).order_by(t.export.c.created_at)
        with self._read() as conn:
            return [str(export_id) for export_id in conn.execute(query).scalars()]

    def record_export_completed(self, export_id: str, payload: dict[str, Any], *, raw_body: bytes) -> bool:
        digest = hashlib.sha256(raw_body).hexdigest()
        tasks = [task for task in payload.get("tasks") or [] if isinstance(task, dict)]
        healthy = bool(payload.get("completed")) and all(_task_healthy(task) for task in tasks)
        values = {
            "status": "completed" if healthy else "failed",
            "payload": json.dumps(payload),
            "completion_digest": digest,
            "completed_at": utcnow(),
        }
        with self._write() as conn:
            # A completion for an export we did not register (e.g. started elsewhere) gets a row.
            conn.execute(
                self._insert(t.export)
                .values(
                    export_id=export_id, scan_id="", status="pending", expected="[]", meta="{}", created_at=utcnow()
                )
                .on_conflict_do_nothing(index_elements=["export_id"])
            )
            # Only the first completion counts; duplicates and late deliveries change nothing. The
            # condition is in the UPDATE itself, so two receivers cannot both win.
            first = conn.execute(
                sa.update(t.export)
                .where(t.export.c.export_id == export_id, t.export.c.completion_digest.is_(None))
                .values(**values)
            )
        return bool(first.rowcount)

    def get_export(self, export_id: str) -> ExportStatus | None:
        with self._read() as conn:
            row = conn.execute(sa.select(t.export).where(t.export.c.export_id == export_id)).mappings().first()
            if row is None:
                return None
            artifacts = conn.execute(
                sa.select(t.artifact).where(t.artifact.c.export_id == export_id).order_by(t.artifact.c.id)
            ).mappings()
            artifact_list = [
                {
                    "kind": a["kind"],
                    "result_id": a["result_id"] or None,
                    "location": a["location"],
                    "size": a["size"],
                    "sha256": a["sha256"],
                }
                for a in artifacts
            ]
        payload = json.loads(row["payload"]) if row["payload"] else None
        unhealthy = [task for task in (payload or {}).get("tasks") or [] if not _task_healthy(task)]
        return ExportStatus(
            export_id=row["export_id"],
            scan_id=row["scan_id"],
            status=row["status"],
            expected=json.loads(row["expected"]),
            artifacts=artifact_list,
            payload=payload,
            unhealthy=unhealthy,
            meta=json.loads(row["meta"] or "{}"),
            created_at=_aware(row["created_at"]) or utcnow(),
            completed_at=_aware(row["completed_at"]),
        )

    # ------------------------------------------------------------------ synchronous check results

    def save_check_result(self, scan_id: str, kind: str, summary: dict[str, Any]) -> bool:
        stmt = (
            self._insert(t.check_result)
            .values(scan_id=scan_id, kind=kind, summary=json.dumps(summary), created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["scan_id"])
        )
        with self._write() as conn:
            return bool(conn.execute(stmt).rowcount)

    def get_check_result(self, scan_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            summary = conn.execute(
                sa.select(t.check_result.c.summary).where(t.check_result.c.scan_id == scan_id)
            ).scalar()
        return json.loads(summary) if summary else None

    # ------------------------------------------------------------------ token cache and leases

    def get_token(self, account_id: str) -> tuple[bytes, datetime] | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.token.c.ciphertext, t.token.c.expires_at).where(t.token.c.account_id == account_id)
            ).first()
        if row is None:
            return None
        return bytes(row.ciphertext), _aware(row.expires_at) or utcnow()

    def put_token(self, account_id: str, ciphertext: bytes, expires_at: datetime) -> None:
        values = {"ciphertext": ciphertext, "expires_at": expires_at, "updated_at": utcnow()}
        stmt = self._insert(t.token).values(account_id=account_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["account_id"], set_=values)
        with self._write() as conn:
            conn.execute(stmt)

    def delete_token(self, account_id: str, *, only_if: bytes | None = None) -> None:
        """Delete the cached token; with ``only_if``, only while it is still that ciphertext."""
        query = sa.delete(t.token).where(t.token.c.account_id == account_id)
        if only_if is not None:
            query = query.where(t.token.c.ciphertext == only_if)
        with self._write() as conn:
            conn.execute(query)

    def try_acquire_lease(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take ``name`` for ``ttl_seconds`` if it is free, expired, or already ours (atomic)."""
        now = utcnow()
        expires = now + timedelta(seconds=ttl_seconds)
        stmt = self._insert(t.lease).values(name=name, holder=holder, expires_at=expires)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": expires},
            where=sa.or_(t.lease.c.expires_at < now, t.lease.c.holder == holder),
        )
        with self._write() as conn:
            conn.execute(stmt)
            owner = conn.execute(sa.select(t.lease.c.holder).where(t.lease.c.name == name)).scalar()
        return owner == holder

    def release_lease(self, name: str, holder: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.lease).where(t.lease.c.name == name, t.lease.c.holder == holder))

    def reserve_request_slot(self, name: str, interval_seconds: float) -> float:
        """Reserve the next send time on schedule ``name``; returns it (epoch seconds).

        Slots are ``interval_seconds`` apart whoever asks: one upsert, atomic on SQLite (the
        IMMEDIATE transaction) and on PostgreSQL (the conflicting row is locked).
        """
        now = time.time()
        table = t.rate_schedule
        start = sa.case((table.c.next_at > now, table.c.next_at), else_=now)
        stmt = self._insert(table).values(name=name, next_at=now + interval_seconds)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"next_at": start + interval_seconds})
        with self._write() as conn:
            next_at = conn.execute(stmt.returning(table.c.next_at)).scalar_one()
        return float(next_at) - interval_seconds


def _enable_wal(cursor: Any, attempts: int = 100) -> None:
    """Switch a new SQLite file to WAL. The switch needs the file to itself and may answer
    "database is locked" at once (no busy wait) when several processes open a new store together."""
    import sqlite3
    import time

    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.01 + 0.01 * attempt)


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


def _task_healthy(task: dict[str, Any]) -> bool:
    status = task.get("httpStatusCode")
    return bool(task.get("isHealthy")) and isinstance(status, int) and 200 <= status < 300


def _scan_status(row: Any) -> ScanStatus:
    return ScanStatus(
        scan_id=row["scan_id"],
        status=row["status"],
        kind=row["kind"],
        action=row["action"],
        sandbox=row["sandbox"],
        credits=row["credits"],
        score=row["score"],
        total_words=row["total_words"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        event_count=row["event_count"],
        meta=json.loads(row["meta"] or "{}"),
        created_at=_aware(row["created_at"]) or utcnow(),
        updated_at=_aware(row["updated_at"]) or utcnow(),
        resend_requested_at=_aware(row["resend_requested_at"]),
    )
