"""Completions of scans a task submitted (emulator -> receiver -> store), filtered by connection."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.store import get_store
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger
from tests.events.conftest import start, started
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, receiver, scan_conn  # noqa: F401  (fixtures of the scan tests)

pytestmark = pytest.mark.asyncio


async def test_a_task_scan_drives_watchers_of_its_connection_only(scan_conn: str, store_file: str) -> None:  # noqa: F811
    store = get_store(store_file)
    mine = CopyleaksScanCompletedTrigger(
        copyleaks_conn_id="copyleaks_default", store_url=store_file, poll_interval=0.05
    )
    other = CopyleaksScanCompletedTrigger(copyleaks_conn_id="copyleaks_cms", store_url=store_file, poll_interval=0.05)
    running = {"mine": start(mine.run()), "other": start(other.run())}
    await started(mine, store)
    await started(other, store)
    op = CopyleaksSubmitOperator(
        task_id="submit",
        documents=[{"key": "doc", "text": TEXT}],
        store_url=store_file,
        properties={"developerPayload": "post:9"},
    )
    result: Any = await _in_thread(lambda: op.execute(context_for(op)))
    [scan_id] = result["scan_ids"]
    [event] = await running["mine"].wait_for(1, timeout=60)
    for r in running.values():
        await r.stop()
    assert event["scan_id"] == scan_id and event["conn_id"] == "copyleaks_default"
    assert event["developer_payload"] == "post:9" and event["dag_id"] == context_for(op)["ti"].dag_id
    assert running["other"].events == []


async def _in_thread(work: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(work)
