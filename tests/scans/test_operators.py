"""Scan operators and the sensor against the emulator, the receiver and a real store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_copyleaks.exceptions import CopyleaksScanFailed, CopyleaksValidationError
from airflow_copyleaks.operators.credits import CopyleaksCheckCreditsOperator
from airflow_copyleaks.operators.export import CopyleaksExportOperator
from airflow_copyleaks.operators.start import CopyleaksStartOperator
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.scans.properties import Pdf, ScanProperties
from airflow_copyleaks.sensors.scan import CopyleaksScanSensor
from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, submit_calls

OTHER = TEXT.replace("harbour", "railway").replace("contractors", "suppliers")


def submit_op(store_file: str, **kwargs: Any) -> CopyleaksSubmitOperator:
    kwargs.setdefault("documents", [{"key": "a", "text": TEXT}])
    return CopyleaksSubmitOperator(task_id="submit", store_url=store_file, poll_interval=0.05, **kwargs)


def test_deferrable_submit_pushes_ids_then_defers_with_a_deadline(scan_conn: str, store_file: str) -> None:
    op = submit_op(store_file, wait_for_completion=True, deferrable=True, wait_timeout=600)
    ctx = context_for(op)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    trigger = deferred.value.trigger
    assert isinstance(trigger, CopyleaksScanTrigger)
    assert deferred.value.timeout is None  # the trigger's own deadline reports the timeout
    assert trigger.deadline is not None and trigger.deadline > time.time() + 500
    assert ctx["ti"].xcoms["scan_ids"] == trigger.scan_ids  # pushed before defer()
    # Resume as the triggerer would, with the event from the real trigger.
    import asyncio

    event = asyncio.run(_first(trigger))
    result = op.execute_complete(ctx, event=event, **deferred.value.kwargs)
    assert result["status"] == "success"
    # Resumed with the event only (as `airflow dags test` does): the state comes from XCom.
    assert op.execute_complete(ctx, event=event)["items"] == result["items"]
    assert result["items"]["a"]["result"]["status"] == "completed"


async def _first(trigger: CopyleaksScanTrigger) -> dict[str, Any]:
    gen = trigger.run()
    event = await gen.__anext__()
    await gen.aclose()
    return dict(event.payload)


def test_blocking_submit_waits_and_a_cleared_task_neither_resubmits_nor_waits(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    op = submit_op(
        store_file,
        wait_for_completion=True,
        deferrable=False,
        documents=[{"key": "a", "text": TEXT}, {"key": "b", "text": OTHER}],
    )
    first = op.execute(context_for(op))
    assert first["status"] == "success" and len(first["scan_ids"]) == 2
    assert {e["result"]["status"] for e in first["items"].values()} == {"completed"}
    # Cleared and re-run (same run, same task): the store already has the results.
    started = time.monotonic()
    again = submit_op(
        store_file,
        wait_for_completion=True,
        deferrable=True,
        documents=[{"key": "a", "text": TEXT}, {"key": "b", "text": OTHER}],
    )
    second = again.execute(context_for(again))  # no TaskDeferred: nothing to wait for
    assert time.monotonic() - started < 2
    assert second["scan_ids"] == first["scan_ids"]
    assert {e["submission"] for e in second["items"].values()} == {"already_reported"}
    assert len(submit_calls(copyleaks_emulator)) == 2  # one PUT per document, ever


def test_retry_while_the_scan_runs_gets_409_and_goes_on_to_wait(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    copyleaks_emulator.set_config(scan_duration_seconds=1.0)
    op = submit_op(store_file)
    first = op.execute(context_for(op))
    retry = submit_op(store_file, wait_for_completion=True, deferrable=False)
    second = retry.execute(context_for(retry, try_number=2))
    assert second["items"]["a"]["submission"] == "already_submitted"
    assert second["scan_ids"] == first["scan_ids"] and second["status"] == "success"
    assert [c["status"] for c in submit_calls(copyleaks_emulator)] == [201, 409]
    assert copyleaks_emulator.stats()["credits_used"] == second["items"]["a"]["result"]["credits"] > 0


def test_batch_goes_past_a_bad_item_and_reports_it(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.txt")  # inside the test's local_roots, so the read itself fails
    docs = [{"key": "good", "text": TEXT}, {"key": "short", "text": "too short"}, {"key": "x", "path": missing}]
    op = submit_op(store_file, documents=docs, fail_on_item_error=False)
    result = op.execute(context_for(op))
    assert result["items"]["good"]["submission"] == "submitted"
    assert result["items"]["short"]["submission"] == "invalid" and "30 characters" in result["errors"]["short"]
    assert "cannot read" in result["errors"]["x"]
    assert len(submit_calls(copyleaks_emulator)) == 1  # nothing sent for the bad items
    strict = submit_op(store_file, documents=docs)
    with pytest.raises(AirflowFailException, match="2 of 3 item"):
        strict.execute(context_for(strict, run_id="another-run"))


def test_an_empty_batch_is_nothing_to_do_but_none_is_an_error(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    """Nothing new tonight (an upstream task returned []) succeeds without a call; an unresolved
    ``None`` fails clearly."""
    op = submit_op(store_file, documents=[], wait_for_completion=True, deferrable=True)
    result = op.execute(context_for(op))  # no deferral: nothing to wait for
    assert result["scan_ids"] == [] and result["errors"] == {} and result["items"] == {}
    assert copyleaks_emulator.calls() == []
    unresolved = submit_op(store_file, documents=None)
    with pytest.raises(CopyleaksValidationError, match="documents: is empty"):
        unresolved.execute(context_for(unresolved))


def test_mapped_instances_get_their_own_scans(scan_conn: str, store_file: str) -> None:
    ids = set()
    for index in range(3):
        op = submit_op(store_file)
        ids.update(op.execute(context_for(op, map_index=index))["scan_ids"])
    assert len(ids) == 3


def test_error_webhook_fails_the_task_with_the_copyleaks_code(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    copyleaks_emulator.set_config(credits=0)
    op = submit_op(store_file, wait_for_completion=True, deferrable=False)
    with pytest.raises(CopyleaksScanFailed) as failed:
        op.execute(context_for(op))
    assert failed.value.code == 13 and "code 13" in str(failed.value)


def test_budget_stops_before_anything_is_spent(scan_conn: str, store_file: str, copyleaks_emulator: Any) -> None:
    docs = [{"key": "a", "text": TEXT}, {"key": "b", "text": OTHER}]
    fail = CopyleaksCheckCreditsOperator(
        task_id="price", documents=docs, store_url=store_file, poll_interval=0.05, deferrable=False, credit_budget=1
    )
    with pytest.raises(AirflowFailException, match="over the budget of 1"):
        fail.execute(context_for(fail))
    skip = CopyleaksCheckCreditsOperator(
        task_id="price",
        documents=docs,
        store_url=store_file,
        poll_interval=0.05,
        deferrable=False,
        credit_budget=1,
        on_budget_exceeded="skip",
    )
    with pytest.raises(AirflowSkipException):
        skip.execute(context_for(skip))
    assert copyleaks_emulator.stats()["credits_used"] == 0
    assert not [c for c in copyleaks_emulator.calls() if c["path"] == "/v3/scans/start"]


def test_check_credits_start_export_with_artifacts_on_disk(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, receiver: Any
) -> None:
    copyleaks_emulator.add_document("https://news.test/harbour", TEXT, title="Harbour news")
    docs = [{"key": "a", "text": TEXT}, {"key": "b", "text": OTHER}]
    price = CopyleaksCheckCreditsOperator(
        task_id="price",
        documents=docs,
        store_url=store_file,
        poll_interval=0.05,
        deferrable=False,
        credit_budget=100,
        properties=ScanProperties(pdf=Pdf(create=True)),
    )
    priced = price.execute(context_for(price))
    assert priced["total_credits"] == sum(priced["credits"].values()) > 0
    assert copyleaks_emulator.stats()["credits_used"] == 0

    start = CopyleaksStartOperator(
        task_id="start",
        scan_ids=priced,
        store_url=store_file,
        poll_interval=0.05,
        wait_for_completion=True,
        deferrable=False,
    )
    started = start.execute(context_for(start))
    assert sorted(started["started"]) == sorted(priced["scan_ids"]) and started["failed"] == []
    assert {s["status"] for s in started["scans"].values()} == {"completed"}
    # A retried start neither starts again nor reports the started scans as failures.
    again = start.execute(context_for(start, try_number=2))
    assert again["started"] == [] and sorted(again["already_started"]) == sorted(priced["scan_ids"])

    scan_id = priced["items"]["a"]["scan_id"]
    export = CopyleaksExportOperator(
        task_id="export", scan_id=scan_id, pdf_report=True, store_url=store_file, poll_interval=0.05, deferrable=False
    )
    ctx = context_for(export)
    exported = export.execute(ctx)
    assert exported["status"] == "completed" and exported["tasks"] >= 2
    files = [p for p in receiver.artifacts.rglob("*") if p.is_file()]
    assert files, "no artifact written"
    assert ctx["ti"].xcoms.get("copyleaks_link")


def test_start_chunks_of_100_and_reports_failures(scan_conn: str, store_file: str, copyleaks_emulator: Any) -> None:
    ids = [f"af-unknown-{n:03d}" for n in range(150)]
    op = CopyleaksStartOperator(task_id="start", scan_ids=ids, store_url=store_file, fail_on_failed=False)
    result = op.execute(context_for(op))
    assert len(result["failed"]) == 150 and result["started"] == []
    assert len([c for c in copyleaks_emulator.calls() if c["path"] == "/v3/scans/start"]) == 2
    strict = CopyleaksStartOperator(task_id="start", scan_ids=ids[:3], store_url=store_file, error_handling="cancel")
    with pytest.raises(AirflowException, match="did not start 3"):
        strict.execute(context_for(strict))


def test_sensor_poke_defer_error_timeout_and_soft_fail(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    op = submit_op(store_file, wait_for_completion=True, deferrable=False)
    done = op.execute(context_for(op))
    sensor = CopyleaksScanSensor(
        task_id="wait",
        scan_ids=done,
        store_url=store_file,
        mode="poke",
        poke_interval=0.05,
        timeout=10,
        deferrable=False,
    )
    result = sensor.execute(context_for(sensor))
    assert result["status"] == "success" and set(result["scans"]) == set(done["scan_ids"])

    copyleaks_emulator.set_config(credits=0)
    poor = submit_op(store_file)
    failed_ids = poor.execute(context_for(poor, run_id="poor-run"))["scan_ids"]
    copyleaks_emulator.wait_for_status(failed_ids[0])
    time.sleep(0.3)  # the receiver records the error webhook
    sensor = CopyleaksScanSensor(
        task_id="wait", scan_ids=failed_ids, store_url=store_file, poke_interval=0.05, timeout=5, deferrable=False
    )
    with pytest.raises(CopyleaksScanFailed, match="code 13"):
        sensor.execute(context_for(sensor))
    soft = CopyleaksScanSensor(
        task_id="wait",
        scan_ids=failed_ids,
        store_url=store_file,
        poke_interval=0.05,
        timeout=5,
        deferrable=False,
        soft_fail=True,
    )
    with pytest.raises(AirflowSkipException):
        soft.execute(context_for(soft))

    pending = ["af-pending-0001"]
    # Registered, as a submitted scan is (an unregistered one fails at once: another store).
    sensor.store.register_scan(pending[0], kind="text", action="scan", sandbox=True, meta={})
    deferring = CopyleaksScanSensor(task_id="wait", scan_ids=pending, store_url=store_file, timeout=60, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        deferring.execute(context_for(deferring))
    assert deferred.value.timeout is None and deferred.value.trigger.deadline <= time.time() + 61
    # Deferred, the sensor's 60 s poke_interval must not pace the triggerer: config (or poll_interval) does.
    assert deferring.poke_interval == 60 and deferred.value.trigger.poll_interval is None
    paced = CopyleaksScanSensor(
        task_id="paced", scan_ids=pending, store_url=store_file, timeout=60, deferrable=True, poll_interval=0.5
    )
    with pytest.raises(TaskDeferred) as paced_deferred:
        paced.execute(context_for(paced))
    assert paced_deferred.value.trigger.poll_interval == 0.5
    timeout_event = {
        "status": "timeout",
        "message": "timed out",
        "scans": {pending[0]: {"status": None}},
        "wanted": ["completed"],
        "scan_ids": pending,
    }
    with pytest.raises(AirflowSensorTimeout):
        deferring.execute_complete(context_for(deferring), event=timeout_event)


def test_sensor_fails_at_once_on_a_scan_indexed_while_waiting_for_completed(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    indexed = submit_op(store_file, action="index-only", wait_for_completion=True, deferrable=False)
    done = indexed.execute(context_for(indexed, run_id="index-run"))
    sensor = CopyleaksScanSensor(
        task_id="wait",
        scan_ids=done,
        wanted="completed",
        store_url=store_file,
        mode="poke",
        poke_interval=0.05,
        timeout=10,
        deferrable=False,
    )
    # Not a sensor timeout ten seconds later: the scan is final, so the wait fails on the first poke.
    with pytest.raises(AirflowException, match="indexed") as failed:
        sensor.execute(context_for(sensor))
    assert not isinstance(failed.value, AirflowSensorTimeout)
    assert "completed" in str(failed.value)
