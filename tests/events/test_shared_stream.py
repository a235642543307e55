"""The trigger in Airflow 3.3's shared streams, driven by Airflow's own SharedStreamManager the way
the triggerer drives it: every trigger event is bound to the raw batch it came from, and the
triggerer confirms it once the asset event is saved. Watermarks move only after that, so a
triggerer that dies before the confirmation replays (nothing is lost) and one that dies after it
does not replay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import pytest
from airflow.triggers.shared_stream import SharedStreamManager

from airflow_copyleaks.store import get_store
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger
from tests.events.conftest import Receiver, started

pytestmark = pytest.mark.asyncio
POLL = 0.05


@dataclass
class Triggerer:
    """The part of Airflow's TriggerRunner that runs shared-stream triggers (run_trigger)."""

    manager: SharedStreamManager = field(default_factory=lambda: SharedStreamManager(ack_timeout=60))
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    unconfirmed: list[int] = field(default_factory=list)
    tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)

    def run(self, trigger_id: int, trigger: CopyleaksScanCompletedTrigger) -> None:
        key: Hashable = trigger.shared_stream_key()
        assert key is not None, "Airflow 3.3 has shared streams: the trigger must use them"
        self.events[trigger_id] = []

        async def run_trigger() -> None:
            stream = self.manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=key)
            try:
                async for event in trigger.filter_shared_stream(stream):
                    seq = self.manager.bind_pending_event(trigger_id=trigger_id, key=key)
                    assert seq is not None, "the stream runs in ack mode"
                    self.events[trigger_id].append(dict(event.payload))
                    self.unconfirmed.append(seq)
            finally:
                await self.manager.unsubscribe(trigger_id, key)

        self.tasks[trigger_id] = asyncio.get_running_loop().create_task(run_trigger())

    def confirm(self) -> None:
        """The supervisor saved the asset events and says so on the next state sync."""
        self.manager.confirm_persisted(self.unconfirmed)
        self.unconfirmed = []

    async def wait_for(self, trigger_id: int, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        async def enough() -> None:
            while len(self.events[trigger_id]) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(enough(), timeout)
        return self.events[trigger_id]

    async def stop(self) -> None:
        """The triggerer process ends (what it had not confirmed is never confirmed)."""
        for task in self.tasks.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.manager.stop_all()


def trigger(store_url: str, **filters: Any) -> CopyleaksScanCompletedTrigger:
    return CopyleaksScanCompletedTrigger(store_url=store_url, poll_interval=POLL, **filters)


async def wait_watermark(store: Any, key: str, at_least: int, timeout: float = 20) -> int:
    async def reached() -> int:
        while (position := store.watermark(key) or 0) < at_least:
            await asyncio.sleep(0.02)
        return position

    return await asyncio.wait_for(reached(), timeout)


async def test_watchers_share_one_poll_and_watermarks_move_after_the_save(receiver: Receiver, store_url: str) -> None:
    store = get_store(store_url)
    triggerer = Triggerer()
    high, low = trigger(store_url, min_score=50), trigger(store_url)
    triggerer.run(1, high)
    triggerer.run(2, low)
    await started(high, store)
    await started(low, store)
    assert len(triggerer.manager._groups) == 1  # both watchers in one shared poll group
    receiver.completed("hi", 80.0)
    receiver.completed("lo", 10.0)
    await triggerer.wait_for(1, 1)
    await triggerer.wait_for(2, 2)
    last = store.feed_position()
    await asyncio.sleep(0.5)  # many polls: without the save's confirmation nothing moves
    assert store.watermark(high.watermark_key) < last and store.watermark(low.watermark_key) < last
    triggerer.confirm()
    await wait_watermark(store, high.watermark_key, last)
    await wait_watermark(store, low.watermark_key, last)
    await triggerer.stop()
    assert [e["scan_id"] for e in triggerer.events[1]] == ["hi"]
    assert [e["scan_id"] for e in triggerer.events[2]] == ["hi", "lo"]


async def test_a_triggerer_dying_before_the_save_replays_and_after_it_does_not(
    receiver: Receiver, store_url: str
) -> None:
    store = get_store(store_url)
    first = Triggerer()
    watcher = trigger(store_url, min_score=50)
    first.run(1, watcher)
    await started(watcher, store)
    receiver.completed("saved", 60.0)
    await first.wait_for(1, 1)
    first.confirm()
    await wait_watermark(store, watcher.watermark_key, store.feed_position())
    receiver.completed("unsaved", 70.0)
    await first.wait_for(1, 2)
    await first.stop()  # died before the supervisor confirmed "unsaved"
    receiver.completed("while-down", 90.0)

    second = Triggerer()
    second.run(1, trigger(store_url, min_score=50))
    events = await second.wait_for(1, 2)
    await asyncio.sleep(0.5)
    second.confirm()
    await wait_watermark(store, watcher.watermark_key, store.feed_position())
    await second.stop()
    assert [e["scan_id"] for e in events] == ["unsaved", "while-down"]  # "saved" is not replayed

    third = Triggerer()
    third.run(1, trigger(store_url, min_score=50))
    await asyncio.sleep(0.8)
    await third.stop()
    assert third.events[1] == []  # everything saved: nothing again
