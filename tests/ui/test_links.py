"""Extra links: same-origin URLs, known before a deferral, never a missing-XCom read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_copyleaks.links import (
    LINK_XCOM_KEY,
    CopyleaksAuditReportLink,
    CopyleaksReportLink,
    with_audit_report_link,
)
from airflow_copyleaks.operators.export import CopyleaksExportOperator
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.ui import locations
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, receiver, scan_conn  # noqa: F401 - fixtures
from tests.ui.conftest import NEWS_DAG, RUN_ID, write_report
from tests.ui.floor import serialize_dag


class Key:
    dag_id = NEWS_DAG
    task_id = "write_report"
    run_id = RUN_ID
    map_index = -1
    try_number = 1


def test_audit_report_link_is_same_origin_once_the_report_exists(
    artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", artifacts.as_uri())
    link = CopyleaksAuditReportLink()
    assert link.get_link(None, ti_key=Key()) == ""  # skipped or failed before writing: no button
    write_report(artifacts, NEWS_DAG, RUN_ID)
    url = link.get_link(None, ti_key=Key())
    assert url == f"/copyleaks/ui/reports/{NEWS_DAG}/manual__2026-11-20T06%3A00%3A00%2B00%3A00/report.html"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/team-a/")
    assert link.get_link(None, ti_key=Key()) == "/team-a" + url  # behind a path prefix


def test_a_task_gets_the_audit_report_button_in_its_serialized_dag() -> None:
    from airflow.sdk import DAG, task

    @task
    def write_report() -> None:
        return None

    with DAG("links_dag", schedule=None) as dag:
        with_audit_report_link(write_report())
    serialized = serialize_dag(dag)
    (encoded,) = [t for t in serialized["dag"]["tasks"] if t["__var"]["task_id"] == "write_report"]
    assert encoded["__var"]["_operator_extra_links"] == {"Audit report": "_link_CopyleaksAuditReportLink"}


def test_export_pushes_its_same_origin_link_before_deferring(
    scan_conn: str,  # noqa: F811
    store_file: str,
) -> None:
    submit = CopyleaksSubmitOperator(
        task_id="submit",
        documents=[{"key": "a", "text": TEXT}],
        store_url=store_file,
        poll_interval=0.05,
        wait_for_completion=True,
        deferrable=False,
    )
    submitted: dict[str, Any] = submit.execute(context_for(submit))
    export = CopyleaksExportOperator(
        task_id="export", scan_id=submitted["scan_ids"][0], store_url=store_file, deferrable=True
    )
    ctx = context_for(export)
    with pytest.raises(TaskDeferred):
        export.execute(ctx)
    # What the worker computes the button from at the end of this attempt (the deferral).
    pushed = ctx["ti"].xcoms[LINK_XCOM_KEY]
    assert pushed == locations.export_url(ctx["ti"].dag_id, ctx["ti"].xcoms["export_id"], "crawled")
    assert pushed.startswith("/copyleaks/ui/exports/")
    assert CopyleaksReportLink.name == "Copyleaks report"
