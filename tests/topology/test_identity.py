"""The store's identity: random, made with its schema, shown by the receiver and in task logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.webhooks.app import create_app
from tests.fixtures import WEBHOOK_SECRET, context_for


def test_every_process_of_one_store_sees_one_identity_and_another_store_another(store_url: str, tmp_path: Path) -> None:
    first = ScanStore(store_url)
    again = ScanStore(store_url)  # another process opening the same database
    assert len(first.store_id()) == 32 and first.store_id() == again.store_id()
    other = ScanStore(f"sqlite:///{tmp_path / 'other.db'}")
    assert other.store_id() != first.store_id()


def test_the_receiver_health_answer_names_its_store(store_url: str, tmp_path: Path) -> None:
    store = ScanStore(store_url)
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=tmp_path.as_uri())
    with TestClient(app) as client:
        health = client.get("/health").json()
    assert health["store_id"] == store.store_id(), health


def test_a_task_logs_the_store_it_uses(store_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_copyleaks.sensors.scan import CopyleaksScanSensor

    store = ScanStore(store_file)
    store.register_scan("af-done", kind="text", action="scan", sandbox=True, meta={})
    store.record_event("af-done", "completed", {"status": 0}, raw_body=b"{}")
    sensor = CopyleaksScanSensor(task_id="wait", scan_ids=["af-done"], store_url=store_file, deferrable=True)
    sensor.execute(context_for(sensor))
    out = capsys.readouterr().out  # a task's log goes through Airflow's structlog, to stdout here
    assert f"store id {store.store_id()}" in out, out


@pytest.mark.asyncio
async def test_a_trigger_logs_the_store_it_reads(store_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    store = ScanStore(store_file)
    store.register_scan("af-done", kind="text", action="scan", sandbox=True, meta={})
    store.record_event("af-done", "completed", {"status": 0}, raw_body=b"{}")
    gen: Any = CopyleaksScanTrigger(["af-done"], store_url=store_file, resend_after_seconds=0).run()
    event = await gen.__anext__()
    await gen.aclose()
    assert event.payload["status"] == "success"
    out = capsys.readouterr().out
    assert f"store id {store.store_id()}" in out, out
