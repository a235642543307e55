"""Text moderation (REFERENCE.md §10.4): the summary of a response and the product's spec."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_copyleaks import validation as v
from airflow_copyleaks.checks.figures import credits_of, excerpt, number
from airflow_copyleaks.checks.inputs import text_items
from airflow_copyleaks.checks.policy import Bound
from airflow_copyleaks.checks.spec import CheckSpec, Prepared, text_preparer

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook


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
            pos = int(number(index, -1))
            label = labels[pos] if 0 <= pos < len(labels) else f"label-{index}"
        counts[label] = counts.get(label, 0) + 1
        spans.append({"label": label, "start": int(start), "length": int(length),
                      "excerpt": excerpt(text, int(start), int(length))})  # fmt: skip
    document = response.get("scannedDocument") or {}
    return {
        "counts": {label: n for label, n in counts.items() if n},  # zeros add bulk, not news
        "flagged": len(spans),
        "spans": spans[:max_spans],
        "spans_total": len(spans),
        "total_words": int(number(document.get("totalWords"))),
        "model_version": response.get("modelVersion"),
        "credits": credits_of(document),
    }


def moderation_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(val) for k, val in (summary.get("counts") or {}).items()}


def parse_labels(value: Sequence[str] | str | None) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):  # templated Params may render a list as "a,b"
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def moderation_spec(labels: Sequence[str] | str | None, language: str | None, *, max_details: int) -> CheckSpec:
    """The moderation product; an unknown label fails here, before any call."""
    chosen = v.validate_moderation_labels(parse_labels(labels))

    def call(hook: CopyleaksHook, scan_id: str, prepared: Prepared, sandbox: bool | None) -> dict[str, Any]:
        response = hook.moderate_text(scan_id, prepared.payload, labels=chosen, sandbox=sandbox, language=language)
        return summarize_moderation(response, prepared.payload, chosen, max_spans=max_details)

    def aggregate(summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        counts = dict.fromkeys(chosen, 0)
        for summary in summaries:
            for label, n in (summary.get("counts") or {}).items():
                counts[label] = counts.get(label, 0) + int(n)
        return {"counts": counts}

    return CheckSpec(
        kind="moderation",
        id_prefix="mod",
        bounds=moderation_metrics(chosen),
        default_thresholds={"*": 0},
        collect=text_items,
        prepare=text_preparer(1, v.MODERATION_TEXT_MAX),
        call=call,
        values=lambda summary: {**dict.fromkeys(chosen, 0.0), **moderation_values(summary)},
        fingerprint=f"{','.join(sorted(chosen))}|{language or ''}",
        aggregate=aggregate,
    )
