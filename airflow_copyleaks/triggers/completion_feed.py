"""The triggerer's one reader of scan completions, shared by every event-driven watcher.

Each poll reads the store's completion feed once (``completions_after``) and hands the same
:class:`FeedBatch` to every watcher of the process, whatever their number. Two ways to run it:

- Airflow 3.3+ *shared streams*: the triggerer runs one :class:`CompletionProducer` per store
  and fans its batches out. In its ack mode the triggerer calls :meth:`CompletionProducer.advance`
  only once the asset events the watchers made from a batch are saved in Airflow's database; only
  then do the watchers' watermarks move, so a triggerer that dies loses nothing.
- Older Airflow, or a trigger run on its own: :class:`CompletionFeed`, one asyncio task per store
  per event loop; each watcher saves its own watermark once the triggerer took its events.

A watcher that starts behind the feed (a restart, a long outage) reads its own backlog, from its
saved watermark, once; from then on it only filters the shared batches.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

from airflow_copyleaks.waits import records

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.store.watermarks import Completion

try:  # Airflow 3.3+
    from airflow.triggers.shared_stream import AdvanceItem, SharedStreamProducer

    SHARED_STREAMS = True
except ImportError:  # pragma: no cover - Airflow before 3.3 runs CompletionFeed instead
    SharedStreamProducer = object  # type: ignore[assignment,misc]
    SHARED_STREAMS = False

log = logging.getLogger(__name__)
T = TypeVar("T")
STORE_UNREACHABLE = (OperationalError, InterfaceError)
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class FeedBatch:
    """What one poll found: the completions with an event id in ``(after, upto]``.

    :param after: The feed position the poll started from.
    :param upto: The position it reached (every event up to it was looked at).
    :param completions: The completions in between, oldest first.
    """

    after: int
    upto: int
    completions: tuple[Completion, ...]


@dataclass(eq=False)
class Reader:
    """One watcher reading a feed.

    :param key: Its watermark's key in the store.
    :param position: The feed position up to which it has turned completions into events.
    :param first_upto: ``upto`` of the first shared batch it was given (its backlog, read from its
        watermark, is bound to that batch's acknowledgement).
    """

    key: str
    position: int
    first_upto: int | None = None


async def retry_while_unreachable(action: Callable[[], Awaitable[T]], what: str, first_delay: float) -> T:
    """``action()``, tried again with backoff for as long as the store is unreachable.

    An event-driven watcher has no deadline: it waits for the store and goes on from where it
    was, so nothing that arrived meanwhile is lost.
    """
    delay = max(0.1, first_delay)
    failures = 0
    while True:
        try:
            result = await action()
        except STORE_UNREACHABLE as err:
            failures += 1
            if failures == 1 or delay >= MAX_BACKOFF:
                log.warning("Copyleaks store unreachable while %s (%s); trying again", what, type(err).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        if failures:
            log.info("Copyleaks store answers again (%s) after %d failure(s)", what, failures)
        return result


async def open_store(store_url: str, poll: float) -> ScanStore:
    return await retry_while_unreachable(
        lambda: asyncio.to_thread(records.open_store, store_url), "opening the store", poll
    )


async def poll_batches(store: ScanStore, poll: float) -> AsyncGenerator[FeedBatch, None]:
    """One batch per poll (an empty one when nothing arrived), forever; a long backlog in pages
    without waiting between them."""
    position = await retry_while_unreachable(lambda: asyncio.to_thread(store.settled_position), "starting", poll)
    while True:
        start = position
        completions, upto = await retry_while_unreachable(
            functools.partial(asyncio.to_thread, store.completions_after, start), "reading completions", poll
        )
        yield FeedBatch(start, upto, tuple(completions))
        position = upto
        if upto == start or not completions:
            await asyncio.sleep(poll)


# Readers per shared stream key, per event loop: the producer's advance looks up who read what.
_READERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, set[Reader]]] = (
    weakref.WeakKeyDictionary()
)


def readers_of(stream_key: Hashable) -> set[Reader]:
    return _READERS.setdefault(asyncio.get_running_loop(), {}).setdefault(stream_key, set())


class CompletionProducer(SharedStreamProducer):
    """The shared stream's producer (ack mode): polls the feed, and moves the watermarks of the
    process's readers once what they made of a batch is saved in Airflow's database.

    :param stream_key: The shared stream key of the group (its readers register under it).
    :param store_url: The store to read.
    :param poll_interval: Seconds between reads when nothing new arrived.
    """

    def __init__(self, stream_key: Hashable, store_url: str, poll_interval: float) -> None:
        self.stream_key = stream_key
        self.store_url = store_url
        self.poll_interval = poll_interval
        self._store: ScanStore | None = None
        self._written: dict[str, int] = {}

    async def open_stream(self) -> AsyncIterator[tuple[Any, Any]]:
        self._store = await open_store(self.store_url, self.poll_interval)
        async for batch in poll_batches(self._store, self.poll_interval):
            yield batch, batch.upto

    async def advance(self, batch: Sequence[AdvanceItem]) -> None:
        target = None
        for item in batch:
            if item.outcome.failed or item.outcome.rejected:
                # A reader did not take this batch: its watermark stays, it reads it again later.
                break
            target = int(item.broker_payload)
        if target is None or self._store is None:
            return
        positions: dict[str, int] = {}
        for reader in readers_of(self.stream_key):
            if reader.first_upto is None or reader.first_upto > target:
                continue  # its backlog belongs to a batch not saved yet
            position = min(target, reader.position)
            if self._written.get(reader.key, -1) < position:
                positions[reader.key] = max(position, positions.get(reader.key, -1))
        if not positions:
            return
        try:
            await asyncio.to_thread(self._store.advance_watermarks, positions)
        except STORE_UNREACHABLE as err:  # the next batch's advance writes them
            log.warning("Copyleaks store unreachable saving watermarks (%s); later", type(err).__name__)
            return
        self._written.update(positions)


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue[FeedBatch] = field(default_factory=asyncio.Queue)


class CompletionFeed:
    """The per-process feed where Airflow has no shared streams: one poll task per store, batches
    copied to every subscriber's queue.

    :param store_url: The store to read.
    :param poll_interval: Seconds between reads; the fastest subscriber lowers it.
    """

    def __init__(self, store_url: str, poll_interval: float) -> None:
        self.store_url = store_url
        self.poll_interval = poll_interval
        self.subscribers: set[_Subscriber] = set()
        self.polls = 0
        self._task: asyncio.Task[None] | None = None

    async def stream(self, poll_interval: float) -> AsyncIterator[FeedBatch]:
        sub = _Subscriber()
        self.subscribers.add(sub)
        self.poll_interval = min(self.poll_interval, poll_interval)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="copyleaks-completion-feed")
        try:
            while True:
                yield await sub.queue.get()
        finally:
            self.subscribers.discard(sub)

    async def _run(self) -> None:
        batches = poll_batches(await open_store(self.store_url, self.poll_interval), self.poll_interval)
        try:
            async for batch in batches:
                self.polls += 1
                for sub in list(self.subscribers):
                    sub.queue.put_nowait(batch)
                if not self.subscribers:
                    return  # nobody reads any more: a new subscriber starts a new task
        finally:
            await batches.aclose()


_FEEDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, CompletionFeed]] = weakref.WeakKeyDictionary()


def feed_for(store_url: str, poll_interval: float) -> CompletionFeed:
    per_loop = _FEEDS.setdefault(asyncio.get_running_loop(), {})
    feed = per_loop.get(store_url)
    if feed is None:
        feed = per_loop[store_url] = CompletionFeed(store_url, poll_interval)
    return feed
