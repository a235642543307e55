"""What an editor reads: the review's subject and Markdown body, built from one draft's findings.

Everything that comes from the draft or from Copyleaks (titles, excerpts, URLs) is escaped, so a
draft cannot inject links or formatting into the review page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_copyleaks.review.policy import Verdict

SUBJECT_MAX = 200
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def md(value: Any) -> str:
    """Text shown literally in Markdown (no links, emphasis or HTML from the content)."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(value if value is not None else "").split()))


def _safe_url(url: str) -> str:
    return url.replace(" ", "%20").replace(")", "%29").replace("(", "%28")


@dataclass(frozen=True)
class ReviewRequest:
    """The subject and body of one draft's review.

    :param subject: The review's one-line subject (the draft's title and why it was flagged).
    :param body: The Markdown body: scores, matched sources, flagged spans, the report link.
    """

    subject: str
    body: str


def build_review(
    findings: Mapping[str, Any], verdict: Verdict | Mapping[str, Any], *, report_url: str | None = None
) -> ReviewRequest:
    """Subject and Markdown body: why the draft was flagged, scores, sources, spans, report link.

    :param findings: One draft's findings (:func:`~airflow_copyleaks.review.findings.draft_findings`).
    :param verdict: The policy's :class:`~airflow_copyleaks.review.policy.Verdict` (or its dict).
    :param report_url: The run's audit report, linked from the body.
    """
    reasons = list(verdict.reasons if isinstance(verdict, Verdict) else verdict.get("reasons") or [])
    key, title = str(findings.get("key")), str(findings.get("title") or findings.get("key"))
    subject = f"Review draft {key} \u201c{title}\u201d: {len(reasons)} issue(s)"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "\u2026"
    parts = [f"**{md(title)}** (draft `{key}`)"]
    if findings.get("url"):
        parts.append(f"Preview: <{_safe_url(str(findings['url']))}>")
    parts.append("### Why it needs an editor\n" + "\n".join(f"- {md(r)}" for r in reasons or ["(no reason given)"]))
    parts.append(_scores(findings))
    parts += [section for section in (_sources(findings), _spans(findings), _images(findings)) if section]
    if report_url:
        parts.append(f"[Open the audit report]({_safe_url(report_url)})")
    parts.append(
        "**Publish** publishes the draft now. **Request edits** sends it back to its author "
        "(also what happens if nobody answers in time). **Reject** withdraws it."
    )
    return ReviewRequest(subject=subject, body="\n\n".join(parts))


def _figure(part: Mapping[str, Any] | None, show: Any) -> str:
    if part is None:
        return "not run"
    if part.get("error"):
        return f"failed: {md(part['error'])}"
    return str(show(part))


def _scores(findings: Mapping[str, Any]) -> str:
    rows = [
        ("Plagiarism", _figure(findings.get("plagiarism"), lambda p: f"{float(p.get('score') or 0):g}%")),
        ("AI-written share", _figure(findings.get("ai_text"), lambda p: f"{float(p.get('ai') or 0):.0%}")),
        ("Moderation", _figure(findings.get("moderation"), _labels)),
        ("Hero image on the web", _figure(findings.get("image"), _matches)),
    ]
    if findings.get("citations") is not None:
        rows.append(("Unverified references", _figure(findings["citations"], _references)))
    lines = ["| Check | Result |", "| --- | --- |"] + [f"| {name} | {value} |" for name, value in rows]
    return "### Scores\n" + "\n".join(lines)


def _labels(part: Mapping[str, Any]) -> str:
    counts = part.get("counts") or {}
    return ", ".join(f"{md(k)} \u00d7{v}" for k, v in sorted(counts.items())) or "nothing flagged"


def _matches(part: Mapping[str, Any]) -> str:
    return f"{int(part.get('full_matches') or 0)} full, {int(part.get('partial_matches') or 0)} partial"


def _references(part: Mapping[str, Any]) -> str:
    return f"{int(part.get('unverified') or 0)} of {int(part.get('total') or 0)}"


def _sources(findings: Mapping[str, Any]) -> str:
    sources = (findings.get("plagiarism") or {}).get("sources") or []
    if not sources:
        return ""
    lines = []
    for s in sources:
        name = md(s.get("title") or s.get("url"))
        shown = f"[{name}]({_safe_url(s['url'])})" if str(s.get("url") or "").startswith("http") else name
        lines.append(f"- {shown} ({md(s.get('kind'))}): {float(s.get('share') or 0):g}% of the draft")
    return "### Matched sources\n" + "\n".join(lines)


def _spans(findings: Mapping[str, Any]) -> str:
    part = findings.get("moderation") or {}
    spans = part.get("spans") or []
    if not spans:
        return ""
    lines = [f"- **{md(s.get('label'))}**: \u201c{md(s.get('excerpt'))}\u201d" for s in spans]
    more = int(part.get("spans_total") or len(spans)) - len(spans)
    if more > 0:
        lines.append(f"- and {more} more (see the report)")
    return "### Flagged passages\n" + "\n".join(lines)


def _images(findings: Mapping[str, Any]) -> str:
    matches = (findings.get("image") or {}).get("matches") or []
    lines = []
    for m in matches:
        pages = [p for p in m.get("pages") or [] if str(p).startswith("http")]
        where = f" on <{_safe_url(pages[0])}>" if pages else ""
        lines.append(f"- {md(m.get('type'))} match{where}")
    return "### Hero image found on the web\n" + "\n".join(lines) if lines else ""
