"""Whole DAGs with ``airflow dags test`` (deferrable tasks run with their triggers in line).

Each test writes a small DAG into a temporary DAGs folder; the subprocess gets the connection
(emulator + receiver) and the store through the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from tests.scans.conftest import TEXT, DagRunner, submit_calls

HEADER = """
from airflow.sdk import DAG
from airflow_copyleaks.operators import (
    CopyleaksCheckCreditsOperator, CopyleaksExportOperator, CopyleaksStartOperator, CopyleaksSubmitOperator,
)
from airflow_copyleaks.scans.properties import Pdf, ScanProperties
from airflow_copyleaks.sensors.scan import CopyleaksScanSensor

TEXT = {text!r}
"""


def _assert_ok(result: Any) -> None:
    if result.returncode != 0:
        Path("/tmp/last_dag_test.log").write_text(result.stdout + "\n---\n" + result.stderr)
    assert result.returncode == 0, result.stdout[-4000:] + "\n---\n" + result.stderr[-4000:]


def test_submit_then_sensor_with_duplicate_and_late_webhooks_and_a_forged_one(
    dag_runner: DagRunner, copyleaks_emulator: Any, receiver: Any
) -> None:
    # Every status webhook is delivered twice, and the next ones late.
    copyleaks_emulator.add_webhook_fault("duplicate", count=2)
    copyleaks_emulator.add_webhook_fault("delay", count=2, delay_seconds=1.0)
    dag_runner.write(
        "flow_submit",
        HEADER.format(text=TEXT)
        + """
with DAG("flow_submit", schedule=None):
    submit = CopyleaksSubmitOperator(
        task_id="submit",
        documents=[{"key": "a", "text": TEXT}, {"key": "b", "text": TEXT + " Also a new sentence here."}],
        scan_id_mode="content",
        deferrable=True,
    )
    wait = CopyleaksScanSensor(task_id="wait", scan_ids=submit.output, deferrable=True, timeout=60, poll_interval=0.2)
    submit >> wait
""",
    )
    # A forged "error" for a scan id the DAG will use: refused by the receiver, so it cannot end the wait.
    from airflow_copyleaks import ids
    from airflow_copyleaks.operators.submit import content_namespace

    namespace = content_namespace("flow_submit", "submit", {"action": "scan", "sandbox": False})

    def scan_id(key: str, text: str) -> str:  # content mode: predictable before the run
        return ids.scan_id_for_content(namespace, key, ids.content_sha256(text.encode()))

    forged_id = scan_id("a", TEXT)
    forged = requests.post(
        f"{receiver.url}/status/error/{forged_id}", json={"status": 1, "error": {"code": 1}}, timeout=10
    )
    assert forged.status_code in (401, 403), forged.status_code
    result = dag_runner.test("flow_submit")
    _assert_ok(result)
    assert len(submit_calls(copyleaks_emulator)) == 2
    deliveries = [w for w in copyleaks_emulator.webhooks() if w["kind"] == "status"]
    assert len(deliveries) >= 3  # duplicates were delivered, and changed nothing
    from airflow_copyleaks.waits import records

    both = [scan_id("a", TEXT), scan_id("b", TEXT + " Also a new sentence here.")]
    scans = records.get_scans(receiver.store, both)
    assert [scans[sid]["status"] for sid in both] == ["completed", "completed"]


def test_check_credits_start_wait_export_writes_artifacts(
    dag_runner: DagRunner, copyleaks_emulator: Any, receiver: Any
) -> None:
    copyleaks_emulator.add_document("https://news.test/harbour", TEXT, title="Harbour news")
    dag_runner.write(
        "flow_priced",
        HEADER.format(text=TEXT)
        + """
with DAG("flow_priced", schedule=None):
    price = CopyleaksCheckCreditsOperator(
        task_id="price", documents=[{"key": "a", "text": TEXT}], credit_budget=50, deferrable=True,
        properties=ScanProperties(pdf=Pdf(create=True, title="Audit")),
    )
    start = CopyleaksStartOperator(task_id="start", scan_ids=price.output, wait_for_completion=True, deferrable=True)
    export = CopyleaksExportOperator(
        task_id="export", scan_id="{{ ti.xcom_pull('start')['scan_ids'][0] }}", pdf_report=True, deferrable=True,
    )
    price >> start >> export
""",
    )
    _assert_ok(dag_runner.test("flow_priced"))
    files = sorted(p.name for p in receiver.artifacts.rglob("*") if p.is_file())
    assert files, "no export artifact on disk"
    assert copyleaks_emulator.stats()["credits_used"] > 0


def test_insufficient_credits_fail_the_task_clearly(dag_runner: DagRunner, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.set_config(credits=0)
    dag_runner.write(
        "flow_poor",
        HEADER.format(text=TEXT)
        + """
with DAG("flow_poor", schedule=None):
    CopyleaksSubmitOperator(
        task_id="submit", documents=TEXT, wait_for_completion=True, deferrable=True, retries=0,
    )
""",
    )
    result = dag_runner.test("flow_poor")
    assert result.returncode != 0 or "failed" in (result.stdout + result.stderr).lower()
    output = result.stdout + result.stderr
    assert "CopyleaksScanFailed" in output and "code 13" in output, output[-4000:]


def test_every_operator_given_an_empty_list_skips_with_a_message(
    dag_runner: DagRunner, copyleaks_emulator: Any, receiver: Any
) -> None:
    """A quiet interval hands each operator an empty list: nothing to do is a skip, never a failure."""
    dag_runner.write(
        "flow_quiet",
        HEADER.format(text=TEXT)
        + """
from airflow_copyleaks.operators import (
    CopyleaksAiDetectionOperator, CopyleaksImageCheckOperator, CopyleaksModerateOperator,
    CopyleaksWritingFeedbackOperator,
)

with DAG("flow_quiet", schedule=None):
    submit = CopyleaksSubmitOperator(
        task_id="submit", documents=[{"key": "a", "text": TEXT}], wait_for_completion=True, deferrable=True,
    )
    CopyleaksModerateOperator(task_id="moderate", texts=[])
    CopyleaksImageCheckOperator(task_id="images", images=[])
    CopyleaksAiDetectionOperator(task_id="ai", texts=[])
    CopyleaksWritingFeedbackOperator(task_id="writing", texts=[])
    CopyleaksStartOperator(task_id="start", scan_ids=[])
    CopyleaksScanSensor(task_id="wait", scan_ids=[], deferrable=True)
    submit >> CopyleaksExportOperator(
        task_id="export", scan_id="{{ ti.xcom_pull('submit')['scan_ids'][0] }}", results=[],
        crawled_version=False, deferrable=True,
    )
""",
    )
    result = dag_runner.test("flow_quiet")
    _assert_ok(result)
    output = result.stdout + result.stderr
    for message in (
        "texts is empty: no moderation check to run",
        "images is empty: no image check to run",
        "scan_ids is empty: no scan to start",
        "scan_ids is empty: no scan to wait for",
        "results is empty and no PDF or crawled version asked for",
    ):
        assert message in output, message
    assert "CopyleaksValidationError" not in output
    assert not [c for c in copyleaks_emulator.calls() if "/export/" in c["path"]]
