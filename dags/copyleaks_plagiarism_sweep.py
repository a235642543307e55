"""Daily plagiarism sweep over the articles published in the data interval.

index archive ──┐
select articles ┴─► check credits (budget) ─► start ─► wait (deferrable) ─► flag ─► export ─► report + hold

The archive is indexed first (free, action index-only) so that an article copying an earlier one
of ours is found under "database". Each article's indexed copies have scan ids starting with
"ix<key>-", and its own scans exclude that pattern (Copyleaks' scanning.exclude.idPattern): a
re-scan never matches an article against its own indexed copy. Scan ids come from the content:
clearing a task or triggering the DAG again over unchanged articles pays nothing twice, unless
"force" is set.

A run triggered without a logical date (REST ``"logical_date": null``, the Trigger form without
a date) scans the 24 hours before it was triggered; ``article_ids`` scans those articles instead.
Only keys and file locations travel through XCom: the operators read the texts themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import Asset, Param, dag, get_current_context, task

try:
    from airflow.sdk import CronDataIntervalTimetable
except ImportError:  # Airflow 3.1, the provider's floor, has it only in airflow.timetables
    from airflow.timetables.interval import CronDataIntervalTimetable  # type: ignore[no-redef]

from airflow_copyleaks.links import with_audit_report_link
from airflow_copyleaks.operators import (
    CopyleaksCheckCreditsOperator,
    CopyleaksExportOperator,
    CopyleaksStartOperator,
    CopyleaksSubmitOperator,
)
from airflow_copyleaks.sensors.scan import CopyleaksScanSensor

HELD_ARTICLES = Asset("copyleaks://publishing/held-articles")
DAY = timedelta(days=1)  # what a run without a data interval looks back over


@dag(
    dag_id="copyleaks_plagiarism_sweep",
    # A data interval per day (not a bare trigger time), so each run, backfill or catch-up scans
    # exactly the articles published that day.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 12, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    tags=["copyleaks", "example"],
    doc_md=__doc__,
    params={
        "article_ids": Param([], type="array", description="Scan these articles instead of the data interval's."),
        "threshold": Param(
            30,
            type="number",
            minimum=0,
            maximum=100,
            description="Flag an article whose plagiarism score (%) is at or above this.",
        ),
        "credit_budget": Param(
            200,
            type="integer",
            minimum=0,
            description="Skip the run before anything is spent if the scans cost more credits.",
        ),
        "sandbox": Param(
            None,
            type=["null", "boolean"],
            description="Sandbox scans (mock results, no credits, nothing held back). Empty: as the connection says.",
        ),
        "force": Param(False, type="boolean", description="Scan again even if this content was already scanned."),
    },
)
def copyleaks_plagiarism_sweep() -> None:
    @task
    def select_articles(params: dict[str, Any]) -> list[dict[str, str]]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.archive_index import index_prefix
        from publishing.source import default_source
        from publishing.window import run_window

        source = default_source()
        if params["article_ids"]:
            chosen = source.articles(params["article_ids"])
            if not chosen:
                raise AirflowSkipException(f"none of the articles {params['article_ids']} exists")
        else:
            window = run_window(get_current_context(), DAY)
            chosen = source.articles_published_between(window.start, window.end)
            if not chosen:
                raise AirflowSkipException(f"no article was published from {window.describe()}: nothing to scan")
        return [
            {"key": a.id, "path": source.text_location(a), "exclude_id_pattern": f"{index_prefix(a.id)}-*"}
            for a in chosen
        ]

    @task
    def archive(params: dict[str, Any]) -> list[dict[str, str]]:
        """What was published before the articles scanned now, for them to be compared against."""
        from publishing.archive_index import archive_documents
        from publishing.source import default_source
        from publishing.window import run_window

        source = default_source()
        before = run_window(get_current_context(), DAY).start
        if params["article_ids"]:
            before = min((a.published_at for a in source.articles(params["article_ids"])), default=before)
        return archive_documents(source, before)

    index = CopyleaksSubmitOperator(
        task_id="index_archive",
        documents=archive(),
        action="index-only",
        scan_id_mode="content",
        sandbox="{{ params.sandbox }}",
        wait_for_completion=True,
        deferrable=True,
    )
    check = CopyleaksCheckCreditsOperator(
        task_id="check_credits",
        documents=select_articles(),
        properties={"pdf": {"create": True}, "sensitivityLevel": 3},
        scan_id_mode="content",
        force_new_scan="{{ params.force }}",
        sandbox="{{ params.sandbox }}",
        credit_budget="{{ params.credit_budget }}",
        on_budget_exceeded="skip",
        wait_for_completion=True,
        deferrable=True,
    )
    start = CopyleaksStartOperator(task_id="start_scans", scan_ids=check.output)
    wait = CopyleaksScanSensor(task_id="wait_for_scans", scan_ids=start.output, deferrable=True)

    @task
    def flag(scan_result: dict[str, Any], params: dict[str, Any]) -> list[str]:
        """Scan ids of the articles at or over the threshold (an empty list: nothing to export)."""
        scans = scan_result.get("scans") or {}
        return [sid for sid, scan in scans.items() if float(scan.get("score") or 0) >= float(params["threshold"])]

    exports = CopyleaksExportOperator.partial(task_id="export_flagged", pdf_report=True, deferrable=True).expand(
        scan_id=flag(wait.output)
    )

    @task(outlets=[HELD_ARTICLES], trigger_rule="none_failed")
    def write_report(
        checked: dict[str, Any] | None, scan_result: dict[str, Any] | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.plagiarism_report import build_rows, decide
        from publishing.report import RunInfo, announce, write_report
        from publishing.source import default_source
        from publishing.window import run_window

        from airflow_copyleaks.store import get_store

        if checked is None:  # nothing was selected (a quiet day): the run has nothing to report
            raise AirflowSkipException("no article was scanned in this run: no report")
        context = get_current_context()
        source = default_source()
        threshold = float(params["threshold"])
        rows = build_rows(get_store(), source, checked, scan_result or {}, threshold, context["dag"].dag_id)
        held = decide(source, rows, threshold)
        chosen = params["article_ids"]
        scope = f"the articles named in the run's Params: {', '.join(chosen)}" if chosen else ""
        run = RunInfo.of(context, "Plagiarism sweep", run_window(context, DAY), threshold=threshold, scope=scope)
        totals = {
            "scanned": len(rows),
            "flagged": sum(1 for r in rows if r["verdict"] == "flagged"),
            "held back": len(held),
            "credits": checked.get("total_credits"),
        }
        paths = write_report(run, "plagiarism", rows, totals)
        announce(context, run)
        return {**totals, "held": held, "report": paths}

    report = with_audit_report_link(write_report(check.output, wait.output))
    index >> check
    exports >> report


copyleaks_plagiarism_sweep()
