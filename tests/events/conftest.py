"""Fixtures for the event-driven trigger: the real receiver over HTTP writing to a real store
(SQLite file or PostgreSQL), and a way to post Copyleaks' final status webhooks to it as
Copyleaks would (for scans no task registered, as a CMS plugin's scans are)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from airflow_copyleaks.triggers.completion_feed import SHARED_STREAMS
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token
from tests.fixtures import WEBHOOK_SECRET

# Airflow before 3.3 (the floor) has no shared streams to drive the trigger through: there the
# triggerer runs run(), which the other tests here drive; tests/unit/test_event_trigger.py checks
# which of the two paths a trigger takes on the Airflow installed.
collect_ignore = [] if SHARED_STREAMS else ["test_shared_stream.py"]


@dataclass
class Receiver:
    url: str
    store: Any

    def post(self, scan_id: str, status: str = "completed", **payload: Any) -> int:
        """POST the status webhook for ``scan_id`` (a CMS plugin's scan: never registered)."""
        body = {"status": {"completed": 0, "error": 1, "indexed": 3}[status], **payload}
        answer = requests.post(
            f"{self.url}/status/{status}/{quote(scan_id, safe='')}",
            data=json.dumps(body),
            headers={TOKEN_HEADER: webhook_token(WEBHOOK_SECRET, "scan", scan_id), "Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.status_code

    def completed(self, scan_id: str, score: float, payload: str | None = None) -> None:
        body: dict[str, Any] = {"results": {"score": {"aggregatedScore": score}}}
        if payload is not None:
            body["developerPayload"] = payload
        self.post(scan_id, "completed", **body)


def receiver_on(store_url: str, tmp_path: Path) -> Iterator[Receiver]:
    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app

    store = ScanStore(store_url)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir(exist_ok=True)
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=artifacts.as_uri())
    with serve_in_thread(app) as url:
        yield Receiver(url, store)


@pytest.fixture
def receiver(store_url: str, tmp_path: Path) -> Iterator[Receiver]:
    """The receiver on 127.0.0.1, writing to a fresh store of each kind."""
    yield from receiver_on(store_url, tmp_path)


@dataclass
class Running:
    """A trigger run as the triggerer runs one: its events collected as it yields them."""

    task: asyncio.Task[None]
    events: list[dict[str, Any]] = field(default_factory=list)

    async def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        async def enough() -> None:
            while len(self.events) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(enough(), timeout)
        return self.events

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def started(trigger: Any, store: Any, timeout: float = 20) -> None:
    """Until the trigger has its watermark: from then on nothing it should see is missed."""

    async def has_watermark() -> None:
        while await asyncio.to_thread(store.watermark, trigger.watermark_key) is None:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(has_watermark(), timeout)


def start(events: AsyncIterator[Any]) -> Running:
    running: Running

    async def consume() -> None:
        async for event in events:
            running.events.append(dict(event.payload))

    running = Running(asyncio.get_running_loop().create_task(consume()))
    return running
