"""Completions of scans a task submitted (emulator -> receiver -> store), filtered by connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.store import get_store
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger
from tests.events.conftest import start, started
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, receiver, scan_conn  # noqa: F401  (fixtures of the scan tests)

pytestmark = pytest.mark.asyncio


async def test_a_task_scan_drives_watchers_of_its_connection_and_account_only(
    scan_conn: str,  # noqa: F811
    store_file: str,
    copyleaks_emulator: Any,
) -> None:
    store = get_store(store_file)

    def watcher(**only: str) -> CopyleaksScanCompletedTrigger:
        return CopyleaksScanCompletedTrigger(store_url=store_file, poll_interval=0.05, **only)  # type: ignore[arg-type]

    watchers = {
        "conn": watcher(copyleaks_conn_id="copyleaks_default"),
        "account": watcher(account=copyleaks_emulator.email.upper()),
        "other_conn": watcher(copyleaks_conn_id="copyleaks_cms"),
        "other_account": watcher(account="someone-else@example.com"),
    }
    running = {name: start(t.run()) for name, t in watchers.items()}
    for t in watchers.values():
        await started(t, store)
    op = CopyleaksSubmitOperator(
        task_id="submit",
        documents=[{"key": "doc", "text": TEXT}],
        store_url=store_file,
        properties={"developerPayload": "post:9"},
    )
    result: Any = await _in_thread(lambda: op.execute(context_for(op)))
    [scan_id] = result["scan_ids"]
    [event] = await running["conn"].wait_for(1, timeout=60)
    [by_account] = await running["account"].wait_for(1, timeout=60)
    await asyncio.sleep(0.5)
    for r in running.values():
        await r.stop()
    assert event["scan_id"] == by_account["scan_id"] == scan_id and event["conn_id"] == "copyleaks_default"
    assert event["developer_payload"] == "post:9" and event["dag_id"] == context_for(op)["ti"].dag_id
    assert running["other_conn"].events == [] and running["other_account"].events == []


async def _in_thread(work: Any) -> Any:
    return await asyncio.to_thread(work)
