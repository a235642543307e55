"""The pre-publication gate's report rows, and how an editor sees them.

One row per draft: its verdict and the policy's reasons, each check's figures, the matched
sources and flagged passages, the editor's decision (or the timeout's default) and what was
done in the CMS. The same page is linked from every review of the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from publishing import citations_report
from publishing.report import esc, link

CSV_COLUMNS = [
    "draft", "title", "verdict", "reasons", "plagiarism_score", "ai_share", "moderation", "image_matches",
    "references", "decision", "action", "credits",
]  # fmt: skip
LEGEND = ""


def row_for(findings: dict[str, Any], verdict: dict[str, Any], credits: float) -> dict[str, Any]:
    plagiarism = findings.get("plagiarism") or {}
    ai = findings.get("ai_text") or {}
    image = findings.get("image") or {}
    return {
        "key": findings["key"],
        "title": findings.get("title"),
        "url": findings.get("url"),
        "sandbox": findings.get("sandbox"),
        "verdict": verdict["verdict"],
        "reasons": verdict["reasons"],
        "score": plagiarism.get("score"),
        "sources": plagiarism.get("sources") or [],
        "ai_share": None if ai.get("ai") is None else round(100.0 * float(ai["ai"]), 1),
        "moderation": (findings.get("moderation") or {}).get("counts") or {},
        "spans": (findings.get("moderation") or {}).get("spans") or [],
        "image_matches": int(image.get("full_matches") or 0) + int(image.get("partial_matches") or 0),
        "citations": findings.get("citations"),
        "decision": "",
        "action": "awaiting an editor" if verdict["verdict"] == "flagged" else "",
        "credits": credits,
    }


def csv_rows(rows: Sequence[dict[str, Any]]) -> Iterable[list[Any]]:
    for r in rows:
        labels = "; ".join(f"{k}={v}" for k, v in sorted(r["moderation"].items()))
        yield [
            r["key"], r["title"], r["verdict"], "; ".join(r["reasons"]), r["score"], r["ai_share"], labels,
            r["image_matches"], citations_report.csv_cell(r.get("citations")), r["decision"], r["action"],
            r["credits"],
        ]  # fmt: skip


def html_body(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(_card(r) for r in rows)


def _card(r: dict[str, Any]) -> str:
    flagged = r["verdict"] == "flagged"
    badge = f'<span class="badge{" flagged" if flagged else ""}">{esc(r["verdict"])}</span>'
    reasons = "".join(f"<li>{esc(x)}</li>" for x in r["reasons"])
    sources = "".join(
        f"<tr><td>{link(s.get('url'), s.get('title'))}</td><td>{esc(s.get('kind'))}</td>"
        f'<td class="num">{esc(s.get("share"))}%</td></tr>'
        for s in r["sources"]
    )
    spans = "".join(
        f'<li><mark class="label">{esc(s.get("excerpt"))}<sup>{esc(s.get("label"))}</sup></mark></li>'
        for s in r["spans"]
    )
    figures = (
        f"plagiarism {esc(r['score'])}% · AI-written {esc(r['ai_share'])}% · "
        f"hero image matches {esc(r['image_matches'])} · {esc(r['credits'])} credit(s)"
    )
    decision = f" · editor: {esc(r['decision'])}" if r["decision"] else ""
    return (
        f'<section class="item{" flagged" if flagged else ""}"><h2>{badge}{link(r.get("url"), r["title"])}</h2>'
        f'<p class="meta">draft {esc(r["key"])} · {figures}</p>'
        f'<p class="action">{esc(r["action"] or "published")}{decision}</p>'
        + (f"<h3>Why</h3><ul>{reasons}</ul>" if reasons else "")
        + (f'<h3>Matched sources</h3><div class="scroll"><table>{sources}</table></div>' if sources else "")
        + (f"<h3>Flagged passages</h3><ul>{spans}</ul>" if spans else "")
        + citations_report.html_section(r.get("citations"))
        + "</section>"
    )
