"""Small JSON summaries of the synchronous checks' responses (REFERENCE.md §10).

A summary is what goes to XCom and to the store for one item: the numbers a policy gates on,
the credits paid and a capped sample of details (spans with excerpts, matched images). Each
``*_metrics`` function names the summary's numbers a :class:`~.policy.Policy` may gate on.
Pure functions, no I/O: the responses' shapes are tolerated loosely (REFERENCE.md §14).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_copyleaks.checks.policy import Bound

EXCERPT_MAX_CHARS = 120
MATCH_PAGES_MAX = 5

IMAGE_METRICS: dict[str, Bound] = {"full_matches": "max", "partial_matches": "max", "total_matches": "max"}
AI_TEXT_METRICS: dict[str, Bound] = {"ai": "max", "ai_probability": "max", "human": "min"}
WRITING_METRICS: dict[str, Bound] = {
    "overall_score": "min",
    "grammar_score": "min",
    "mechanics_score": "min",
    "sentence_structure_score": "min",
    "word_choice_score": "min",
    "readability_score": "min",
    "corrections": "max",
}


def _credits(document: Any) -> float:
    """``actualCredits`` (what was charged), falling back to ``expectedCredits``."""
    if not isinstance(document, Mapping):
        return 0.0
    value = document.get("actualCredits", document.get("expectedCredits", 0))
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _excerpt(text: str, start: int, length: int) -> str:
    piece = text[max(0, start) : max(0, start) + max(0, length)]
    return piece if len(piece) <= EXCERPT_MAX_CHARS else piece[: EXCERPT_MAX_CHARS - 1] + "…"


# ------------------------------------------------------------------------------------ moderation


def moderation_metrics(labels: Sequence[str]) -> dict[str, Bound]:
    return dict.fromkeys(labels, "max")


def summarize_moderation(
    response: Mapping[str, Any], text: str, labels: Sequence[str], *, max_spans: int
) -> dict[str, Any]:
    """Flagged spans (label, offsets, excerpt), counts of the labels found, credits.

    Span label indexes resolve through ``legend``; without one they are taken as positions in the
    requested ``labels`` (the numbering scheme is undocumented, REFERENCE.md §10.4).
    """
    legend = {}
    for entry in response.get("legend") or []:
        if isinstance(entry, Mapping) and "index" in entry:
            legend[str(entry["index"])] = str(entry.get("id"))  # Node types the index as a string
    chars = ((response.get("moderations") or {}).get("text") or {}).get("chars") or {}
    if isinstance(chars, list):  # the Node SDK models chars as an array (§14.5)
        chars = chars[0] if chars and isinstance(chars[0], Mapping) else {}
    indexes, starts, lengths = (list(chars.get(k) or []) for k in ("labels", "starts", "lengths"))
    counts = dict.fromkeys(labels, 0)
    spans: list[dict[str, Any]] = []
    for index, start, length in zip(indexes, starts, lengths, strict=False):  # tolerate ragged arrays
        label = legend.get(str(index))
        if label is None:
            pos = int(_number(index, -1))
            label = labels[pos] if 0 <= pos < len(labels) else f"label-{index}"
        counts[label] = counts.get(label, 0) + 1
        spans.append({"label": label, "start": int(start), "length": int(length),
                      "excerpt": _excerpt(text, int(start), int(length))})  # fmt: skip
    document = response.get("scannedDocument") or {}
    return {
        "counts": {label: n for label, n in counts.items() if n},  # zeros add bulk, not news
        "flagged": len(spans),
        "spans": spans[:max_spans],
        "spans_total": len(spans),
        "total_words": int(_number(document.get("totalWords"))),
        "model_version": response.get("modelVersion"),
        "credits": _credits(document),
    }


def moderation_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in (summary.get("counts") or {}).items()}


# ------------------------------------------------------------------------------------ images


def summarize_image(response: Mapping[str, Any], *, max_matches: int) -> dict[str, Any]:
    """Full and partial matches (image URL, the pages showing it), capped; totals; credits."""
    matches = response.get("matches") or {}
    internet = [m for m in matches.get("internet") or [] if isinstance(m, Mapping)]
    score = matches.get("score") or {}
    full = [m for m in internet if int(_number(m.get("matchType"), 1)) == 0]
    partial = [m for m in internet if int(_number(m.get("matchType"), 1)) != 0]
    typed = [(m, "full") for m in full] + [(m, "partial") for m in partial]
    listed = [
        {
            "url": m.get("url"),
            "type": kind,
            "pages": [p.get("url") for p in (m.get("webPages") or []) if isinstance(p, Mapping)][:MATCH_PAGES_MAX],
        }
        for m, kind in typed[:max_matches]
    ]
    image = response.get("scannedImage") or {}
    return {
        "full_matches": int(_number(score.get("fullMatches"), len(full))),
        "partial_matches": int(_number(score.get("partialMatches"), len(partial))),
        "total_matches": int(_number(score.get("totalMatches"), len(internet))),
        "matches": listed,
        "width": image.get("width"),
        "height": image.get("height"),
        "credits": _credits(image),
    }


def image_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(summary.get(k) or 0) for k in IMAGE_METRICS}


# ------------------------------------------------------------------------------------ AI text


def summarize_ai_text(response: Mapping[str, Any]) -> dict[str, Any]:
    """AI and human shares of the text (``summary``), the highest probability among the segments
    classified as AI (0 when none is), credits."""
    summary = response.get("summary") or {}
    results = [r for r in response.get("results") or [] if isinstance(r, Mapping)]
    ai_segments = [r for r in results if int(_number(r.get("classification"))) == 2]
    document = response.get("scannedDocument") or {}
    ai = _number(summary.get("ai"))
    return {
        "ai": ai,
        "human": _number(summary.get("human")),
        "classification": "ai" if ai > 0.5 else "human",
        "segments": len(results),
        "ai_segments": len(ai_segments),
        "ai_probability": max((_number(r.get("probability")) for r in ai_segments), default=0.0),
        "total_words": int(_number(document.get("totalWords"))),
        "model_version": response.get("modelVersion"),
        "credits": _credits(document),
    }


def ai_text_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: _number(summary.get(k)) for k in AI_TEXT_METRICS}


# ------------------------------------------------------------------------------------ writing


def summarize_writing(response: Mapping[str, Any]) -> dict[str, Any]:
    """Overall and per-category scores, readability, the number of corrections, credits."""
    score = response.get("score") or {}
    corr = score.get("corrections") or {}
    readability = score.get("readability") or {}
    chars = ((response.get("corrections") or {}).get("text") or {}).get("chars") or {}
    counted = sum(int(_number(corr.get(f"{c}CorrectionsCount"))) for c in _CATEGORIES)
    return {
        "overall_score": _number(corr.get("overallScore")),
        **{f"{snake}_score": _number(corr.get(f"{c}CorrectionsScore"), 100.0) for c, snake in _CATEGORIES.items()},
        **{f"{snake}_corrections": int(_number(corr.get(f"{c}CorrectionsCount"))) for c, snake in _CATEGORIES.items()},
        "corrections": len(chars.get("starts") or []) or counted,
        "readability_score": _number(readability.get("score")),
        "readability_level": readability.get("readabilityLevelText"),
        "total_words": int(_number((response.get("scannedDocument") or {}).get("totalWords"))),
        "credits": _credits(response.get("scannedDocument")),
    }


_CATEGORIES = {
    "grammar": "grammar",
    "mechanics": "mechanics",
    "sentenceStructure": "sentence_structure",
    "wordChoice": "word_choice",
}


def writing_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: _number(summary.get(k)) for k in WRITING_METRICS}
