"""On PostgreSQL, event inserts do not wait for each other, and the watchers' cursor never passes
an event whose transaction is still in flight (it would never see that event)."""

from __future__ import annotations

import threading
from typing import Any

from airflow_copyleaks.store import ScanStore


def test_an_insert_in_flight_neither_blocks_others_nor_is_skipped_by_the_cursor(postgres_server: Any) -> None:
    url = postgres_server.create_database("event_order")
    slow, other, reader = ScanStore(url), ScanStore(url), ScanStore(url)
    reader.record_event("before", "indexed", {"status": 3}, raw_body=b"0")
    start = reader.latest_event_id()
    done: list[bool] = []
    with slow._write() as conn:
        # A delivery whose transaction is still open (a slow store write): its id is drawn first.
        assert slow._record_event_in(conn, "a-slow", "indexed", {"status": 3}, raw_body=b"a")
        writer = threading.Thread(
            target=lambda: done.append(other.record_event("b-fast", "indexed", {"status": 3}, raw_body=b"b"))
        )
        writer.start()
        writer.join(60)
        assert done == [True]  # the second delivery did not queue behind the first
        assert other.count_events("b-fast") == 1  # and it is committed
        # b-fast's id is above a-slow's, which is not committed yet: a cursor must not pass it.
        assert reader.events_after(start) == []
        assert reader.latest_event_id() == start
    followed = reader.events_after(start)
    assert [e.scan_id for e in followed] == ["a-slow", "b-fast"]
    assert followed[0].id < followed[1].id
    for store in (slow, other, reader):
        store.dispose()


def test_a_duplicate_in_flight_leaves_no_gap_that_stops_the_cursor(postgres_server: Any) -> None:
    """A duplicate delivery draws an id and stores nothing: the cursor goes past the unused id."""
    url = postgres_server.create_database("event_order_duplicates")
    store = ScanStore(url)
    assert store.record_event("s", "indexed", {"status": 3}, raw_body=b"x")
    assert not store.record_event("s", "indexed", {"status": 3}, raw_body=b"x")
    assert store.record_event("t", "indexed", {"status": 3}, raw_body=b"y")
    assert [e.scan_id for e in store.events_after(0)] == ["s", "t"]
    assert store.latest_event_id() == store.events_after(0)[-1].id
    store.dispose()
