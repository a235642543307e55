"""Coordination between processes of one account: the token cache, leases, login blocks, request
slots, and the deliveries the receiver refused (which tell the waits to ask for a resend early).

Each is one small table and atomic statements (an upsert whose condition lives in the SQL), so
any number of processes on any number of machines agree without a lock server. Their times are
the database's (``clock.py``), never one host's. New shared limits belong here as further methods
of :class:`Coordination`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from airflow_copyleaks.store import schema as t
from airflow_copyleaks.store.clock import DatabaseClock
from airflow_copyleaks.store.engine import chunks, utcnow

# A scan's refused deliveries count at most once in this long: a burst of them (Copyleaks' own
# retries, or requests replaying a stale credential) makes its waits resend once, not each time.
DELIVERY_FAILURE_EVERY_SECONDS = 60.0


class Coordination(DatabaseClock):
    """The cross-process half of :class:`~airflow_copyleaks.store.ScanStore`."""

    # ------------------------------------------------------------------ token cache

    def get_token(self, account_id: str) -> tuple[bytes, datetime] | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(t.token.c.ciphertext, t.token.c.expires_at).where(t.token.c.account_id == account_id)
            ).first()
        if row is None:
            return None
        return bytes(row.ciphertext), row.expires_at

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

    # ------------------------------------------------------------------ leases

    def try_acquire_lease(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take ``name`` for ``ttl_seconds`` if it is free, expired, or already ours (atomic)."""
        now = self.db_now()
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

    # ------------------------------------------------------------------ login blocks

    def record_login_block(self, account_id: str, status: int, cause: str, lifts_at: datetime) -> None:
        """Remember that Copyleaks refused a login (``status``, ``cause``) until ``lifts_at``."""
        values = {"status": status, "cause": cause[:500], "lifts_at": lifts_at, "recorded_at": utcnow()}
        stmt = self._insert(t.login_block).values(account_id=account_id, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["account_id"], set_=values)
        with self._write() as conn:
            conn.execute(stmt)

    def get_login_block(self, account_id: str) -> tuple[int, str, datetime] | None:
        """The refusal in force for ``account_id``: (status, cause, lifts_at), or None."""
        table = t.login_block
        with self._read() as conn:
            row = conn.execute(
                sa.select(table.c.status, table.c.cause, table.c.lifts_at).where(
                    table.c.account_id == account_id, table.c.lifts_at > self.db_now()
                )
            ).first()
        return None if row is None else (int(row.status), str(row.cause), row.lifts_at)

    def clear_login_block(self, account_id: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.login_block).where(t.login_block.c.account_id == account_id))

    # ------------------------------------------------------------------ failed deliveries

    def note_delivery_failures(self, scan_ids: Iterable[str]) -> None:
        """The receiver refused deliveries for ``scan_ids`` (now, on the database's clock); ids
        of scans this store does not know are ignored, and so is a scan whose last refusal is
        recent (each new one would make its waits resend again: a burst of refusals is one)."""
        now = self.db_now()
        column = t.scan.c.delivery_failed_at
        recent = column >= now - timedelta(seconds=DELIVERY_FAILURE_EVERY_SECONDS)
        with self._write() as conn:
            for chunk in chunks(sorted(set(scan_ids))):
                stale = sa.or_(column.is_(None), ~recent)
                conn.execute(sa.update(t.scan).where(t.scan.c.scan_id.in_(chunk), stale).values(delivery_failed_at=now))

    def delivery_failures(self, scan_ids: Sequence[str]) -> dict[str, float]:
        """When a delivery for each of ``scan_ids`` was last refused (epoch seconds), for those
        that had one."""
        found: dict[str, float] = {}
        column = t.scan.c.delivery_failed_at
        with self._read() as conn:
            for chunk in chunks(list(dict.fromkeys(scan_ids))):
                query = sa.select(t.scan.c.scan_id, column).where(t.scan.c.scan_id.in_(chunk), column.is_not(None))
                found.update((row.scan_id, row.delivery_failed_at.timestamp()) for row in conn.execute(query))
        return found

    # ------------------------------------------------------------------ request slots

    def reserve_request_slot(self, name: str, interval_seconds: float) -> float:
        """Reserve the next send time on schedule ``name``; returns it (epoch seconds).

        Slots are ``interval_seconds`` apart whoever asks: one upsert, atomic on SQLite (the
        IMMEDIATE transaction) and on PostgreSQL (the conflicting row is locked). The schedule
        runs on the database's clock; the answer is on this host's.
        """
        offset = self.clock_offset()
        now = self.clock() + offset
        table = t.rate_schedule
        start = sa.case((table.c.next_at > now, table.c.next_at), else_=now)
        stmt = self._insert(table).values(name=name, next_at=now + interval_seconds)
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={"next_at": start + interval_seconds})
        with self._write() as conn:
            next_at = conn.execute(stmt.returning(table.c.next_at)).scalar_one()
        return float(next_at) - interval_seconds - offset

    def reserve_window_slot(self, name: str, limit: int, window_seconds: float) -> float:
        """Reserve the next send time on schedule ``name`` such that no ``window_seconds`` holds
        more than ``limit`` sends (a sliding window, as Copyleaks counts exports); returns it.

        The ``limit`` latest slots are rows ``name#0`` ... of the schedule table. Every caller first
        bumps the row ``name`` itself, which takes its lock (PostgreSQL) or the write lock
        (SQLite), so reservations run one at a time whichever process asks. Like the request
        schedule it runs on the database's clock; the answer is on this host's.
        """
        offset = self.clock_offset()
        now = self.clock() + offset
        table = t.rate_schedule
        bump = self._insert(table).values(name=name, next_at=1.0)
        bump = bump.on_conflict_do_update(index_elements=["name"], set_={"next_at": table.c.next_at + 1})
        keys = [f"{name}#{i}" for i in range(limit)]
        with self._write() as conn:
            conn.execute(bump)
            taken = dict(conn.execute(sa.select(table.c.name, table.c.next_at).where(table.c.name.in_(keys))).all())
            slot, key = window_slot(now, [(k, taken.get(k)) for k in keys], window_seconds)
            stmt = self._insert(table).values(name=key, next_at=slot)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"next_at": slot}))
        return slot - offset


def window_slot(now: float, slots: list[tuple[str, float | None]], window_seconds: float) -> tuple[float, str]:
    """The next slot after the latest ``slots`` (key, time or None when free), and the key it replaces."""
    times = [when for _, when in slots if when is not None]
    latest = max(times, default=now)
    free = [key for key, when in slots if when is None]
    if free:
        return max(now, latest), free[0]
    key, oldest = min(((k, w) for k, w in slots if w is not None), key=lambda item: item[1])
    return max(now, latest, oldest + window_seconds), key
