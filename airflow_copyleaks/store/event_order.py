"""Event ids that become visible in order on PostgreSQL, without a global lock per insert.

Watchers follow every scan with one cursor, ``events_after(cursor)``. On PostgreSQL an event id
is drawn from a sequence when the insert runs, but becomes visible when its transaction commits:
id 8 may be visible while id 7 is still in flight, and a watcher that moved its cursor to 8 would
never see 7. Serialising every insert behind one lock avoided that, at the price of queueing all
deliveries behind the slowest.

Here inserts never wait for each other. Each writer takes a *shared* advisory lock (``WRITERS``)
before it draws its id, then a shared lock named by its id (``IDS``, id), all within its INSERT
(:data:`NEXT_EVENT_ID`). A reader first reads how
far the sequence has gone (``allocated``), then the lock table: every id at or below
``allocated`` that is not visible yet belongs to a writer still holding ``WRITERS``. If every such
writer has published its id, the reader may go up to just below the lowest one; if one has not yet
(the instant between drawing and locking), the reader takes nothing new this time. Shared locks
never conflict with each other, so neither writers nor readers ever block. SQLite needs none of
this: its writers are serial.
"""

from __future__ import annotations

import sqlalchemy as sa

# Advisory lock namespaces (the two-integer form: namespace, key).
WRITERS = 721654001  # key 0: held, shared, by every event insert in flight
IDS = 721654002  # key: the event id a writer drew

_SEQUENCE = "pg_get_serial_sequence('copyleaks_event', 'id')"
# The id of a new event row, as a scalar subquery its INSERT evaluates: announce the insert
# (WRITERS), draw the id, publish it (IDS). Each step runs on the row the step before it
# produced, and OFFSET 0 keeps PostgreSQL from merging the subqueries, so the order holds within
# the one statement, and the insert costs no round trip of its own for it.
NEXT_EVENT_ID = sa.literal_column(
    f"(SELECT drawn.id FROM ("
    f"  SELECT nextval({_SEQUENCE}) AS id FROM ("
    f"    SELECT pg_advisory_xact_lock_shared({WRITERS}, 0)::text AS announced OFFSET 0"
    f"  ) AS writer WHERE writer.announced IS NOT NULL OFFSET 0"
    f") AS drawn WHERE pg_advisory_xact_lock_shared({IDS}, drawn.id::int)::text IS NOT NULL)",
    sa.BigInteger(),
)
_ALLOCATED = sa.text(f"SELECT pg_sequence_last_value({_SEQUENCE}::regclass)")
_IN_FLIGHT = sa.text(
    f"""
    SELECT
      (SELECT count(*) FROM pg_locks w
        WHERE w.locktype = 'advisory' AND w.database = db.oid AND w.classid = {WRITERS} AND w.objsubid = 2
          AND NOT EXISTS (SELECT 1 FROM pg_locks i
                           WHERE i.pid = w.pid AND i.locktype = 'advisory' AND i.database = db.oid
                             AND i.classid = {IDS} AND i.objsubid = 2)) AS unnumbered,
      (SELECT min(i.objid::bigint) FROM pg_locks i
        WHERE i.locktype = 'advisory' AND i.database = db.oid AND i.classid = {IDS} AND i.objsubid = 2) AS lowest
    FROM pg_database db WHERE db.datname = current_database()
    """
)


def visible_horizon(conn: sa.Connection) -> int | None:
    """The highest event id a reader may pass now (every id up to it is committed or abandoned),
    or None at the instant a writer has drawn an id it has not published yet."""
    allocated = conn.execute(_ALLOCATED).scalar()  # first: see the module docstring
    if allocated is None:
        return 0  # no event was ever drawn
    unnumbered, lowest = conn.execute(_IN_FLIGHT).one()
    if unnumbered:
        return None
    if lowest is not None:
        return min(int(allocated), int(lowest) - 1)
    return int(allocated)
