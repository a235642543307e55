"""Creating and upgrading the store's schema, safely when many processes start at once."""

from __future__ import annotations

import sqlalchemy as sa

from airflow_copyleaks.store import schema as t

# PostgreSQL advisory lock key held by the one process migrating.
MIGRATION_LOCK = 7216540031


def migrate(conn: sa.Connection) -> int:
    """Bring the schema to :data:`~airflow_copyleaks.store.schema.SCHEMA_VERSION` in ``conn``'s
    transaction (a write transaction: on SQLite it already holds the database's write lock).
    Returns the version the schema has now."""
    if conn.dialect.name == "postgresql":
        # One migrating process at a time; the others wait here, then find nothing to do.
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
    t.schema_version.create(conn, checkfirst=True)
    current = conn.execute(sa.select(t.schema_version.c.version).where(t.schema_version.c.id == 1)).scalar()
    current = current or 0
    for version in range(current + 1, t.SCHEMA_VERSION + 1):
        t.MIGRATIONS[version](conn)
    if current == 0:
        conn.execute(sa.insert(t.schema_version).values(id=1, version=t.SCHEMA_VERSION))
    elif current < t.SCHEMA_VERSION:
        conn.execute(sa.update(t.schema_version).where(t.schema_version.c.id == 1).values(version=t.SCHEMA_VERSION))
    return max(current, t.SCHEMA_VERSION)


def schema_version(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(t.schema_version.c.version)).scalar() or 0)


def store_id(conn: sa.Connection) -> str:
    return str(conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == t.STORE_ID)).scalar_one())
