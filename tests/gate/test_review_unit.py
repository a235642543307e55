"""The review builder and the gate's policy: pure logic on plain findings (fast, no server)."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.review.findings import credits_of, draft_findings, report_entry
from airflow_copyleaks.review.policy import ReviewPolicy
from airflow_copyleaks.review.request import build_review

COMPLETED = {
    "scannedDocument": {"totalWords": 200},
    "results": {
        "score": {"aggregatedScore": 42.5},
        "internet": [{"url": "https://example-news.test/a", "title": "Tidal pools", "matchedWords": 60}],
        "database": [{"scanId": "ixa02-1", "title": "Play park", "matchedWords": 20}],
    },
}


def _report(kind: str, **entry: Any) -> dict[str, Any]:
    return {"kind": kind, "items": [{"key": "d1", "verdict": "pass", "credits": 1, **entry}]}


def clean_findings(**override: Any) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "title": "Harbour news",
        "plagiarism_item": {"scan_id": "s1", "result": {"status": "completed", "score": 0, "credits": 1}},
        "completed": {"scannedDocument": {"totalWords": 200}, "results": {"score": {"aggregatedScore": 0}}},
        "moderation": report_entry(_report("moderation", counts={}, spans=[], spans_total=0), "d1"),
        "ai_text": report_entry(_report("ai_text", ai=0.1, classification="human"), "d1"),
        "image": report_entry(_report("image", full_matches=0, partial_matches=0, matches=[]), "d1"),
    }
    parts.update(override)
    return draft_findings("d1", **parts)


def test_clean_findings_pass_the_policy_and_cost_their_credits() -> None:
    findings = clean_findings()
    verdict = ReviewPolicy().verdict(findings)
    assert (verdict.verdict, verdict.reasons) == ("clean", ())
    assert credits_of(findings) == 4


def test_a_plagiarism_score_at_the_threshold_flags_with_the_score_and_sources() -> None:
    item = {"scan_id": "s1", "result": {"status": "completed", "score": 42.5, "credits": 2}}
    findings = clean_findings(plagiarism_item=item, completed=COMPLETED)
    verdict = ReviewPolicy(plagiarism_score=42.5).verdict(findings)
    assert verdict.flagged and verdict.reasons == ("plagiarism score 42.5% (flag at 42.5%)",)
    assert [(s["kind"], s["share"]) for s in findings["plagiarism"]["sources"]] == [
        ("web page", 30.0),
        ("our archive", 10.0),
    ]
    assert ReviewPolicy(plagiarism_score=43).verdict(findings).verdict == "clean"


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"moderation": None}, "text moderation did not run"),
        (
            {"image": {"key": "d1", "verdict": "error", "error": "image too large"}},
            "hero-image check failed: image too large",
        ),
        ({"plagiarism_item": {"scan_id": "s1", "error": "bad id"}}, "plagiarism scan failed: bad id"),
        ({"sandbox": True}, "sandbox (mock) results: they say nothing about this text"),
    ],
)
def test_what_was_not_checked_is_flagged_never_clean(override: dict[str, Any], reason: str) -> None:
    verdict = ReviewPolicy().verdict(clean_findings(**override))
    assert verdict.flagged and reason in verdict.reasons


def test_moderation_counts_against_per_label_allowances() -> None:
    entry = _report("moderation", counts={"profanity-v1": 2, "toxic-v1": 1}, spans=[], spans_total=3)
    verdict = ReviewPolicy().verdict(clean_findings(moderation=report_entry(entry, "d1")))
    assert verdict.reasons == ("moderation: 1 x toxic-v1 (allowed 0)",)


def test_ai_share_image_matches_and_citations_each_flag() -> None:
    findings = clean_findings(
        ai_text=report_entry(_report("ai_text", ai=0.9), "d1"),
        image=report_entry(_report("image", full_matches=1, partial_matches=0, matches=[]), "d1"),
        citations={"total": 4, "unverified": 2, "credits": 1},
    )
    assert ReviewPolicy().verdict(findings).reasons == (
        "AI-written share 90% (flag at 50%)",
        "hero image found on the web 1 time(s)",
        "2 of 4 reference(s) unverifiable or fabricated",
    )
    assert ReviewPolicy(require_citations=True).verdict(clean_findings()).reasons == ("citation check did not run",)


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"plagiarism_score": 101}, "plagiarism_score"), ({"ai_share": -0.1}, "ai_share"), ({"thresold": 3}, "policy")],
)
def test_a_bad_policy_is_refused_naming_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(CopyleaksValidationError) as err:
        ReviewPolicy.from_dict(raw)
    assert err.value.field == field


def test_the_review_shows_scores_sources_spans_and_the_report_link() -> None:
    mod = _report(
        "moderation",
        counts={"toxic-v1": 2},
        spans=[{"label": "toxic-v1", "start": 0, "length": 5, "excerpt": "you idiot"}],
        spans_total=3,
    )
    findings = clean_findings(
        completed=COMPLETED,
        plagiarism_item={"scan_id": "s1", "result": {"score": 42.5, "credits": 2}},
        moderation=report_entry(mod, "d1"),
    )
    verdict = ReviewPolicy().verdict(findings)
    review = build_review(findings, verdict, report_url="/copyleaks/ui/reports/g/r1/report.html")
    assert review.subject == "Review draft d1 \u201cHarbour news\u201d: 2 issue(s)"
    assert "| Plagiarism | 42.5% |" in review.body
    assert "[Tidal pools](https://example-news.test/a) (web page): 30% of the draft" in review.body
    assert "**toxic\\-v1**: \u201cyou idiot\u201d" in review.body and "and 2 more" in review.body
    assert "[Open the audit report](/copyleaks/ui/reports/g/r1/report.html)" in review.body


def test_content_cannot_inject_links_or_html_into_the_review() -> None:
    findings = clean_findings(title="[click](https://evil.test) <script>x</script>")
    review = build_review(findings, {"reasons": ["x"]})
    assert "](https://evil.test)" not in review.body and "<script>" not in review.body


def test_the_review_operator_refuses_a_default_that_publishes_and_a_missing_timeout() -> None:
    from airflow_copyleaks.review.operator import CopyleaksReviewOperator

    with pytest.raises(CopyleaksValidationError, match="default_option"):
        CopyleaksReviewOperator(task_id="r", review={}, default_option="Publish")
    with pytest.raises(CopyleaksValidationError, match="response_timeout"):
        CopyleaksReviewOperator(task_id="r", review={}, response_timeout=None)
    op = CopyleaksReviewOperator(task_id="r", review={}, response_timeout=timedelta(minutes=5))
    assert (op.options, op.defaults) == (["Publish", "Request edits", "Reject"], ["Request edits"])


@pytest.mark.parametrize(
    "name", ["CopyleaksReviewOperator", "LogReviewNotifier", "ReviewPolicy", "Verdict", "ReviewRequest"]
)
def test_every_argument_of_the_review_classes_is_documented(name: str) -> None:
    import airflow_copyleaks.review as review

    cls = getattr(review, name)
    documented = set(re.findall(r":param (\w+):", inspect.getdoc(cls) or ""))
    arguments = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs")]
    assert [a for a in arguments if a not in documented] == []


TOLD: list[tuple[str, list[Any]]] = []


def two_waiting() -> list[dict[str, Any]]:
    return [{"id": "d02", "title": "A copy", "note": "plagiarism 40%"}, {"id": "d03", "title": "Rude", "note": "toxic"}]


def nothing_waiting() -> list[dict[str, Any]]:
    return []


def remember(message: str, drafts: list[Any], context: Any) -> None:
    TOLD.append((message, drafts))


async def test_the_deadline_callback_lists_the_drafts_still_waiting_for_an_editor() -> None:
    from airflow_copyleaks.review.deadline import notify_unreviewed

    TOLD.clear()
    context = {
        "dag_run": {"dag_run_id": "r1", "dag_id": "gate"},
        "deadline": {"deadline_time": "2026-12-01T12:00:00+00:00"},
    }
    here = __name__
    listed = await notify_unreviewed(context, pending=f"{here}:two_waiting", notifier=f"{here}:remember")
    assert listed == ["d02", "d03"]
    message = TOLD[0][0]
    assert "run r1" in message and "2 draft(s) still unreviewed" in message
    assert "d03 \u201cRude\u201d (toxic)" in message
    assert await notify_unreviewed(context, pending=f"{here}:nothing_waiting", notifier=f"{here}:remember") == []
    assert len(TOLD) == 1  # nobody is told when nothing waits
