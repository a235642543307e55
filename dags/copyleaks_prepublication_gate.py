"""Pre-publication gate: every new draft is checked before it goes out; an editor decides on the flagged.

select drafts ─┬► index archive ─► plagiarism + citation scan ───┐
               ├► text moderation ───────────────────────────────┤
               ├► AI-text detection ─────────────────────────────┼► verdicts + report ─┬► publish clean drafts
               └► hero-image check ──────────────────────────────┘                     └► editor review (per flagged
                                                                                          draft) ─► apply decisions

One policy (:class:`~airflow_copyleaks.review.ReviewPolicy`, its thresholds in the ``policy``
Param) judges each draft. A draft every check passed is published at once; any other goes to an
editor (the UI's "Required Actions", or a CMS answering through the REST API) with its scores,
matched sources, flagged passages and a link to the run's audit report: Publish, Request edits or
Reject, and the CMS state follows. Nobody answering in time means "Request edits": nothing is
published without a decision. The plagiarism scan compares each draft with the web and with our
own archive (indexed first, free), excluding the draft's own indexed copies (``ix<id>-*``).

A run looks at the drafts the CMS calls new; ``draft_ids`` gates those drafts again whatever
their state (re-checking an edited draft). A quiet run (no new draft) is a skip, not a failure.
The run carries a deadline alert for the embargo: if it is still running ``embargo_minutes``
after it was queued, a notifier lists the drafts still waiting for an editor.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task

from airflow_copyleaks.config import env_number
from airflow_copyleaks.links import with_audit_report_link
from airflow_copyleaks.operators import (
    CopyleaksAiDetectionOperator,
    CopyleaksImageCheckOperator,
    CopyleaksModerateOperator,
    CopyleaksSubmitOperator,
)
from airflow_copyleaks.review import CopyleaksReviewOperator, LogReviewNotifier

# The embargo lead: a run still going this long after it was queued lists its unreviewed drafts.
# 0 leaves the alert out: Airflow 3.3's in-process dag.test() (``airflow dags test``) cannot finish
# a run of a DAG with a deadline alert (it looks the alerts up by id but holds their definitions),
# so the demo and the in-process tests run the gate without one.
EMBARGO_MINUTES = env_number("COPYLEAKS_GATE_EMBARGO_MINUTES", "45", minimum=0)


# How often new drafts are looked for; COPYLEAKS_GATE_SCHEDULE="none": only runs triggered by hand
# or by a CMS through the REST API (the end-to-end tests, which gate chosen drafts).
_CRON = os.environ.get("COPYLEAKS_GATE_SCHEDULE", "*/30 * * * *")
SCHEDULE: str | None = None if _CRON.strip().lower() == "none" else _CRON


def embargo_alert() -> Any:
    if EMBARGO_MINUTES <= 0:
        return None
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    try:
        from airflow.sdk.definitions.callback import AsyncCallback
    except ImportError:  # Airflow 3.1 keeps it beside the deadline alert
        from airflow.sdk.definitions.deadline import AsyncCallback  # type: ignore[no-redef,attr-defined]

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=EMBARGO_MINUTES),
        callback=AsyncCallback(
            "airflow_copyleaks.review.deadline.notify_unreviewed",
            kwargs={"pending": "publishing.gate_drafts:unreviewed"},
        ),
    )


CHECK = {"policy": "report", "scan_id_mode": "content", "sandbox": "{{ params.sandbox }}"}
MODERATION = {"on_hit": "report", "thresholds": {"*": 0}}  # the review policy judges the counts
SHOWN_SPANS = 20


@dag(
    dag_id="copyleaks_prepublication_gate",
    schedule=SCHEDULE,
    start_date=datetime(2026, 11, 12, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=4,
    render_template_as_native_obj=True,
    tags=["copyleaks", "example", "human-in-the-loop"],
    doc_md=__doc__,
    deadline=embargo_alert(),
    params={
        "draft_ids": Param([], type="array", description="Gate these drafts (again), whatever their state."),
        "policy": Param(
            {"plagiarism_score": 20, "ai_share": 0.5, "image_matches": 0},
            type="object",
            description="ReviewPolicy thresholds: plagiarism_score (%), ai_share (0-1), moderation, image_matches.",
        ),
        "review_timeout_minutes": Param(
            240, type="number", exclusiveMinimum=0, description="After this, a review takes 'Request edits'."
        ),
        "sandbox": Param(None, type=["null", "boolean"], description="Sandbox checks. Empty: as the connection says."),
        "force": Param(False, type="boolean", description="Check again even if this content was already checked."),
    },
)
def copyleaks_prepublication_gate() -> None:
    drafts = select_drafts()
    judged = judge(drafts["drafts"], *run_checks(drafts))
    review_and_apply(judged)


@task(multiple_outputs=True)
def select_drafts(params: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    from airflow.providers.common.compat.sdk import AirflowSkipException
    from publishing.archive_index import index_prefix
    from publishing.gate_drafts import new_drafts, stage

    from airflow_copyleaks.review.policy import ReviewPolicy

    # The policy is judged last, after the paid checks: a typo in it must fail here, for free.
    ReviewPolicy.from_dict(params.get("policy"))
    source, chosen = new_drafts(params["draft_ids"])
    if not chosen:
        asked = f"none of the drafts {params['draft_ids']} exists" if params["draft_ids"] else "no new draft"
        raise AirflowSkipException(f"{asked}: nothing to check")
    context = get_current_context()
    staged = stage(source, chosen, context["dag"].dag_id, context["run_id"])
    texts = [{"key": s["key"], "path": s["text"]} for s in staged]
    return {
        "drafts": staged,
        "texts": texts,
        "documents": [{**t, "exclude_id_pattern": f"{index_prefix(t['key'])}-*"} for t in texts],
        "images": [{"key": s["key"], "path": s["image"]} for s in staged if s["image"]],
    }


@task
def archive() -> list[dict[str, str]]:
    """Our published articles, indexed (free) so that a draft copying one of them is found."""
    from publishing.archive_index import archive_documents
    from publishing.source import default_source

    return archive_documents(default_source(), datetime.now(timezone.utc))


def run_checks(drafts: Any) -> tuple[Any, Any, Any, Any]:
    """The paid checks of the staged drafts, in parallel: their outputs (scan, moderation, AI text, image)."""
    index = CopyleaksSubmitOperator(
        task_id="index_archive",
        documents=archive(),
        action="index-only",
        scan_id_mode="content",
        sandbox="{{ params.sandbox }}",
        wait_for_completion=True,
        deferrable=True,
    )
    scan = CopyleaksSubmitOperator(
        task_id="scan_plagiarism",
        documents=drafts["documents"],
        # Citation checking rides on the scan: the completed webhook carries the references.
        properties={"sensitivityLevel": 3, "references": {"validate": True}},
        scan_id_mode="content",
        force_new_scan="{{ params.force }}",
        sandbox="{{ params.sandbox }}",
        fail_on_item_error=False,  # a draft that cannot be scanned goes to an editor, it does not stop the others
        wait_for_completion=True,
        deferrable=True,
    )
    index >> scan
    options = {**CHECK, "force_new_scan": "{{ params.force }}"}
    moderate = CopyleaksModerateOperator(
        task_id="moderate_text", texts=drafts["texts"], max_details=SHOWN_SPANS, **{**options, "policy": MODERATION}
    )
    ai_text = CopyleaksAiDetectionOperator(task_id="detect_ai_text", texts=drafts["texts"], **options)
    images = CopyleaksImageCheckOperator(task_id="check_hero_image", images=drafts["images"], **options)
    return scan.output, moderate.output, ai_text.output, images.output


@task(trigger_rule="none_failed")
def judge(
    staged: list[dict[str, str]],
    scanned: dict[str, Any] | None,
    moderated: dict[str, Any] | None,
    ai_report: dict[str, Any] | None,
    image_report: dict[str, Any] | None,
    params: dict[str, Any],
) -> dict[str, Any]:
    from publishing.gate import judge_drafts

    reports = {"moderation": moderated, "ai_text": ai_report, "image": image_report}
    return judge_drafts(get_current_context(), params, staged, scanned, reports)


@task
def publish_clean(judged: dict[str, Any]) -> list[str]:
    from publishing.gate import publish

    return publish(judged)


@task
def to_review(judged: dict[str, Any]) -> list[dict[str, Any]]:
    """The flagged drafts, one review each (an empty list: nobody needs to be asked)."""
    return list(judged["flagged"])


@task(trigger_rule="none_failed")
def apply_decisions(decisions: Any, judged: dict[str, Any], published: list[str] | None) -> dict[str, Any]:
    from publishing.gate import apply

    return apply(get_current_context(), list(decisions or []), judged, published or [])


def review_and_apply(judged: Any) -> None:
    """Publish the clean drafts; one editor's review per flagged draft; every decision into the CMS."""
    reviews = CopyleaksReviewOperator.partial(
        task_id="editor_review",
        response_timeout="{{ params.review_timeout_minutes * 60 }}",
        notifiers=[LogReviewNotifier()],
    ).expand(review=to_review(judged))
    published = publish_clean(judged)
    applied = with_audit_report_link(apply_decisions(reviews.output, judged, published))
    reviews >> applied


copyleaks_prepublication_gate()
