"""Reliability of the webhook path: the receiver down while Copyleaks delivers, and a bounded soak."""

from __future__ import annotations

import json
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.testing.postgres import free_port
from airflow_copyleaks.testing.serving import serve_in_thread
from airflow_copyleaks.webhooks import urls
from airflow_copyleaks.webhooks.app import create_app
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token
from tests.fixtures import WEBHOOK_SECRET, wait_until

SOAK_DELIVERIES = 20_000
TEXT = (
    "The lifeboat crew practised launching at night twice this month, timing every step from the "
    "first call to the moment the boat cleared the harbour wall."
)


@contextmanager
def receiver_on(port: int, store: ScanStore, artifacts: Path) -> Iterator[None]:
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=artifacts.as_uri())
    with serve_in_thread(app, port=port):
        yield


def test_receiver_down_while_copyleaks_delivers(
    copyleaks_emulator: Any, hook: Any, store_file: str, tmp_path: Path
) -> None:
    """Copyleaks-style retries get the webhook through once the receiver is back; stored once."""
    copyleaks_emulator.set_config(webhook_retry_delays=[0.5, 1, 1, 2, 2, 4], scan_duration_seconds=0.1)
    store = ScanStore(store_file)
    port = free_port()
    webhooks = urls.status_webhook(f"http://127.0.0.1:{port}", "outage-1", WEBHOOK_SECRET)
    hook.submit_text("outage-1", TEXT, {"webhooks": webhooks})
    failed = wait_until(
        lambda: [w for w in copyleaks_emulator.webhooks() if w.get("statusCode") is None and w.get("error")],
        10,
        "a failed delivery while the receiver is down",
    )
    assert failed and store.get_scan("outage-1") is None
    with receiver_on(port, store, tmp_path / "artifacts"):
        scan = wait_until(lambda: store.get_scan("outage-1"), 15, "the retried delivery")
    assert scan.status == "completed"
    assert store.count_events("outage-1") == 1
    assert copyleaks_emulator.stats()["credits_used"] == 1


async def test_soak_20000_deliveries_with_duplicates(tmp_path: Path) -> None:
    """20,000 deliveries, 10% of them duplicates: every unique event stored once, memory flat."""
    store = ScanStore(f"sqlite:///{tmp_path / 'soak.db'}")
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=(tmp_path / "a").as_uri())
    total, unique = SOAK_DELIVERIES, SOAK_DELIVERIES * 9 // 10
    baseline_kb = 0
    # The ASGI transport drives the real app without sockets: the receiver's own cost, not the client's.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as client:
        for n in range(total):
            index = n if n < unique else (n * 7919) % unique  # the last 10% repeat earlier deliveries
            scan_id = f"soak-{index}"
            response = await client.post(
                f"/status/indexed/{scan_id}",
                content=json.dumps({"status": 3, "developerPayload": f"p{index}"}).encode(),
                headers={TOKEN_HEADER: webhook_token(WEBHOOK_SECRET, "scan", scan_id)},
            )
            assert response.status_code == 200
            assert response.json()["stored"] is (n < unique)
            if n == 2_000:
                baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_kb
    assert store.count_events() == unique
    # Peak RSS after 18,000 more deliveries: a receiver that kept requests or responses would grow
    # by tens of MB.
    assert grown_kb < 32 * 1024, f"peak memory grew by {grown_kb / 1024:.1f} MB"
