"""One draft's Copyleaks results as plain, JSON-able data: what the policy judges and the review shows.

The inputs are what the provider's operators already return: the submit operator's item (its scan
id and the completed scan's score), the completed webhook's payload (the matched sources, read
from the ScanStore) and the synchronous checks' reports (one entry per item, found by its key).
A check that failed for this draft keeps its error, and a check that has no entry for it is
``None``: the policy treats both as "not checked", never as clean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SOURCES_MAX = 5  # matched sources kept per draft (the report lists them all)
SPANS_MAX = 10  # flagged moderation spans kept per draft


def report_entry(report: Mapping[str, Any] | None, key: str) -> dict[str, Any] | None:
    """The entry of ``key`` in a synchronous check's report, or ``None`` if it has none."""
    for entry in (report or {}).get("items") or []:
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return dict(entry)
    return None


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def matched_sources(completed: Mapping[str, Any] | None, *, limit: int = SOURCES_MAX) -> list[dict[str, Any]]:
    """Web pages and our own indexed documents the scan matched, largest share first."""
    if not completed:
        return []
    results = completed.get("results") or {}
    total = _number((completed.get("scannedDocument") or {}).get("totalWords"))
    found: list[dict[str, Any]] = []
    for kind, wire in (("web page", "internet"), ("our archive", "database")):
        for result in results.get(wire) or []:
            if not isinstance(result, Mapping):
                continue
            matched = _number(result.get("matchedWords"))
            found.append(
                {
                    "kind": kind,
                    "title": str(result.get("title") or result.get("url") or result.get("scanId") or ""),
                    "url": str(result.get("url") or ""),
                    "share": round(100.0 * matched / total, 1) if total else 0.0,
                }
            )
    found.sort(key=lambda s: -float(s["share"]))
    return found[:limit]


def plagiarism_finding(item: Mapping[str, Any] | None, completed: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The scan's score and sources from the submit operator's item and the completed payload."""
    if item is None:
        return None
    if item.get("error"):
        return {"error": str(item["error"]), "scan_id": item.get("scan_id")}
    result = item.get("result") or {}
    if result.get("error") or result.get("status") in ("error", "deleted"):
        return {"error": f"scan {result.get('status') or 'failed'}", "scan_id": item.get("scan_id")}
    score = (completed or {}).get("results", {}).get("score", {}).get("aggregatedScore", result.get("score"))
    return {
        "scan_id": item.get("scan_id"),
        "score": _number(score),
        "credits": _number(result.get("credits")),
        "sources": matched_sources(completed),
    }


def check_finding(entry: Mapping[str, Any] | None, fields: Sequence[str]) -> dict[str, Any] | None:
    """The figures ``fields`` of one synchronous check's entry (its error if it failed)."""
    if entry is None:
        return None
    if entry.get("verdict") == "error":
        return {"error": str(entry.get("error") or "check failed")}
    return {name: entry.get(name) for name in (*fields, "credits")}


def draft_findings(
    key: str,
    *,
    title: str = "",
    url: str = "",
    sandbox: bool = False,
    plagiarism_item: Mapping[str, Any] | None = None,
    completed: Mapping[str, Any] | None = None,
    moderation: Mapping[str, Any] | None = None,
    ai_text: Mapping[str, Any] | None = None,
    image: Mapping[str, Any] | None = None,
    citations: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything known about one draft, small enough for XCom.

    ``moderation``, ``ai_text`` and ``image`` are the draft's entries in those checks' reports
    (:func:`report_entry`); ``citations`` a citation summary (``total``, ``unverified``,
    ``references``), or ``None`` where the gate does not check citations.
    """
    mod = check_finding(moderation, ("counts", "spans", "spans_total"))
    if mod is not None and "spans" in mod:
        mod["spans"] = [
            {"label": s.get("label"), "excerpt": s.get("excerpt")} for s in (mod.get("spans") or [])[:SPANS_MAX]
        ]
    return {
        "key": key,
        "title": title or key,
        "url": url,
        "sandbox": bool(sandbox),
        "plagiarism": plagiarism_finding(plagiarism_item, completed),
        "moderation": mod,
        "ai_text": check_finding(ai_text, ("ai", "classification", "ai_probability")),
        "image": check_finding(image, ("full_matches", "partial_matches", "matches")),
        "citations": dict(citations) if citations is not None else None,
    }


def credits_of(findings: Mapping[str, Any]) -> float:
    """What the checks of one draft cost, in Copyleaks credits."""
    parts = ("plagiarism", "moderation", "ai_text", "image", "citations")
    return sum(_number((findings.get(part) or {}).get("credits")) for part in parts)
