"""Resending is one service per triggerer event loop: backoff per scan, a budget per connection.

Scans here last seconds of real time: the emulator's scan durations are in emulated minutes on a
time scale the tests speed up, and the resend settings are shrunk to match.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger
from tests.fixtures import context_for
from tests.scans.conftest import TEXT

pytestmark = pytest.mark.asyncio


def submit(store_file: str, count: int) -> list[str]:
    docs = [{"key": f"doc{n}", "text": f"{TEXT} Copy {n}."} for n in range(count)]
    op = CopyleaksSubmitOperator(task_id="submit", documents=docs, store_url=store_file)
    return list(op.execute(context_for(op))["scan_ids"])


def resends(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"].endswith("/webhooks/resend")]


async def wait_all(triggers: list[CopyleaksScanTrigger], timeout: float) -> list[dict[str, Any]]:
    gens = [t.run() for t in triggers]
    try:
        events = await asyncio.wait_for(asyncio.gather(*(g.__anext__() for g in gens)), timeout)
    finally:
        for g in gens:
            await g.aclose()
    return [dict(e.payload) for e in events]


async def test_a_scan_still_running_is_resent_with_growing_gaps(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    # A 4-emulated-minute scan at 60x lasts 4 s; the expected duration is set to 0.5 s, too short.
    copyleaks_emulator.set_config(scan_duration_minutes=4, time_scale=60)
    [scan_id] = submit(store_file, 1)
    trigger = CopyleaksScanTrigger([scan_id], store_url=store_file, poll_interval=0.05, resend_after_seconds=0.5)
    [event] = await wait_all([trigger], timeout=30)
    assert event["status"] == "success", event
    # A resend every 0.5 s of silence would be 7 or 8 over 4 s; doubling gaps (0.5, 1, 2) at most 3.
    calls = resends(copyleaks_emulator)
    assert 1 <= len(calls) <= 3, calls
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(calls)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps


async def test_many_waiting_scans_share_one_resend_budget(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__RESEND_BUDGET_PER_MINUTE", "6")
    copyleaks_emulator.set_config(scan_duration_minutes=3, time_scale=60)  # 3 s
    scan_ids = submit(store_file, 20)
    triggers = [
        CopyleaksScanTrigger([sid], store_url=store_file, poll_interval=0.05, resend_after_seconds=0.2)
        for sid in scan_ids
    ]
    events = await wait_all(triggers, timeout=60)
    assert {e["status"] for e in events} == {"success"}
    # 20 silent scans, due every 0.2 s: a budget of 6 a minute allows 6 (plus what refills in ~3 s).
    assert len(resends(copyleaks_emulator)) <= 7, len(resends(copyleaks_emulator))


async def test_healthy_webhooks_of_scans_longer_than_the_expected_duration_get_no_resend(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    copyleaks_emulator.set_config(scan_duration_minutes=2, time_scale=60)  # 2 s
    scan_ids = submit(store_file, 5)
    triggers = [
        CopyleaksScanTrigger([sid], store_url=store_file, poll_interval=0.05, resend_after_seconds=30)
        for sid in scan_ids
    ]
    events = await wait_all(triggers, timeout=30)
    assert {e["status"] for e in events} == {"success"}
    assert resends(copyleaks_emulator) == []


async def test_slow_resend_calls_never_hold_back_the_store_reads_of_other_waits(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    import json

    from airflow_copyleaks.store import get_store

    store = get_store(store_file)
    CopyleaksHook(scan_conn).get_credits()  # the token is cached: resends need no login
    silent = [f"af-silent-{n:02d}" for n in range(12)]  # more than the default thread pool holds
    for sid in [*silent, "af-unrelated"]:
        store.register_scan(sid, kind="text", action="scan", sandbox=True, meta={})
    # Copyleaks is slow on every resend (then answers 404: it never saw these scans).
    copyleaks_emulator.add_fault("/v3/scans/", count=len(silent), kind="delay", delay_seconds=5)
    kwargs = {"store_url": store_file, "poll_interval": 0.05}
    waits = {sid: CopyleaksScanTrigger([sid], resend_after_seconds=0.05, **kwargs).run() for sid in silent}
    waits["af-unrelated"] = CopyleaksScanTrigger(["af-unrelated"], resend_after_seconds=3600, **kwargs).run()
    tasks = {sid: asyncio.ensure_future(gen.__anext__()) for sid, gen in waits.items()}
    try:
        await asyncio.sleep(1.0)  # the resends are sent and hang in Copyleaks
        payload = {"status": 0, "scannedDocument": {"credits": 1, "totalWords": 10}}
        await asyncio.to_thread(
            store.record_event, "af-unrelated", "completed", payload, raw_body=json.dumps(payload).encode()
        )
        event = await asyncio.wait_for(tasks["af-unrelated"], 30)
        assert event.payload["status"] == "success"
        # Woken while every slow resend was still waiting for its answer.
        assert not any(tasks[sid].done() for sid in silent), [sid for sid in silent if tasks[sid].done()]
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for gen in waits.values():
            await gen.aclose()


async def test_a_scan_far_slower_than_its_siblings_is_resent_before_the_expected_duration(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    # One status webhook is lost; the expected duration (120 s) is far longer than these scans
    # take. Once its siblings finished, twice their usual duration is the sign of a lost webhook.
    copyleaks_emulator.add_webhook_fault("drop", count=1)
    scan_ids = submit(store_file, 8)
    triggers = [
        CopyleaksScanTrigger([sid], store_url=store_file, poll_interval=0.05, resend_after_seconds=120)
        for sid in scan_ids
    ]
    events = await wait_all(triggers, timeout=30)
    assert {e["status"] for e in events} == {"success"}
    assert len(resends(copyleaks_emulator)) == 1
