"""CopyleaksScanTrigger against real webhooks: emulator -> receiver -> store -> trigger.

Scans are submitted with the submit operator (no wait), then the trigger is driven with
``trigger.run().__anext__()`` as the triggerer would.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger
from tests.fixtures import context_for
from tests.scans.conftest import TEXT

pytestmark = pytest.mark.asyncio


def submit(store_file: str, key: str = "doc", **kwargs: Any) -> str:
    op = CopyleaksSubmitOperator(
        task_id=f"submit_{key}", documents=[{"key": key, "text": TEXT}], store_url=store_file, **kwargs
    )
    result = op.execute(context_for(op))
    return str(result["scan_ids"][0])


async def first_event(trigger: CopyleaksScanTrigger, timeout: float = 15) -> dict[str, Any]:
    gen = trigger.run()
    try:
        event = await asyncio.wait_for(gen.__anext__(), timeout)
    finally:
        await gen.aclose()
    return dict(event.payload)


def resend_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"].endswith("/webhooks/resend")]


async def test_trigger_wakes_when_the_completed_webhook_arrives(scan_conn: str, store_file: str) -> None:
    scan_id = submit(store_file)
    trigger = CopyleaksScanTrigger([scan_id], deadline=time.time() + 30, store_url=store_file, poll_interval=0.05)
    event = await first_event(trigger)
    assert event["status"] == "success", event
    assert event["scans"][scan_id]["status"] == "completed"
    assert event["failed"] == [] and event["pending"] == []


async def test_error_webhook_ends_the_wait_with_code_and_message(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    copyleaks_emulator.set_config(credits=0)  # only the server can refuse this: nothing to catch before sending
    scan_id = submit(store_file)
    event = await first_event(CopyleaksScanTrigger([scan_id], store_url=store_file, poll_interval=0.05))
    assert event["status"] == "error" and event["failed"] == [scan_id]
    error = event["scans"][scan_id]["error"]
    assert error["code"] == 13, error


async def test_deadline_yields_a_timeout_event(scan_conn: str, store_file: str, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.add_webhook_fault("drop", count=5)
    scan_id = submit(store_file)
    trigger = CopyleaksScanTrigger(
        [scan_id], deadline=time.time() + 0.6, store_url=store_file, poll_interval=0.05, resend_after_seconds=0
    )
    event = await first_event(trigger)
    assert event["status"] == "timeout" and event["pending"] == [scan_id]


async def test_unknown_scan_ends_the_wait_with_a_clear_error(scan_conn: str, store_file: str) -> None:
    from airflow_copyleaks.store import get_store

    # Registered in the store but never sent to Copyleaks (a scan the store does not know at all
    # fails before any resend: tests/topology/test_fail_fast.py).
    get_store(store_file).register_scan("af-never-submitted", kind="text", action="scan", sandbox=True, meta={})
    trigger = CopyleaksScanTrigger(
        ["af-never-submitted"],
        store_url=store_file,
        poll_interval=0.05,
        resend_after_seconds=0.1,
        deadline=time.time() + 10,
    )
    event = await first_event(trigger)
    assert event["status"] == "error"
    assert "does not know" in event["message"] and "af-never-submitted" in event["message"]


async def test_silent_scan_gets_a_resend_and_a_restarted_trigger_does_not_resend_at_once(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    # The status webhook and the first resend are both lost.
    copyleaks_emulator.add_webhook_fault("drop", count=2)
    scan_id = submit(store_file)
    copyleaks_emulator.wait_for(lambda: (copyleaks_emulator.scan(scan_id) or {}).get("status") == "completed")
    kwargs = {"deadline": time.time() + 20, "store_url": store_file, "poll_interval": 0.05, "resend_after_seconds": 0.8}
    first = CopyleaksScanTrigger([scan_id], **kwargs)
    gen = first.run()
    task = asyncio.ensure_future(gen.__anext__())
    # Silence counts from the scan's registration, so when the first resend comes depends on how
    # long the submit took; what must hold is that a second one waits for the next period.
    for _ in range(100):
        if resend_calls(copyleaks_emulator):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.4)  # within the 0.8 s period after the first resend
    assert not task.done()
    task.cancel()  # the triggerer stops (restart, or the trigger moves to another triggerer)
    await asyncio.gather(task, return_exceptions=True)
    await gen.aclose()
    assert len(resend_calls(copyleaks_emulator)) == 1

    # Rebuilt from its serialised form, it resumes from the store: no resend before the period ends.
    _path, serialised = first.serialize()
    rebuilt = CopyleaksScanTrigger(**serialised)
    started = time.time()
    event = await first_event(rebuilt)
    assert event["status"] == "success", event
    calls = resend_calls(copyleaks_emulator)
    assert len(calls) == 2
    assert calls[1]["time"] - calls[0]["time"] >= 0.7, calls
    assert time.time() - started < 5


async def test_trigger_wakes_on_a_recorded_event_and_summarises_it(store_file: str) -> None:
    """The receiver's side done by hand: record_event is what it calls for each delivery."""
    import json

    from airflow_copyleaks.store import get_store

    store = get_store(store_file)
    store.register_scan("af-by-hand", kind="text", action="scan", sandbox=True, meta={})
    trigger = CopyleaksScanTrigger(["af-by-hand"], store_url=store_file, poll_interval=0.05, resend_after_seconds=0)
    gen = trigger.run()
    task = asyncio.ensure_future(gen.__anext__())
    await asyncio.sleep(0.2)
    assert not task.done()
    payload = {
        "status": 0,
        "scannedDocument": {"credits": 2, "totalWords": 300},
        "results": {"score": {"aggregatedScore": 42.0}},
    }
    store.record_event("af-by-hand", "completed", payload, raw_body=json.dumps(payload).encode())
    event = (await asyncio.wait_for(task, 5)).payload
    await gen.aclose()
    assert event["status"] == "success"
    assert event["scans"]["af-by-hand"] == {"status": "completed", "credits": 2, "score": 42.0, "total_words": 300}


async def test_many_waiting_triggers_share_one_store_query_per_poll(store_file: str) -> None:
    from airflow_copyleaks.store import get_store

    store = get_store(store_file)
    ids = [f"af-waiting-{n:04d}" for n in range(200)]
    for sid in ids:
        store.register_scan(sid, kind="text", action="scan", sandbox=True, meta={"document_key": sid})
    triggers = [
        CopyleaksScanTrigger(
            [sid], store_url=store_file, poll_interval=0.1, resend_after_seconds=0, deadline=time.time() + 60
        )
        for sid in ids
    ]
    gens = [t.run() for t in triggers]
    tasks = [asyncio.ensure_future(g.__anext__()) for g in gens]
    # Wait until every trigger did its one initial read (on a loaded machine 200 of them take
    # longer than any fixed sleep): from then on the count grows only by the shared polls. A quiet
    # spell before the reads have even begun (a slow start) must not count as settled.
    settle_by = time.monotonic() + 60
    start = previous = store.query_count
    while time.monotonic() < settle_by:
        await asyncio.sleep(0.3)
        grew, previous = store.query_count - previous, store.query_count
        if store.query_count - start >= len(ids) and grew <= 2 * 4:  # initial reads done, then polls only
            break
    else:
        pytest.fail(f"200 triggers never settled into shared polls ({store.query_count - start} queries)")
    before = store.query_count
    await asyncio.sleep(1.0)  # ~10 polls
    during = store.query_count - before
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for g in gens:
        await g.aclose()
    assert not any(t.done() and not t.cancelled() for t in tasks)
    # One events_after per poll for all 200 triggers, not 200 per poll (SQLite counts BEGIN too).
    assert during <= 2 * 12, during


async def test_a_failed_read_of_woken_scans_is_tried_again_not_skipped(
    store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails between reading new events and reading their scans (a PostgreSQL blip):
    the watcher must read those events again next poll, or their triggers would sleep on."""
    import json

    from sqlalchemy.exc import OperationalError

    from airflow_copyleaks.store import get_store
    from airflow_copyleaks.waits import records

    store = get_store(store_file)
    store.register_scan("af-blip", kind="text", action="scan", sandbox=True, meta={})
    trigger = CopyleaksScanTrigger(["af-blip"], store_url=store_file, poll_interval=0.05, resend_after_seconds=0)
    gen = trigger.run()
    task = asyncio.ensure_future(gen.__anext__())
    await asyncio.sleep(0.3)  # subscribed, first read done
    real_get_scans = records.get_scans
    failures = []

    def get_scans_failing_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(args)
            raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))
        return real_get_scans(*args, **kwargs)

    monkeypatch.setattr(records, "get_scans", get_scans_failing_once)
    payload = {"status": 0, "scannedDocument": {"credits": 1}, "results": {"score": {"aggregatedScore": 3.0}}}
    store.record_event("af-blip", "completed", payload, raw_body=json.dumps(payload).encode())
    event = (await asyncio.wait_for(task, 5)).payload
    await gen.aclose()
    assert failures, "the store never failed: the test did not test anything"
    assert event["status"] == "success" and event["scans"]["af-blip"]["status"] == "completed"


async def test_the_export_trigger_waits_out_a_store_blip(store_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from sqlalchemy.exc import OperationalError

    from airflow_copyleaks.store import get_store
    from airflow_copyleaks.triggers.scan import CopyleaksExportTrigger
    from airflow_copyleaks.waits import records

    store = get_store(store_file)
    store.register_export("ex-blip", "af-blip", expected=[])
    real_get_export = records.get_export
    failures: list[Any] = []

    def get_export_failing_twice(*args: Any, **kwargs: Any) -> Any:
        if len(failures) < 2:
            failures.append(args)
            raise OperationalError("SELECT", {}, Exception("the database system is starting up"))
        return real_get_export(*args, **kwargs)

    monkeypatch.setattr(records, "get_export", get_export_failing_twice)
    done = {"completed": True, "tasks": []}
    store.record_export_completed("ex-blip", done, raw_body=json.dumps(done).encode())
    trigger = CopyleaksExportTrigger("ex-blip", scan_id="af-blip", store_url=store_file, poll_interval=0.05,
                                     deadline=time.time() + 30)  # fmt: skip
    gen = trigger.run()
    event = (await asyncio.wait_for(gen.__anext__(), 10)).payload
    await gen.aclose()
    assert len(failures) == 2
    assert event["status"] == "success" and event["export"]["status"] == "completed"


@pytest.mark.parametrize("final", ["indexed", "deleted"])
async def test_a_scan_final_in_another_status_fails_the_wait_at_once(store_file: str, final: str) -> None:
    """A scan that reached a final status other than the one waited for never gets there: the
    trigger ends with an error naming both statuses instead of sleeping to its deadline."""
    from airflow_copyleaks.store import get_store

    store = get_store(store_file)
    scan_id = f"af-final-{final}"
    store.register_scan(scan_id, kind="text", action="scan", sandbox=True, meta={})
    store.record_event(scan_id, final, {"status": 3}, raw_body=b"{}")
    trigger = CopyleaksScanTrigger(
        [scan_id],
        wanted="completed",
        store_url=store_file,
        poll_interval=0.05,
        resend_after_seconds=0,
        deadline=time.time() + 8,
    )
    event = await first_event(trigger, timeout=30)
    assert event["status"] == "error", event
    assert final in event["message"] and "completed" in event["message"], event["message"]
    assert event["pending"] == [] and event["scans"][scan_id]["status"] == final


async def test_a_scan_that_turns_final_in_another_status_wakes_the_waiting_trigger(store_file: str) -> None:
    from airflow_copyleaks.store import get_store

    store = get_store(store_file)
    store.register_scan("af-late-index", kind="text", action="scan", sandbox=True, meta={})
    trigger = CopyleaksScanTrigger(
        ["af-late-index"], store_url=store_file, poll_interval=0.05, resend_after_seconds=0, deadline=time.time() + 8
    )
    gen = trigger.run()
    task = asyncio.ensure_future(gen.__anext__())
    await asyncio.sleep(0.3)
    assert not task.done()
    store.record_event("af-late-index", "indexed", {"status": 3}, raw_body=b"{}")
    event = (await asyncio.wait_for(task, 30)).payload
    await gen.aclose()
    assert event["status"] == "error" and "indexed" in event["message"] and "completed" in event["message"]
