"""An event trigger whose store is unreachable waits and resumes without losing completions.

PostgreSQL of its own (stopped and started here), the receiver over HTTP in front of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_copyleaks.store import get_store
from airflow_copyleaks.testing.postgres import TemporaryPostgres
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger
from tests.events.conftest import Receiver, receiver_on, start, started

pytestmark = pytest.mark.asyncio


@pytest.fixture
def own_postgres() -> Iterator[TemporaryPostgres]:
    server = TemporaryPostgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def outage_receiver(own_postgres: TemporaryPostgres, tmp_path: Path) -> Iterator[Receiver]:
    yield from receiver_on(own_postgres.create_database("outage"), tmp_path)


async def test_store_down_and_back_loses_no_completion(
    own_postgres: TemporaryPostgres, outage_receiver: Receiver
) -> None:
    url = outage_receiver.store.url
    watcher = CopyleaksScanCompletedTrigger(store_url=url, poll_interval=0.2)
    running = start(watcher.run())
    await started(watcher, get_store(url))
    outage_receiver.completed("before", 50.0)
    await running.wait_for(1)
    outage_receiver.completed("just-before-the-outage", 60.0)
    await asyncio.to_thread(own_postgres.stop_server)  # possibly before the trigger read it
    await asyncio.sleep(2.0)  # several failed polls
    assert not running.task.done(), "the trigger must wait for the store, not fail"
    await asyncio.to_thread(own_postgres.start_server)
    outage_receiver.completed("after", 70.0)
    await running.wait_for(3, timeout=60)
    await asyncio.sleep(0.5)
    await running.stop()
    assert [e["scan_id"] for e in running.events] == ["before", "just-before-the-outage", "after"]
