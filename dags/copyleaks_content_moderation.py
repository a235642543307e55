"""Hourly content moderation: reader comments and article texts, hero images, AI-written text.

gather ─► moderate texts ─────┐
       ├► check hero images ──┼─► hold back + report
       └► detect AI text ─────┘

Comments with hate speech, harassment, threats or drug offers, and articles whose hero image is
a copy of a picture on the web, are held back (recorded through the publishing source) and listed
in the run's audit report with the offending words highlighted. The AI-text share of each article
is shown for the editor's judgement; it holds nothing back on its own. The policies report rather
than fail, so one bad comment never stops the sweep; the hold step acts on what they found.

An hour in which nothing was posted or published is skipped with a message, not failed; a run
without a logical date (REST ``"logical_date": null``) looks at the hours before it was
triggered. Article texts and images travel as file locations, never through XCom.
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
    CopyleaksAiDetectionOperator,
    CopyleaksImageCheckOperator,
    CopyleaksModerateOperator,
)

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
SHOWN_SPANS = 50  # flagged spans kept per item, for the report's highlights


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
        "sandbox": Param(
            None,
            type=["null", "boolean"],
            description="Sandbox checks (mock results, no credits, nothing held back). Empty: as the connection says.",
        ),
        "force": Param(False, type="boolean", description="Check again even if this content was already checked."),
    },
)
def copyleaks_content_moderation() -> None:
    @task(multiple_outputs=True)
    def gather(params: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.source import default_source

        source = default_source()
        window = _window(params)
        comments = source.comments_posted_between(window.start, window.end)
        articles = source.articles_published_between(window.start, window.end)
        if not comments and not articles:
            raise AirflowSkipException(f"nothing was posted or published from {window.describe()}: nothing to check")
        article_texts = [{"key": f"article:{a.id}", "path": source.text_location(a)} for a in articles]
        return {
            # A comment is short and is itself what gets checked; article bodies go as locations.
            "texts": [{"key": f"comment:{c.id}", "text": c.text} for c in comments] + article_texts,
            "articles": article_texts,
            "images": [{"key": f"article:{a.id}", "path": str(source.image_path(a.hero_image))} for a in articles],
        }

    found = gather()
    options = {"scan_id_mode": "content", "sandbox": "{{ params.sandbox }}", "force_new_scan": "{{ params.force }}"}
    moderate = CopyleaksModerateOperator(
        task_id="moderate_texts", texts=found["texts"], policy=MODERATION_POLICY, max_details=SHOWN_SPANS, **options
    )
    images = CopyleaksImageCheckOperator(
        task_id="check_hero_images", images=found["images"], policy=IMAGE_POLICY, **options
    )
    ai_text = CopyleaksAiDetectionOperator(
        task_id="detect_ai_text", texts=found["articles"], policy="report", **options
    )

    @task(outlets=[HELD_CONTENT], trigger_rule="none_failed")
    def hold_and_report(
        text_report: dict[str, Any] | None,
        image_report: dict[str, Any] | None,
        ai_report: dict[str, Any] | None,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import AirflowSkipException
        from publishing.moderation_report import build_rows, decide
        from publishing.report import RunInfo, announce, write_report
        from publishing.source import default_source

        if text_report is None and image_report is None:
            raise AirflowSkipException("nothing was checked in this run: nothing to hold back or report")
        context = get_current_context()
        source = default_source()
        window = _window(params)
        rows = build_rows(source, window, text_report or {}, image_report or {}, ai_report or {})
        held = decide(source, rows)
        credits = sum(
            float((r or {}).get("totals", {}).get("credits") or 0) for r in (text_report, image_report, ai_report)
        )
        totals = {
            "checked": len(rows),
            "flagged": sum(1 for r in rows if r["verdict"] == "flagged"),
            "held back": sum(len(v) for v in held.values()),
            "credits": int(credits) if credits.is_integer() else credits,
        }
        run = RunInfo.of(context, "Content moderation", window)
        paths = write_report(run, "moderation", rows, totals)
        announce(context, run)
        return {**totals, "held": held, "report": paths}

    with_audit_report_link(hold_and_report(moderate.output, images.output, ai_text.output))


copyleaks_content_moderation()
