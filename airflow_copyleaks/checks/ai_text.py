"""AI-text detection (REFERENCE.md §10.2): the summary of a response and the product's spec."""

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

AI_TEXT_METRICS: dict[str, Bound] = {"ai": "max", "ai_probability": "max", "human": "min"}


def summarize_ai_text(response: Mapping[str, Any]) -> dict[str, Any]:
    """AI and human shares of the text (``summary``), the highest probability among the segments
    classified as AI (0 when none is), credits."""
    summary = response.get("summary") or {}
    results = [r for r in response.get("results") or [] if isinstance(r, Mapping)]
    ai_segments = [r for r in results if int(number(r.get("classification"))) == 2]
    document = response.get("scannedDocument") or {}
    ai = number(summary.get("ai"))
    return {
        "ai": ai,
        "human": number(summary.get("human")),
        "classification": "ai" if ai > 0.5 else "human",
        "segments": len(results),
        "ai_segments": len(ai_segments),
        "ai_probability": max((number(r.get("probability")) for r in ai_segments), default=0.0),
        "total_words": int(number(document.get("totalWords"))),
        "model_version": response.get("modelVersion"),
        "credits": credits_of(document),
    }


def ai_text_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: number(summary.get(k)) for k in AI_TEXT_METRICS}


def _aggregate(summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
    scores = [float(x.get("ai") or 0) for x in summaries]
    return {"max_ai": max(scores, default=0.0), "mean_ai": round(sum(scores) / len(scores), 4) if scores else 0.0}


def ai_text_spec(language: str | None, sensitivity: int | str | None) -> CheckSpec:
    """The AI-text detection product; a sensitivity outside 1 to 3 fails here, before any call."""
    if sensitivity is not None and str(sensitivity) not in ("1", "2", "3"):
        raise CopyleaksValidationError("sensitivity", f"is {sensitivity!r}", limit="1 to 3")
    level = int(sensitivity) if sensitivity is not None else None

    def call(hook: CopyleaksHook, scan_id: str, prepared: Prepared, sandbox: bool | None) -> dict[str, Any]:
        response = hook.detect_ai_text(scan_id, prepared.payload, sandbox=sandbox, language=language, sensitivity=level)
        return summarize_ai_text(response)

    return CheckSpec(
        kind="ai_text",
        id_prefix="ai",
        bounds=dict(AI_TEXT_METRICS),
        default_thresholds={"ai": 0.5},
        collect=text_items,
        prepare=text_preparer(v.AI_DETECTION_TEXT_MIN, v.AI_DETECTION_TEXT_MAX),
        call=call,
        values=ai_text_values,
        fingerprint=f"{language or ''}|{sensitivity or ''}",
        aggregate=_aggregate,
    )
