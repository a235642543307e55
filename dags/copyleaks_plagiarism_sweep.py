"""Daily plagiarism sweep over the articles published in the data interval.

index archive ──┐
select articles ┴─► check credits (budget) ─► start ─► wait (deferrable) ─► flag ─► export PDFs ─► report + hold

The archive is indexed first (free, action index-only) so that an article copying an earlier one
of ours is found under "database". Scan ids come from the content: clearing a task or triggering
the DAG again over unchanged articles pays nothing twice, unless "force" is set.
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
        "sandbox": Param(False, type="boolean", description="Sandbox scans: mock results, no credits spent."),
        "force": Param(False, type="boolean", description="Scan again even if this content was already scanned."),
    },
)
def copyleaks_plagiarism_sweep() -> None:
    @task
    def select_articles(params: dict[str, Any]) -> list:
        from airflow.providers.common.compat.sdk import AirflowSkipException
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
        return [{"key": a.id, "text": f"{a.title}\n\n{a.body}"} for a in chosen]

    @task
    def archive(params: dict[str, Any]) -> list:
        """What was published before the articles scanned now, for them to be compared against."""
        from publishing.source import default_source
        from publishing.window import run_window

        source = default_source()
        if params["article_ids"]:
            chosen = source.articles(params["article_ids"])
            before = min((a.published_at for a in chosen), default=run_window(get_current_context(), DAY).start)
        else:
            before = run_window(get_current_context(), DAY).start
        return [{"key": a.id, "text": f"{a.title}\n\n{a.body}"} for a in source.archive_before(before)]

    documents = select_articles()
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
        documents=documents,
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
    def flag(scan_result: dict[str, Any], checked: dict[str, Any], params: dict[str, Any]) -> list[str]:
        """Scan ids of the articles at or over the threshold."""
        scans = scan_result.get("scans") or {}
        return [sid for sid, scan in scans.items() if float(scan.get("score") or 0) >= float(params["threshold"])]

    flagged = flag(wait.output, check.output)
    exports = CopyleaksExportOperator.partial(task_id="export_flagged", pdf_report=True, deferrable=True).expand(
        scan_id=flagged
    )

    @task(outlets=[HELD_ARTICLES], trigger_rule="none_failed")
    def write_report(
        checked: dict[str, Any] | None, scan_result: dict[str, Any] | None, params: dict[str, Any]
    ) -> dict:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.report import write_report as render
        from publishing.source import default_source
        from publishing.window import run_window

        from airflow_copyleaks.store import get_store

        if checked is None:  # nothing was selected (a quiet day): the run has nothing to report
            raise AirflowSkipException("no article was scanned in this run: no report")
        context = get_current_context()
        store = get_store()
        scan_result = scan_result or {}  # None when the scans were skipped (over the credit budget)
        key_by_scan = {item["scan_id"]: key for key, item in (checked.get("items") or {}).items() if "scan_id" in item}
        titles = {a.id: a.title for a in default_source().articles(key_by_scan.values())}
        threshold = float(params["threshold"])
        rows = []
        for scan_id, scan in (scan_result.get("scans") or {}).items():
            completed = store.get_event_payload(scan_id, "completed") or {}
            results = completed.get("results") or {}
            sources = [_source(store, r) for r in (results.get("internet") or []) + (results.get("database") or [])]
            score = float(scan.get("score") or 0)
            rows.append(
                {
                    "key": key_by_scan.get(scan_id, scan_id),
                    "title": titles.get(key_by_scan.get(scan_id, ""), ""),
                    "scan_id": scan_id,
                    "score": score,
                    "verdict": "flagged" if score >= threshold else "clean",
                    "sources": sources,
                    "links": _export_links(store, scan_id),
                }
            )
        rows.sort(key=lambda r: r["key"])
        held = [r["key"] for r in rows if r["verdict"] == "flagged"]
        default_source().hold("article", held, f"plagiarism score at or above {threshold:g}%")
        totals = {"scanned": len(rows), "flagged": len(held), "credits": checked.get("total_credits")}
        paths = render(
            context["dag"].dag_id,
            context["run_id"],
            "Plagiarism sweep",
            rows,
            threshold=threshold,
            totals=totals,
            window=run_window(context, DAY).as_dict(),
        )
        context["ti"].xcom_push(
            key="copyleaks_report",
            value={"dag_id": context["dag"].dag_id, "run_id": context["run_id"], "name": "report.html"},
        )
        print(f"Audit report: {paths['html']}")
        return {**totals, "held": held, "report": paths}

    report = with_audit_report_link(write_report(check.output, wait.output))
    index >> check
    exports >> report


def _source(store: Any, result: dict[str, Any]) -> dict[str, str]:
    """A matched source for the report: a web page, or one of our own indexed articles."""
    if result.get("url"):
        return {"title": result.get("title") or result["url"], "url": result["url"]}
    indexed = store.get_scan(result.get("scanId") or "")
    key = indexed.meta.get("document_key") if indexed else None
    return {"title": f"our article {key}" if key else "our archive", "url": ""}


def _export_links(store: Any, scan_id: str) -> list[dict[str, str]]:
    """Links to the exported PDF and results of a scan, from the store's artifact index."""
    links = []
    for export_id in store.exports_for_scan(scan_id):
        export = store.get_export(export_id)
        results = 0
        for artifact in export.artifacts if export else []:
            label = artifact["kind"]
            if label == "result":  # several per scan: number them
                results += 1
                label = f"result {results}"
            links.append({"label": label, "href": artifact["location"]})
    return links


copyleaks_plagiarism_sweep()
