"""Hourly content moderation: reader comments and article bodies, and hero images.

gather texts ─► moderate ──┐
gather images ─► image check ┴─► hold back + report

Comments with hate speech, harassment, threats or drug offers, and articles whose hero image is
a copy of a picture on the web, are held back (recorded through the publishing source) and listed
in the run's audit report. The policies report rather than fail, so one bad comment never stops
the sweep; the hold step acts on what they found.
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
from airflow_copyleaks.operators import CopyleaksImageCheckOperator, CopyleaksModerateOperator

HELD_CONTENT = Asset("copyleaks://publishing/held-content")
MODERATION_POLICY = {
    "on_hit": "report",
    # Zero tolerance for the harmful labels; two mild profanities pass.
    "thresholds": {
        "hate-speech-v1": 0,
        "harassment-v1": 0,
        "violent-v1": 0,
        "self-harm-v1": 0,
        "drugs-v1": 0,
        "toxic-v1": 0,
        "profanity-v1": 2,
    },
}
IMAGE_POLICY = {"on_hit": "report", "thresholds": {"full_matches": 0, "partial_matches": 0}}


def _window(params: dict[str, Any]) -> Any:
    """The ``lookback_hours`` up to the end of the run's interval (or its run_after, without one)."""
    from publishing.window import Window, run_window

    lookback = timedelta(hours=float(params["lookback_hours"]))
    end = run_window(get_current_context(), lookback).end
    return Window(end - lookback, end)


@dag(
    dag_id="copyleaks_content_moderation",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 12, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    render_template_as_native_obj=True,
    tags=["copyleaks", "example"],
    doc_md=__doc__,
    params={
        "lookback_hours": Param(
            1, type="number", minimum=1, description="Check what was posted in this many hours before the run."
        ),
        "sandbox": Param(False, type="boolean", description="Sandbox checks: mock results, no credits spent."),
        "force": Param(False, type="boolean", description="Check again even if this content was already checked."),
    },
)
def copyleaks_content_moderation() -> None:
    @task
    def gather_texts(params: dict[str, Any]) -> list[dict[str, str]]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.source import default_source

        source = default_source()
        window = _window(params)
        texts = [
            {"key": f"comment:{c.id}", "text": c.text} for c in source.comments_posted_between(window.start, window.end)
        ]
        texts += [
            {"key": f"article:{a.id}", "text": a.body}
            for a in source.articles_published_between(window.start, window.end)
        ]
        if not texts:
            raise AirflowSkipException(f"nothing was posted or published from {window.describe()}: no text to check")
        return texts

    @task
    def gather_images(params: dict[str, Any]) -> list[dict[str, str]]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.source import default_source

        source = default_source()
        window = _window(params)
        articles = source.articles_published_between(window.start, window.end)
        if not articles:
            raise AirflowSkipException(f"no article was published from {window.describe()}: no image to check")
        return [{"key": f"article:{a.id}", "path": str(source.image_path(a.hero_image))} for a in articles]

    moderate = CopyleaksModerateOperator(
        task_id="moderate_texts",
        texts=gather_texts(),
        policy=MODERATION_POLICY,
        scan_id_mode="content",
        sandbox="{{ params.sandbox }}",
        force_new_scan="{{ params.force }}",
    )
    images = CopyleaksImageCheckOperator(
        task_id="check_hero_images",
        images=gather_images(),
        policy=IMAGE_POLICY,
        scan_id_mode="content",
        sandbox="{{ params.sandbox }}",
        force_new_scan="{{ params.force }}",
    )

    @task(outlets=[HELD_CONTENT], trigger_rule="none_failed")
    def hold_and_report(
        text_report: dict[str, Any] | None, image_report: dict[str, Any] | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.report import write_report
        from publishing.source import default_source

        if text_report is None and image_report is None:
            raise AirflowSkipException("nothing was checked in this run: nothing to hold back or report")
        context = get_current_context()
        rows = []
        for kind, report in (("text", text_report or {}), ("image", image_report or {})):
            for item in report.get("items", []):
                flagged = item.get("verdict") == "hit"
                rows.append(
                    {
                        "key": f"{item['key']} ({kind})",
                        "item": item["key"],
                        "title": "; ".join(item.get("breaches", [])),
                        "score": None,
                        "verdict": "flagged" if flagged else item.get("verdict", ""),
                        "sources": [
                            {"url": m.get("url", ""), "title": m.get("url", "")} for m in item.get("matches", [])
                        ],
                    }
                )
        rows.sort(key=lambda row: row["verdict"] != "flagged")  # what an editor must look at, first
        source = default_source()
        held: dict[str, list[str]] = {"comment": [], "article": []}
        for row in rows:
            if row["verdict"] == "flagged":
                kind, _, item_id = row["item"].partition(":")
                held.setdefault(kind, []).append(item_id)
        for kind, item_ids in held.items():
            source.hold(kind, sorted(set(item_ids)), "content moderation policy")
        credits = sum(float((r or {}).get("totals", {}).get("credits") or 0) for r in (text_report, image_report))
        totals = {"checked": len(rows), "flagged": sum(len(v) for v in held.values()), "credits": credits}
        paths = write_report(
            context["dag"].dag_id,
            context["run_id"],
            "Content moderation",
            rows,
            threshold=None,
            totals=totals,
            title_heading="Policy breaches",
            window=_window(params).as_dict(),
        )
        context["ti"].xcom_push(
            key="copyleaks_report",
            value={"dag_id": context["dag"].dag_id, "run_id": context["run_id"], "name": "report.html"},
        )
        print(f"Audit report: {paths['html']}")
        return {**totals, "held": held, "report": paths}

    with_audit_report_link(hold_and_report(moderate.output, images.output))


copyleaks_content_moderation()
