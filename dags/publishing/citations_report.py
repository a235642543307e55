"""A draft's citation check in a report: the references an editor must look at, and one CSV cell.

``part`` is :meth:`airflow_copyleaks.checks.citations.CitationSummary.to_dict` (the same dict the
gate's review takes). Reference texts and URLs come from the checked document, so everything is
escaped and only http(s) URLs become links.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from publishing.report import esc, link

CSV_COLUMN = "references"
MEANING = {
    "unverifiable": "could not be verified",
    "fabricated": "the cited work does not exist",
    "misattributed": "does not match the cited source (title, authors or year)",
    "malformed": "Copyleaks' answer for it could not be read",
}
ORDER = ("fabricated", "misattributed", "malformed", "unverifiable")


def csv_cell(part: Mapping[str, Any] | None) -> str:
    """ "2 of 5 not verified: 1 fabricated, 1 unverifiable", "error: ...", or "" when not checked."""
    if part is None:
        return ""
    if part.get("error"):
        return f"error: {part['error']}"
    counts = part.get("counts") or {}
    found = [f"{counts[s]} {s}" for s in ORDER if counts.get(s)]
    head = f"{int(part.get('unverified') or 0)} of {int(part.get('total') or 0)} not verified"
    return head + (": " + ", ".join(found) if found else "")


def html_section(part: Mapping[str, Any] | None) -> str:
    """The "References" block of one item: its problems and every reference not verified."""
    if part is None:
        return ""
    lines = [f"<h3>References</h3><p>{esc(csv_cell(part))}</p>"]
    lines += [f'<p class="action">{esc(e)}</p>' for e in part.get("errors") or []]
    rows = [r for r in part.get("references") or [] if r.get("status") != "verified"]
    if rows:
        lines.append('<div class="scroll"><table><tr><th>#</th><th>Status</th><th>Reference</th></tr>')
        for r in rows:
            url = r.get("url") or ""
            href = url if url.startswith(("http://", "https://")) else None
            cited = link(href, url) if url else ""
            reason = r.get("problem") or MEANING.get(str(r.get("status")), "")
            lines.append(
                f'<tr><td class="num">{esc(r.get("position"))}</td>'
                f"<td><b>{esc(r.get('status'))}</b><br>{esc(reason)}</td>"
                f"<td>{esc(r.get('text') or r.get('title'))}<br>{cited}</td></tr>"
            )
        lines.append("</table></div>")
    return "\n".join(lines)
