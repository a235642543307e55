"""Which scan settings decide a scan id, what a deliberate rescan pays, and templated switches.

Against the emulator, the receiver and a real SQLite store, like the other scan tests: a price
check that would have become a paid scan, a sandbox result that would have stood in for a real
one, a forced rescan whose retry would have paid twice, and templates that render ``"False"``.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, AirflowSkipException

from airflow_copyleaks.exceptions import CopyleaksScanFailed, CopyleaksValidationError
from airflow_copyleaks.operators.credits import CopyleaksCheckCreditsOperator
from airflow_copyleaks.operators.export import CopyleaksExportOperator
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.scans.properties import ScanProperties
from airflow_copyleaks.sensors.scan import CopyleaksScanSensor
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, submit_calls

OTHER = TEXT.replace("harbour", "railway")


def submit(store_file: str, run_id: str = "run-1", try_number: int = 1, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("documents", [{"key": "a", "text": TEXT}])
    op = CopyleaksSubmitOperator(task_id="submit", store_url=store_file, poll_interval=0.05, **kwargs)
    result: dict[str, Any] = op.execute(context_for(op, run_id=run_id, try_number=try_number))
    return result


def accepted(emulator: Any) -> int:
    """Submissions Copyleaks took (and will charge for once each); 409s are not among them."""
    return sum(1 for c in submit_calls(emulator) if c["status"] == 201)


@pytest.mark.parametrize("properties", [{"action": "scan"}, {"action": 0}, ScanProperties(action="scan")])
def test_a_price_check_never_becomes_a_paid_scan(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, properties: Any
) -> None:
    op = CopyleaksCheckCreditsOperator(
        task_id="price",
        documents=[{"key": "a", "text": TEXT}],
        properties=properties,
        store_url=store_file,
        deferrable=False,
    )
    with pytest.raises(CopyleaksValidationError, match=r"properties\.action.*check-credits") as err:
        op.execute(context_for(op))
    assert err.value.field == "properties.action"
    assert submit_calls(copyleaks_emulator) == []
    assert copyleaks_emulator.stats()["credits_used"] == 0


def test_the_price_check_operator_refuses_another_action_or_no_wait() -> None:
    with pytest.raises(TypeError, match="action='check-credits'"):
        CopyleaksCheckCreditsOperator(task_id="price", documents=[], action="scan")
    with pytest.raises(TypeError, match="wait_for_completion=True"):
        CopyleaksCheckCreditsOperator(task_id="price", documents=[], wait_for_completion=False)


def test_an_action_in_properties_must_agree_with_the_operators(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    with pytest.raises(CopyleaksValidationError, match="properties.action"):
        submit(store_file, action="scan", properties={"action": "index-only"})
    assert submit_calls(copyleaks_emulator) == []
    agreed = submit(store_file, action="index-only", properties={"action": 2})
    assert agreed["status"] == "submitted" and len(agreed["scan_ids"]) == 1
    (call,) = submit_calls(copyleaks_emulator)
    assert call["status"] == 201


def test_content_ids_depend_on_sandbox_and_properties_not_on_the_run(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    def content_id(run_id: str, **kwargs: Any) -> str:
        result = submit(store_file, run_id=run_id, scan_id_mode="content", **kwargs)
        (scan_id,) = result["scan_ids"]
        return scan_id

    real = content_id("run-1", sandbox=False)
    assert content_id("run-2", sandbox=False) == real  # unchanged content and settings: reused
    sandboxed = content_id("run-3", sandbox=True)
    stricter = content_id("run-4", sandbox=False, properties={"sensitivityLevel": 5})
    assert len({real, sandboxed, stricter}) == 3
    # The sandbox run's mock result is its own scan: a real run afterwards does not reuse it.
    assert content_id("run-5", sandbox=False) == real
    # Three scans sent (real, sandboxed, stricter); the two reuses met 409 and paid nothing.
    assert sorted(c["status"] for c in submit_calls(copyleaks_emulator)) == [201, 201, 201, 409, 409]


def test_a_forced_rescan_is_new_once_per_run_and_its_retry_pays_nothing_twice(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    docs = [{"key": "a", "text": TEXT}, {"key": "b", "text": OTHER}]
    plain = submit(store_file, documents=docs, scan_id_mode="content")
    forced = submit(store_file, documents=docs, scan_id_mode="content", force_new_scan="True")
    assert set(forced["scan_ids"]).isdisjoint(plain["scan_ids"])
    assert accepted(copyleaks_emulator) == 4
    # Airflow retries the forced task (try 2 of the same run): the same forced ids, nothing paid.
    retried = submit(store_file, documents=docs, scan_id_mode="content", force_new_scan=True, try_number=2)
    assert retried["scan_ids"] == forced["scan_ids"]
    assert {e["submission"] for e in retried["items"].values()} <= {"already_submitted", "already_reported"}
    assert accepted(copyleaks_emulator) == 4
    # An editor forces a rescan in a new run: new ids, paid again.
    rerun = submit(store_file, documents=docs, scan_id_mode="content", force_new_scan=True, run_id="run-2")
    assert set(rerun["scan_ids"]).isdisjoint(forced["scan_ids"] + plain["scan_ids"])
    assert accepted(copyleaks_emulator) == 6


def test_a_scan_error_fails_the_task_without_retries(scan_conn: str, store_file: str, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.set_config(credits=0)
    with pytest.raises(CopyleaksScanFailed) as failed:
        submit(store_file, wait_for_completion=True, deferrable=False)
    # Its id is spent and its error stored: a retry could only fail the same way.
    assert isinstance(failed.value, AirflowFailException)


def test_sensor_accepts_any_of_its_wanted_statuses(scan_conn: str, store_file: str) -> None:
    indexed = submit(store_file, action="index-only", wait_for_completion=True, deferrable=False)
    sensor = CopyleaksScanSensor(
        task_id="wait",
        scan_ids=indexed["scan_ids"],
        wanted=["completed", "indexed"],
        store_url=store_file,
        mode="poke",
        poke_interval=0.05,
        timeout=10,
        deferrable=False,
    )
    result = sensor.execute(context_for(sensor))
    assert result["status"] == "success"
    assert {s["status"] for s in result["scans"].values()} == {"indexed"}


def test_sensor_refuses_an_event_about_other_scans_or_without_its_statuses(store_file: str) -> None:
    sensor = CopyleaksScanSensor(task_id="wait", scan_ids=["af-mine-0001"], store_url=store_file, deferrable=True)
    other = {
        "status": "success",
        "message": "1 scan(s) reached completed",
        "wanted": ["completed"],
        "scan_ids": ["af-other-0001"],
        "scans": {"af-other-0001": {"status": "completed"}},
    }
    with pytest.raises(AirflowException, match="lacks"):
        sensor.execute_complete(context_for(sensor), event=other)
    no_wanted = {k: v for k, v in other.items() if k != "wanted"} | {"scans": {"af-mine-0001": {"status": "completed"}}}
    with pytest.raises(AirflowException, match="which statuses"):
        sensor.execute_complete(context_for(sensor), event=no_wanted)


def test_export_switches_and_results_from_rendered_templates(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, receiver: Any
) -> None:
    copyleaks_emulator.add_document("https://news.test/harbour", TEXT, title="Harbour news")
    done = submit(store_file, wait_for_completion=True, deferrable=False)
    scan_id = done["scan_ids"][0]
    export = CopyleaksExportOperator(
        task_id="export",
        scan_id=scan_id,
        results="[]",  # what "{{ [] }}" renders to
        pdf_report="False",
        crawled_version="True",
        store_url=store_file,
        poll_interval=0.05,
        deferrable=False,
    )
    exported = export.execute(context_for(export))
    assert exported["status"] == "completed"
    assert set(exported["artifacts"]) == {"results", "crawled"} and exported["artifacts"]["results"] == {}
    assert exported["tasks"] == 1  # only the crawled version was asked for: no PDF, no result
    files = sorted(p.name for p in receiver.artifacts.rglob("*") if p.is_file())
    assert files == ["crawled.json"], files


def test_a_bad_budget_is_refused_before_anything_is_sent_and_a_skip_keeps_the_prices(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    bad = CopyleaksCheckCreditsOperator(
        task_id="price", documents=[{"key": "a", "text": TEXT}], credit_budget="lots", store_url=store_file
    )
    with pytest.raises(CopyleaksValidationError, match="credit_budget"):
        bad.execute(context_for(bad))
    assert submit_calls(copyleaks_emulator) == []
    skip = CopyleaksCheckCreditsOperator(
        task_id="price",
        documents=[{"key": "a", "text": TEXT}],
        credit_budget="0",
        on_budget_exceeded="skip",
        store_url=store_file,
        poll_interval=0.05,
        deferrable=False,
    )
    ctx = context_for(skip)
    with pytest.raises(AirflowSkipException, match="over the budget"):
        skip.execute(ctx)
    prices = ctx["ti"].xcoms["return_value"]
    assert prices["total_credits"] > 0 and prices["budget"] == 0
    assert copyleaks_emulator.stats()["credits_used"] == 0
