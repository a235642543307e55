"""Summaries tolerate the response shapes REFERENCE.md documents (and the SDKs' variants)."""

from __future__ import annotations

from airflow_copyleaks.checks.ai_text import ai_text_values, summarize_ai_text
from airflow_copyleaks.checks.figures import EXCERPT_MAX_CHARS
from airflow_copyleaks.checks.images import summarize_image
from airflow_copyleaks.checks.moderation import summarize_moderation
from airflow_copyleaks.checks.writing import summarize_writing

TEXT = "You idiot, damn it."


def test_moderation_resolves_labels_through_the_legend_or_request_order() -> None:
    chars = {"labels": [7, 3], "starts": [4, 11], "lengths": [5, 4]}
    with_legend = {
        "moderations": {"text": {"chars": chars}},
        "legend": [{"index": "7", "id": "toxic-v1"}, {"index": 3, "id": "profanity-v1"}],  # Node: string index
        "scannedDocument": {"actualCredits": 1, "totalWords": 4},
    }
    out = summarize_moderation(with_legend, TEXT, ["profanity-v1", "toxic-v1"], max_spans=5)
    assert out["counts"] == {"toxic-v1": 1, "profanity-v1": 1}
    assert [sp["excerpt"] for sp in out["spans"]] == ["idiot", "damn"]
    assert out["credits"] == 1 and out["total_words"] == 4
    # No legend and chars as an array (the Node branch's model): positions in the request.
    bare = {"moderations": {"text": {"chars": [{"labels": [1], "starts": [4], "lengths": [5]}]}}}
    assert summarize_moderation(bare, TEXT, ["profanity-v1", "toxic-v1"], max_spans=5)["counts"] == {"toxic-v1": 1}
    assert summarize_moderation({}, TEXT, ["toxic-v1"], max_spans=5)["flagged"] == 0


def test_excerpts_are_capped() -> None:
    long_text = "x" * 500
    resp = {"moderations": {"text": {"chars": {"labels": [0], "starts": [0], "lengths": [500]}}}}
    (span,) = summarize_moderation(resp, long_text, ["toxic-v1"], max_spans=5)["spans"]
    assert len(span["excerpt"]) == EXCERPT_MAX_CHARS and span["length"] == 500


def test_image_matches_without_score_or_pages() -> None:
    resp = {
        "matches": {
            "internet": [{"url": "a", "matchType": 1}, {"url": "b", "matchType": 0, "webPages": [{"url": "p"}]}]
        },
        "scannedImage": {"expectedCredits": 1},
    }
    out = summarize_image(resp, max_matches=1)
    assert (out["full_matches"], out["partial_matches"], out["total_matches"]) == (1, 1, 2)
    assert out["matches"] == [{"url": "b", "type": "full", "pages": ["p"]}]  # full first, capped
    assert out["credits"] == 1


def test_writing_and_ai_summaries_from_the_documented_examples() -> None:
    writing = {
        "score": {
            "corrections": {"grammarCorrectionsCount": 2, "grammarCorrectionsScore": 87, "mechanicsCorrectionsCount": 9,
                            "mechanicsCorrectionsScore": 38, "wordChoiceCorrectionsCount": 1,
                            "wordChoiceCorrectionsScore": 93, "overallScore": 79},
            "readability": {"score": 59, "readabilityLevelText": "10th to 12th Grader"},
        },
        "scannedDocument": {"actualCredits": 1},
    }  # fmt: skip
    out = summarize_writing(writing)
    assert out["overall_score"] == 79 and out["sentence_structure_score"] == 100  # absent: nothing to correct
    assert out["corrections"] == 12 and out["readability_level"] == "10th to 12th Grader"
    ai = {"results": [{"classification": 2, "probability": 0.93}], "summary": {"human": 0.2, "ai": 0.8}}
    assert ai_text_values(summarize_ai_text(ai)) == {"ai": 0.8, "ai_probability": 0.93, "human": 0.2}
