"""CopyleaksScanCompletedTrigger against a real store, fed by the real receiver over HTTP.

The trigger is driven as the triggerer drives it without shared streams (``run()``, events taken
as they come); tests/events/test_shared_stream.py drives it through Airflow 3.3's shared streams.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from airflow_copyleaks.store import get_store
from airflow_copyleaks.triggers import completion_feed
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger
from tests.events.conftest import Receiver, start, started

pytestmark = pytest.mark.asyncio
POLL = 0.05


def trigger(store_url: str, **filters: object) -> CopyleaksScanCompletedTrigger:
    return CopyleaksScanCompletedTrigger(store_url=store_url, poll_interval=POLL, **filters)  # type: ignore[arg-type]


async def quiet(seconds: float = 0.5) -> None:
    """Long enough for several polls: what has not come by then is not coming."""
    await asyncio.sleep(seconds)


async def test_a_completion_from_outside_airflow_becomes_an_event(receiver: Receiver, store_url: str) -> None:
    watcher = trigger(store_url)
    running = start(watcher.run())
    await started(watcher, receiver.store)  # a first start begins at the feed's end
    receiver.completed("cms-post-1", 42.5, payload="cms:post:1")
    [event] = await running.wait_for(1)
    await running.stop()
    assert event["scan_id"] == "cms-post-1" and event["status"] == "completed"
    assert event["score"] == 42.5 and event["developer_payload"] == "cms:post:1"
    assert event["dag_id"] is None  # no task registered it
    assert receiver.store.get_scan("cms-post-1").status == "completed"


async def test_filters_pick_their_completions_from_one_read_per_poll(receiver: Receiver, store_url: str) -> None:
    watchers = {
        "default": trigger(store_url),
        "above_30": trigger(store_url, min_score=30),
        "cms_payload": trigger(store_url, developer_payload_pattern=r"cms:.*"),
        "errors": trigger(store_url, statuses=["error"]),
        "indexed_or_error": trigger(store_url, statuses=["indexed", "error"]),
        "prefix": trigger(store_url, scan_id_prefix="wp-"),
        "by_conn": trigger(store_url, copyleaks_conn_id="copyleaks_cms"),
    }
    running = {name: start(t.run()) for name, t in watchers.items()}
    for t in watchers.values():
        await started(t, receiver.store)
    receiver.completed("wp-low", 10.0, payload="cms:a")
    receiver.completed("wp-high", 30.0)
    receiver.completed("af-high", 80.0, payload="other")
    receiver.post("wp-err", "error", error={"code": 13, "message": "not enough credits"}, developerPayload="cms:b")
    receiver.post("af-idx", "indexed")
    # Copyleaks sent af-high's completion again with another body (a resend): one event still.
    receiver.post("af-high", "completed", results={"score": {"aggregatedScore": 80.0}}, extra=1)
    receiver.completed("wp-last", 5.0)
    await running["default"].wait_for(4)
    await quiet()
    got = {name: [(e["scan_id"], e["status"]) for e in r.events] for name, r in running.items()}
    for r in running.values():
        await r.stop()
    completed = ["wp-low", "wp-high", "af-high", "wp-last"]
    assert got["default"] == [(scan_id, "completed") for scan_id in completed]
    assert got["above_30"] == [("wp-high", "completed"), ("af-high", "completed")]
    assert got["cms_payload"] == [("wp-low", "completed")]
    assert got["errors"] == [("wp-err", "error")]
    assert got["indexed_or_error"] == [("wp-err", "error"), ("af-idx", "indexed")]
    assert got["prefix"] == [("wp-low", "completed"), ("wp-high", "completed"), ("wp-last", "completed")]
    assert got["by_conn"] == []  # scans from outside Airflow have no connection


async def test_many_watchers_cost_one_feed_read_per_poll(receiver: Receiver, store_url: str) -> None:
    watchers = [trigger(store_url, min_score=float(i)) for i in range(40)]
    running = [start(t.run()) for t in watchers]
    for t in watchers:  # each read its watermark (once per start, not per poll)
        await started(t, receiver.store)
    await quiet(0.2)
    store = get_store(store_url)  # the triggers' store: the process's one for that URL
    feed = completion_feed.feed_for(store_url, POLL)
    queries, polls = store.query_count, feed.polls
    await quiet(1.0)
    queries, polls = store.query_count - queries, feed.polls - polls
    for r in running:
        await r.stop()
    assert polls >= 3, polls
    # The feed's read is one transaction of at most four statements (PostgreSQL reads its visible
    # horizon first); forty watchers polling on their own would make forty of them a poll.
    assert queries <= 4 * (polls + 1), (queries, polls)


async def test_a_new_trigger_instance_neither_replays_nor_loses(receiver: Receiver, store_url: str) -> None:
    watcher = trigger(store_url, min_score=50)
    first = start(watcher.run())
    await started(watcher, receiver.store)
    receiver.completed("before-restart", 60.0)
    await first.wait_for(1)
    await quiet(0.2)  # the triggerer asked for the next event: the watermark is saved
    await first.stop()
    receiver.completed("while-down", 70.0)  # no trigger runs: the triggerer is restarting
    receiver.completed("below", 10.0)
    second = start(trigger(store_url, min_score=50).run())
    events = await second.wait_for(1)
    receiver.completed("after-restart", 90.0)
    await second.wait_for(2)
    await quiet()
    await second.stop()
    assert [e["scan_id"] for e in first.events] == ["before-restart"]
    assert [e["scan_id"] for e in events] == ["while-down", "after-restart"]


async def test_a_named_watcher_keeps_its_position_when_its_filters_change(receiver: Receiver, store_url: str) -> None:
    watcher = trigger(store_url, min_score=50, name="takedown")
    first = start(watcher.run())
    await started(watcher, receiver.store)
    receiver.completed("seen", 60.0)
    await first.wait_for(1)
    await quiet(0.2)
    await first.stop()
    receiver.completed("missed-while-down", 45.0)
    second = start(trigger(store_url, min_score=40, name="takedown").run())
    await second.wait_for(1)
    await quiet()
    await second.stop()
    assert [e["scan_id"] for e in second.events] == ["missed-while-down"]


# SQLite writers are serial: its feed's end is always known.
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
async def test_a_first_start_while_a_writer_is_mid_insert_replays_no_history(
    receiver: Receiver, store_url: str
) -> None:
    """PostgreSQL: while a writer has drawn an event id it has not published, the feed's end is
    unknown. A brand-new watcher must wait for it rather than start from the beginning, which
    would turn every past completion into an asset event (one DAG run each)."""
    import sqlalchemy as sa

    from airflow_copyleaks.store import event_order

    for i in range(3):
        receiver.completed(f"history-{i}", 80.0)
    engine = sa.create_engine(store_url)
    stuck = engine.connect()
    stuck.begin()
    # A writer between drawing its id and publishing it (the first step of NEXT_EVENT_ID).
    stuck.execute(sa.text(f"SELECT pg_advisory_xact_lock_shared({event_order.WRITERS}, 0)"))
    watcher = trigger(store_url)
    running = start(watcher.run())
    try:
        # Long enough for the old code's thousand tries to give up and save position 0.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(started(watcher, receiver.store), 8)
        assert receiver.store.watermark(watcher.watermark_key) is None  # no position while unknown
    finally:
        stuck.rollback()
        stuck.close()
        engine.dispose()
    await started(watcher, receiver.store)
    assert receiver.store.watermark(watcher.watermark_key) == receiver.store.feed_position()
    receiver.completed("fresh", 80.0)
    await running.wait_for(1)
    await quiet()
    await running.stop()
    assert [e["scan_id"] for e in running.events] == ["fresh"]
