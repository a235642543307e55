"""A delivery the receiver refused is a webhook certainly lost: the scan is resent at once, not
after its expected duration (which for real scans is an hour)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.triggers.resends import ResendService
from tests.fixtures import connection_json, wait_until
from tests.topology.test_resends import resends, submit

EXPECTED = 3600.0  # the scans' expected duration: silence alone resends nothing during the test


@pytest.fixture
def refusing_receiver(
    copyleaks_emulator: Any, store_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A receiver whose secret changed without keeping the old one: every delivery gets 401."""
    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app

    app = create_app(
        store=ScanStore(store_file), secret="a-new-secret-nobody-signed-with-0123", artifacts_url=tmp_path.as_uri()
    )
    with serve_in_thread(app) as url:
        monkeypatch.setenv(
            "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
            connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                            webhook_base_url=url),
        )  # fmt: skip
        TokenCache.clear_memory()
        yield url
        TokenCache.clear_memory()


@pytest.mark.asyncio
async def test_a_refused_delivery_makes_its_scan_due_for_a_resend_at_once(
    refusing_receiver: str, store_file: str, copyleaks_emulator: Any
) -> None:
    [scan_id] = submit(store_file, 1)
    await asyncio.to_thread(copyleaks_emulator.wait_for_status, scan_id)
    refused = [w for w in copyleaks_emulator.webhooks() if w["scanId"] == scan_id]
    assert refused and {w["statusCode"] for w in refused} == {401}
    store = ScanStore(store_file)
    service = ResendService(store, "copyleaks_default", 60)
    service.watch(scan_id, store.get_scan(scan_id).created_at.timestamp(), EXPECTED, lambda: None)
    try:
        await asyncio.to_thread(wait_until, lambda: resends(copyleaks_emulator), 20, "a resend after the 401")
        await asyncio.sleep(2)
        # Its resent webhook is refused again, yet no storm: the next early resend backs off.
        assert len(resends(copyleaks_emulator)) == 1
    finally:
        await service.close()


@pytest.mark.asyncio
async def test_deliveries_refused_while_the_store_was_down_make_their_scan_due_once_it_is_back(
    copyleaks_emulator: Any, store_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store is down through all of Copyleaks' retries (503 each): once the store answers
    again, the refusals the receiver remembered are written, and the scan is resent at once."""
    import httpx

    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app
    from airflow_copyleaks.webhooks.gate import StoreGate
    from tests.fixtures import WEBHOOK_SECRET

    store = ScanStore(store_file)
    down = True

    def opener() -> ScanStore:
        if down:
            raise ConnectionError("the store does not answer")
        return store

    gate = StoreGate(opener=opener, retry_after=0.1)
    copyleaks_emulator.set_config(webhook_retry_delays=[0.1, 0.1])
    app = create_app(secret=WEBHOOK_SECRET, artifacts_url=tmp_path.as_uri(), gate=gate)
    with serve_in_thread(app) as url:
        monkeypatch.setenv(
            "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
            connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                            webhook_base_url=url),
        )  # fmt: skip
        TokenCache.clear_memory()
        [scan_id] = submit(store_file, 1)
        await asyncio.to_thread(copyleaks_emulator.wait_for_status, scan_id)

        def all_attempts() -> list[dict[str, Any]] | None:
            tried = [w for w in copyleaks_emulator.webhooks() if w["scanId"] == scan_id and w["kind"] == "status"]
            return tried if len(tried) >= 3 else None

        attempts = await asyncio.to_thread(wait_until, all_attempts, 10, "Copyleaks' three delivery attempts")
        down = False
        await asyncio.sleep(0.2)  # past the remembered outage
        async with httpx.AsyncClient() as client:  # the next use of the store: here a health check
            assert (await client.get(f"{url}/health")).status_code == 200
        service = ResendService(store, "copyleaks_default", 60)
        service.watch(scan_id, store.get_scan(scan_id).created_at.timestamp(), EXPECTED, lambda: None)
        try:
            await asyncio.to_thread(wait_until, lambda: resends(copyleaks_emulator), 20, "a resend after the 503s")
        finally:
            await service.close()
        TokenCache.clear_memory()
    assert {w["statusCode"] for w in attempts} == {503}
