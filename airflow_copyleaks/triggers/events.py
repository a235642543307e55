"""DAGs that run when a scan completes: an event trigger for Airflow's asset watchers.

::

    from airflow.sdk import Asset, AssetWatcher
    from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger

    flagged = Asset(
        "copyleaks://completions/flagged",
        watchers=[AssetWatcher(name="flagged", trigger=CopyleaksScanCompletedTrigger(min_score=30))],
    )

Every completion the receiver records (``completed``, ``error``, ``indexed``), for a scan a task
submitted or one submitted from outside Airflow with the receiver's webhook URL, becomes one asset
event if it passes the trigger's filters. The trigger reads the store through the process's shared
completion feed (:mod:`~airflow_copyleaks.triggers.completion_feed`) and keeps a watermark in the
store, so a triggerer restart neither loses nor replays completions.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import math
import re
import time
from collections.abc import AsyncIterator, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_copyleaks import config
from airflow_copyleaks.masking import mask_url_password
from airflow_copyleaks.triggers import completion_feed as feed
from airflow_copyleaks.triggers.completion_feed import FeedBatch, Reader

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.store.watermarks import Completion

STATUSES = ("completed", "error", "indexed")
PAYLOAD_MAX = 512  # Copyleaks' limit on developerPayload
KEY_MAX = 128  # the watermark table's key column
SAVE_EVERY_SECONDS = 60.0  # without shared streams: how often a quiet watcher saves how far it read


@dataclass(frozen=True)
class CompletionFilter:
    """Which completions a watcher turns into asset events (every condition must hold).

    :param statuses: Final statuses that count (``completed``, ``error``, ``indexed``).
    :param min_score: Lowest aggregated score (percent) of a completed scan.
    :param developer_payload: The exact developer payload.
    :param developer_payload_pattern: A regular expression the whole developer payload matches.
    :param copyleaks_conn_id: The connection the submitting task used.
    :param account: The Copyleaks account (login email) the submitting task used.
    :param scan_id_prefix: How the scan id starts.
    """

    statuses: tuple[str, ...]
    min_score: float | None = None
    developer_payload: str | None = None
    developer_payload_pattern: str | None = None
    copyleaks_conn_id: str | None = None
    account: str | None = None
    scan_id_prefix: str | None = None

    def __post_init__(self) -> None:
        unknown = sorted(set(self.statuses) - set(STATUSES))
        if not self.statuses or unknown:
            raise ValueError(f"statuses: {unknown or 'empty'} not allowed; choose among {list(STATUSES)}")
        if self.min_score is not None and not (math.isfinite(self.min_score) and 0 <= self.min_score <= 100):
            raise ValueError(f"min_score: {self.min_score} is not a percentage between 0 and 100")
        for name in ("developer_payload", "developer_payload_pattern"):
            value = getattr(self, name)
            if value is not None and len(value) > PAYLOAD_MAX:
                raise ValueError(f"{name}: {len(value)} characters, more than Copyleaks' {PAYLOAD_MAX}")
        if self.developer_payload_pattern is not None:
            try:
                re.compile(self.developer_payload_pattern)
            except re.error as err:
                raise ValueError(f"developer_payload_pattern: not a regular expression ({err})") from None

    def matches(self, completion: Completion) -> bool:
        if completion.status not in self.statuses:
            return False
        if self.min_score is not None and (completion.score is None or completion.score < self.min_score):
            return False
        payload = completion.developer_payload
        if self.developer_payload is not None and payload != self.developer_payload:
            return False
        if self.developer_payload_pattern is not None and (
            payload is None or re.fullmatch(self.developer_payload_pattern, payload) is None
        ):
            return False
        meta = completion.scan_meta
        if self.copyleaks_conn_id is not None and meta.get("conn_id") != self.copyleaks_conn_id:
            return False
        if self.account is not None and str(meta.get("account") or "").lower() != self.account.lower():
            return False
        return self.scan_id_prefix is None or completion.scan_id.startswith(self.scan_id_prefix)

    def digest(self) -> str:
        text = json.dumps(self.__dict__, sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:40]


class CopyleaksScanCompletedTrigger(BaseEventTrigger):
    """Yield one event per scan completion recorded in the ScanStore that passes the filters.

    For ``AssetWatcher``: each event becomes an asset event whose extra carries ``scan_id``,
    ``status``, ``score``, ``developer_payload``, ``error`` and ``event_id``. A watcher started for
    the first time begins with completions arriving from then on.

    :param statuses: Final statuses that count: ``completed`` (default), ``error``, ``indexed``.
    :param min_score: Only completed scans whose aggregated score (percent) is at least this.
    :param developer_payload: Only completions carrying exactly this developer payload.
    :param developer_payload_pattern: Only completions whose developer payload fully matches this
        regular expression.
    :param copyleaks_conn_id: Only scans submitted by tasks through this connection (scans from
        outside Airflow have none and never match).
    :param account: Only scans submitted by tasks with this Copyleaks account (login email, any
        case; scans from outside Airflow never match).
    :param scan_id_prefix: Only scans whose id starts with this (e.g. a CMS plugin's own prefix).
    :param name: Names the watermark; default: a digest of the filters. Give one to keep the
        position when the filters change.
    :param store_url: The ScanStore to read (default: ``[copyleaks] store_url``).
    :param poll_interval: Seconds between reads of the store (default: ``[copyleaks]
        poll_interval_seconds``); one read serves every watcher of the triggerer.
    """

    def __init__(
        self,
        *,
        statuses: str | Sequence[str] = ("completed",),
        min_score: float | None = None,
        developer_payload: str | None = None,
        developer_payload_pattern: str | None = None,
        copyleaks_conn_id: str | None = None,
        account: str | None = None,
        scan_id_prefix: str | None = None,
        name: str | None = None,
        store_url: str | None = None,
        poll_interval: float | None = None,
    ) -> None:
        super().__init__()
        wanted = [statuses] if isinstance(statuses, str) else list(statuses)
        self.filter = CompletionFilter(
            statuses=tuple(dict.fromkeys(s.lower() for s in wanted)),
            min_score=float(min_score) if min_score is not None else None,
            developer_payload=developer_payload,
            developer_payload_pattern=developer_payload_pattern,
            copyleaks_conn_id=copyleaks_conn_id,
            account=account,
            scan_id_prefix=scan_id_prefix,
        )
        if name is not None and not 0 < len(name) <= KEY_MAX - 5:
            raise ValueError(f"name: must be 1 to {KEY_MAX - 5} characters")
        self.name = name
        self.store_url = store_url
        mask_url_password(store_url)  # trigger arguments are printed with the trigger
        if poll_interval is not None and not poll_interval > 0:
            raise ValueError(f"poll_interval: {poll_interval} must be above 0 seconds")
        self.poll_interval = float(poll_interval) if poll_interval is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        f = self.filter
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "statuses": list(f.statuses),
                "min_score": f.min_score,
                "developer_payload": f.developer_payload,
                "developer_payload_pattern": f.developer_payload_pattern,
                "copyleaks_conn_id": f.copyleaks_conn_id,
                "account": f.account,
                "scan_id_prefix": f.scan_id_prefix,
                "name": self.name,
                "store_url": self.store_url,
                "poll_interval": self.poll_interval,
            },
        )

    @property
    def watermark_key(self) -> str:
        """The watermark's row in the store: the watcher's name, or its filters' digest."""
        return f"name:{self.name}" if self.name is not None else f"filter:{self.filter.digest()}"

    def _store_url(self) -> str:
        return self.store_url or config.store_url()

    def _poll(self) -> float:
        return self.poll_interval if self.poll_interval is not None else config.get_float("poll_interval_seconds")

    # ------------------------------------------------------------------ Airflow 3.3 shared streams

    def shared_stream_key(self) -> Hashable | None:
        if not feed.SHARED_STREAMS:
            return None
        return ("airflow_copyleaks.completions", self._store_url())

    @classmethod
    def create_shared_stream_producer(cls, kwargs: dict[str, Any]) -> feed.CompletionProducer:
        trigger = cls(**kwargs)
        stream_key = trigger.shared_stream_key()
        return feed.CompletionProducer(stream_key, trigger._store_url(), trigger._poll())

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        """Events from the shared batches; the producer saves the watermark (see its ``advance``)."""
        store, reader = await self._start()
        registered = feed.readers_of(self.shared_stream_key())
        registered.add(reader)
        try:
            async for batch in shared_stream:
                if reader.first_upto is None:
                    reader.first_upto = batch.upto
                async for event in self._events_of(store, reader, batch):
                    yield event
        finally:
            registered.discard(reader)

    # ------------------------------------------------------------------ without shared streams

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """The triggerer's loop where it has no shared streams (or a test driving the trigger):
        the process's own feed, and the watermark saved by the trigger itself."""
        store, reader = await self._start()
        poll = self._poll()
        saved, saved_at = reader.position, time.monotonic()
        async for batch in feed.feed_for(self._store_url(), poll).stream(poll):
            fired = False
            async for event in self._events_of(store, reader, batch):
                fired = True
                yield event
            # Here the triggerer has taken every event of the batch (it asked for the next one).
            if reader.position > saved and (fired or time.monotonic() - saved_at >= SAVE_EVERY_SECONDS):
                await self._save(store, reader.position)
                saved, saved_at = reader.position, time.monotonic()

    # ------------------------------------------------------------------ shared by both

    async def _start(self) -> tuple[ScanStore, Reader]:
        poll = self._poll()
        store = await feed.open_store(self._store_url(), poll)
        key = self.watermark_key
        position = await feed.retry_while_unreachable(
            lambda: asyncio.to_thread(store.start_watermark, key), "reading the watermark", poll
        )
        self.log.info("Copyleaks completions for watcher %s from event %d on", key, position)
        return store, Reader(key, position)

    async def _events_of(self, store: ScanStore, reader: Reader, batch: FeedBatch) -> AsyncIterator[TriggerEvent]:
        """This watcher's events from one shared batch, its backlog first when it is behind."""
        while reader.position < batch.after:
            start = reader.position
            completions, upto = await feed.retry_while_unreachable(
                functools.partial(asyncio.to_thread, store.completions_after, start),
                "reading the backlog",
                self._poll(),
            )
            for completion in completions:
                if completion.event_id <= batch.after and self.filter.matches(completion):
                    yield self._event(completion)
            if upto <= start:  # PostgreSQL: a writer is publishing an id below the batch's end
                await asyncio.sleep(0.01)
                continue
            reader.position = min(upto, batch.after)
        for completion in batch.completions:
            if completion.event_id > reader.position and self.filter.matches(completion):
                yield self._event(completion)
        reader.position = max(reader.position, batch.upto)

    def _event(self, completion: Completion) -> TriggerEvent:
        self.log.info("Scan %s %s (event %d): asset event", completion.scan_id, completion.status, completion.event_id)
        return TriggerEvent(completion.to_event())

    async def _save(self, store: ScanStore, position: int) -> None:
        key = self.watermark_key
        try:
            await asyncio.to_thread(store.advance_watermarks, {key: position})
        except feed.STORE_UNREACHABLE as err:  # saved with a later batch
            self.log.warning("Copyleaks store unreachable saving watermark %s (%s)", key, type(err).__name__)
