"""Writing feedback (REFERENCE.md §10.3): the summary of a response and the product's spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_copyleaks import validation as v
from airflow_copyleaks.checks.figures import credits_of, number
from airflow_copyleaks.checks.inputs import text_items
from airflow_copyleaks.checks.policy import Bound
from airflow_copyleaks.checks.spec import CheckSpec, Prepared, text_preparer
from airflow_copyleaks.exceptions import CopyleaksValidationError

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

WRITING_METRICS: dict[str, Bound] = {
    "overall_score": "min",
    "grammar_score": "min",
    "mechanics_score": "min",
    "sentence_structure_score": "min",
    "word_choice_score": "min",
    "readability_score": "min",
    "corrections": "max",
}
_CATEGORIES = {
    "grammar": "grammar",
    "mechanics": "mechanics",
    "sentenceStructure": "sentence_structure",
    "wordChoice": "word_choice",
}


def summarize_writing(response: Mapping[str, Any]) -> dict[str, Any]:
    """Overall and per-category scores, readability, the number of corrections, credits."""
    score = response.get("score") or {}
    corr = score.get("corrections") or {}
    readability = score.get("readability") or {}
    chars = ((response.get("corrections") or {}).get("text") or {}).get("chars") or {}
    counted = sum(int(number(corr.get(f"{c}CorrectionsCount"))) for c in _CATEGORIES)
    return {
        "overall_score": number(corr.get("overallScore")),
        **{f"{snake}_score": number(corr.get(f"{c}CorrectionsScore"), 100.0) for c, snake in _CATEGORIES.items()},
        **{f"{snake}_corrections": int(number(corr.get(f"{c}CorrectionsCount"))) for c, snake in _CATEGORIES.items()},
        "corrections": len(chars.get("starts") or []) or counted,
        "readability_score": number(readability.get("score")),
        "readability_level": readability.get("readabilityLevelText"),
        "total_words": int(number((response.get("scannedDocument") or {}).get("totalWords"))),
        "credits": credits_of(response.get("scannedDocument")),
    }


def writing_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: number(summary.get(k)) for k in WRITING_METRICS}


def _aggregate(summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
    scores = [float(x.get("overall_score") or 0) for x in summaries]
    return {
        "min_overall_score": min(scores, default=0.0),
        "mean_overall_score": round(sum(scores) / len(scores), 2) if scores else 0.0,
    }


def writing_spec(language: str | None, score_weights: Mapping[str, Any] | None) -> CheckSpec:
    """The writing feedback product; a category weight outside 0 to 1 fails here, before any call."""
    for name, weight in (score_weights or {}).items():
        try:
            ok = 0.0 <= float(weight) <= 1.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise CopyleaksValidationError(f"score_weights.{name}", f"is {weight!r}", limit="0.0 to 1.0")
    weights = {k: float(w) for k, w in score_weights.items()} if score_weights else None

    def call(hook: CopyleaksHook, scan_id: str, prepared: Prepared, sandbox: bool | None) -> dict[str, Any]:
        response = hook.writing_feedback(
            scan_id, prepared.payload, sandbox=sandbox, language=language, score_weights=weights
        )
        return summarize_writing(response)

    return CheckSpec(
        kind="writing",
        id_prefix="wf",
        bounds=dict(WRITING_METRICS),
        default_thresholds={"overall_score": 50},
        collect=text_items,
        prepare=text_preparer(1, v.WRITING_FEEDBACK_TEXT_MAX),
        call=call,
        values=writing_values,
        fingerprint=f"{language or ''}|{','.join(f'{k}={w}' for k, w in sorted((weights or {}).items()))}",
        aggregate=_aggregate,
    )
