"""Tables of the ScanStore and their versions.

The store creates its schema on first use and upgrades an older one (``migrations.py``): each
entry of :data:`MIGRATIONS` brings the schema from one version to the next and is safe to run on
a database that already has the change (tables are created with ``checkfirst``, columns changed
only while they still have their old type).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa

from airflow_copyleaks.store.types import JSONDocument, Text, UTCDateTime

SCHEMA_VERSION = 10
INTEGER_MAX = 2**31 - 1  # the largest value the integer columns hold on PostgreSQL

metadata = sa.MetaData()

schema_version = sa.Table(
    "copyleaks_schema_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

# The latest known state of each scan (one row a scan).
scan = sa.Table(
    "copyleaks_scan",
    metadata,
    sa.Column("scan_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(32)),
    sa.Column("action", sa.String(32)),
    sa.Column("sandbox", sa.Boolean),
    sa.Column("credits", sa.Integer),
    sa.Column("score", sa.Float),
    sa.Column("total_words", sa.Integer),
    sa.Column("error_code", sa.String(64)),
    sa.Column("error_message", Text),
    sa.Column("event_count", sa.Integer, nullable=False, default=0),
    sa.Column("meta", JSONDocument),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("resend_requested_at", UTCDateTime()),
    sa.Column("delivery_failed_at", UTCDateTime()),  # version 9
    sa.Column("resend_attempts", sa.Integer),  # version 10
)

# Every webhook delivery as received, once: (scan, event, body digest) is unique, so Copyleaks'
# at-least-once delivery never creates two events. The id is a global cursor for watchers.
event = sa.Table(
    "copyleaks_event",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scan_id", sa.String(64), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("payload", JSONDocument, nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("scan_id", "event", "digest", name="uq_copyleaks_event_delivery"),
    sa.Index("ix_copyleaks_event_scan", "scan_id", "event"),
)

export = sa.Table(
    "copyleaks_export",
    metadata,
    sa.Column("export_id", sa.String(64), primary_key=True),
    sa.Column("scan_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("expected", JSONDocument, nullable=False),
    sa.Column("meta", JSONDocument),
    sa.Column("payload", JSONDocument),
    sa.Column("completion_digest", sa.String(64)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime()),
)

artifact = sa.Table(
    "copyleaks_artifact",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("export_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("result_id", sa.String(128), nullable=False, default=""),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("export_id", "kind", "result_id", name="uq_copyleaks_artifact"),
)

token = sa.Table(
    "copyleaks_token",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

lease = sa.Table(
    "copyleaks_lease",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("holder", sa.String(255), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
)

# Version 2: results of synchronous checks, so a retried task can report a check it already paid for.
check_result = sa.Table(
    "copyleaks_check_result",
    metadata,
    sa.Column("scan_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("summary", JSONDocument, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # Version 7: who paid what, so the Copyleaks page counts checks' credits per day and per DAG.
    sa.Column("dag_id", sa.String(250)),
    sa.Column("credits", sa.Float),
    sa.Column("sandbox", sa.Boolean),
    sa.Index("ix_copyleaks_check_result_created", "created_at"),
)


# Version 3: the account's request schedule, shared by every process that calls Copyleaks, so
# that mapped tasks on several workers stay under the account's rate together.
rate_schedule = sa.Table(
    "copyleaks_rate_schedule",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("next_at", sa.Float, nullable=False),
)

# Version 5: a login Copyleaks refused, so that other processes fail fast instead of logging in
# (each further try would prolong Copyleaks' login block).
login_block = sa.Table(
    "copyleaks_login_block",
    metadata,
    sa.Column("account_id", sa.String(64), primary_key=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("cause", sa.String(500), nullable=False),
    sa.Column("lifts_at", UTCDateTime(), nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
)


def _to_v1(conn: sa.Connection) -> None:
    for table in (scan, event, export, artifact, token, lease):
        table.create(conn, checkfirst=True)


def _to_v2(conn: sa.Connection) -> None:
    check_result.create(conn, checkfirst=True)


def _to_v3(conn: sa.Connection) -> None:
    rate_schedule.create(conn, checkfirst=True)


# Version 4: JSON columns become jsonb on PostgreSQL (they were text holding JSON; SQLite keeps
# JSON as text, so nothing changes there). An escaped NUL, which jsonb cannot hold, becomes U+FFFD
# as in everything written since.
JSON_COLUMNS = [
    (scan, "meta"),
    (event, "payload"),
    (export, "expected"),
    (export, "meta"),
    (export, "payload"),
    (check_result, "summary"),
]


def _to_v4(conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    inspector = sa.inspect(conn)
    for table, column in JSON_COLUMNS:
        types = {c["name"]: c["type"] for c in inspector.get_columns(table.name)}
        if not isinstance(types[column], sa.Text):
            continue  # already jsonb (created at version 4, or a rerun)
        conn.exec_driver_sql(
            f'ALTER TABLE {table.name} ALTER COLUMN "{column}" TYPE jsonb '
            f"USING replace(\"{column}\", '\\u0000', '\\ufffd')::jsonb"
        )


def _to_v5(conn: sa.Connection) -> None:
    login_block.create(conn, checkfirst=True)


# Version 6: facts about the store itself. ``store_id`` is random, made once when the schema is
# created (or upgraded to 6): the receiver's health answer and task logs show it, so two
# components that should share one store can tell when they do not.
meta = sa.Table(
    "copyleaks_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
STORE_ID = "store_id"


def _to_v6(conn: sa.Connection) -> None:
    meta.create(conn, checkfirst=True)
    if conn.execute(sa.select(meta.c.value).where(meta.c.key == STORE_ID)).scalar() is None:
        conn.execute(sa.insert(meta).values(key=STORE_ID, value=uuid.uuid4().hex))


# Version 7: the DAG, credits and sandbox flag of each synchronous check (columns of check_result,
# empty for checks recorded before), read by the Copyleaks page.
CHECK_RESULT_COLUMNS = ("dag_id", "credits", "sandbox")


def _to_v7(conn: sa.Connection) -> None:
    inspector = sa.inspect(conn)
    present = {c["name"] for c in inspector.get_columns(check_result.name)}
    for name in CHECK_RESULT_COLUMNS:
        if name not in present:
            column = check_result.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f'ALTER TABLE {check_result.name} ADD COLUMN "{name}" {kind}')
    indexes = {index["name"] for index in inspector.get_indexes(check_result.name)}
    for index in check_result.indexes:
        if index.name not in indexes:
            index.create(conn)


# Version 8: how far each event-driven watcher (an asset watcher's trigger) has read the event feed,
# so that a triggerer restart neither loses nor replays the scan completions it turns into asset
# events. The key names the watcher (its name, or a digest of its filters).
watermark = sa.Table(
    "copyleaks_watermark",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)


def _to_v8(conn: sa.Connection) -> None:
    watermark.create(conn, checkfirst=True)


# Version 9: when the receiver last refused a delivery for the scan (a wrong credential, the store
# down): its webhook is certainly lost, so the waits ask Copyleaks to resend it without waiting out
# the scan's expected duration.
def _to_v9(conn: sa.Connection) -> None:
    _add_scan_column(conn, "delivery_failed_at")


# Version 10: how many resends were asked for the scan, so the doubling gaps between them survive
# a rescheduled sensor's next poke (a new process) and a triggerer restart.
def _to_v10(conn: sa.Connection) -> None:
    _add_scan_column(conn, "resend_attempts")


def _add_scan_column(conn: sa.Connection, name: str) -> None:
    if name not in {c["name"] for c in sa.inspect(conn).get_columns(scan.name)}:
        kind = scan.c[name].type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f'ALTER TABLE {scan.name} ADD COLUMN "{name}" {kind}')


MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    1: _to_v1,
    2: _to_v2,
    3: _to_v3,
    4: _to_v4,
    5: _to_v5,
    6: _to_v6,
    7: _to_v7,
    8: _to_v8,
    9: _to_v9,
    10: _to_v10,
}
