"""Leases, request slots and login blocks run on the database's clock, not each host's: a host
whose clock is 30 s off still agrees with the others on what is live."""

from __future__ import annotations

import time
from datetime import timedelta

from airflow_copyleaks.store import ScanStore

SKEW = 30.0


def test_a_host_clock_30_s_behind_still_sees_a_live_lease_as_live(store_url: str) -> None:
    behind = ScanStore(store_url, clock=lambda: time.time() - SKEW)
    on_time = ScanStore(store_url)
    ahead = ScanStore(store_url, clock=lambda: time.time() + SKEW)
    # Taken by the host behind: on its clock the lease ends 10 s before real now, on the database's in 20 s.
    assert behind.try_acquire_lease("login:acct", "behind", 20)
    assert not on_time.try_acquire_lease("login:acct", "on-time", 20)
    assert not ahead.try_acquire_lease("login:acct", "ahead", 20)
    # Taken on time: the host ahead (which reads it as 10 s past its end on its own clock) waits too.
    assert on_time.try_acquire_lease("login:other", "on-time", 20)
    assert not ahead.try_acquire_lease("login:other", "ahead", 20)
    # An expired lease is free for everyone, whatever their clocks say.
    assert behind.try_acquire_lease("login:short", "behind", 0)
    assert ahead.try_acquire_lease("login:short", "ahead", 20)
    for store in (behind, on_time, ahead):
        store.dispose()


def test_request_slots_stay_spaced_between_hosts_whose_clocks_differ(store_url: str) -> None:
    behind = ScanStore(store_url, clock=lambda: time.time() - SKEW)
    on_time = ScanStore(store_url)
    first = behind.reserve_request_slot("rate:skew", 1.0)  # on the behind host's clock
    second = on_time.reserve_request_slot("rate:skew", 1.0)  # on the real clock
    # On one clock the second slot comes a whole interval after the first (not at the same time).
    assert second - (first + SKEW) >= 1.0 - 0.05
    for store in (behind, on_time):
        store.dispose()


def test_a_login_block_lifts_on_the_database_clock(store_url: str) -> None:
    ahead = ScanStore(store_url, clock=lambda: time.time() + SKEW)
    on_time = ScanStore(store_url)
    on_time.record_login_block("acct", 429, "too many logins", on_time.db_now() + timedelta(seconds=20))
    assert ahead.get_login_block("acct") is not None  # still in force, though past on the host ahead
    for store in (ahead, on_time):
        store.dispose()
