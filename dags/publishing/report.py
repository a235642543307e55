"""The audit report an editor opens: an HTML page per run, plus CSV and JSON for machines."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from typing import Any


def report_dir(dag_id: str, run_id: str) -> Any:
    """``<artifacts_url>/reports/<dag_id>/<run_id>/``: any worker writes it, the api-server serves it."""
    from airflow_copyleaks.ui.locations import report_path

    return report_path(dag_id, run_id).parent


def _bar_chart(rows: Sequence[dict[str, Any]], threshold: float | None) -> str:
    """An inline SVG bar chart of the scores, with the threshold as a line; none without scores."""
    if all(row.get("score") is None for row in rows):
        return ""  # e.g. moderation: a verdict per item, no percentage to chart
    bar_h, gap = 18, 6
    label_w = max(60, 8 + 7 * max(len(str(row["key"])) for row in rows))  # ~7 px a character at 12 px
    width = label_w + 580
    height = len(rows) * (bar_h + gap) + 30
    scale = (width - label_w - 50) / 100
    parts = [
        f'<svg role="img" aria-label="Scores" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, row in enumerate(rows):
        y = i * (bar_h + gap) + 10
        score = float(row.get("score") or 0)
        colour = "#c0392b" if row.get("verdict") == "flagged" else "#2e86c1"
        key = html.escape(str(row["key"]))
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{key}</text>')
        parts.append(
            f'<rect class="bar" data-key="{key}" data-score="{score}" x="{label_w}" y="{y}" '
            f'width="{score * scale:.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_w + score * scale + 4:.1f}" y="{y + 13}" font-size="12">{score:.1f}%</text>')
    if threshold is not None:
        x = label_w + threshold * scale
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#555" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "".join(parts)


def _source_html(source: dict[str, Any]) -> str:
    title = html.escape(source.get("title") or source.get("url", ""))
    url = source.get("url")
    return f'<a href="{html.escape(url)}">{title}</a>' if url else title


def write_report(
    dag_id: str,
    run_id: str,
    title: str,
    rows: Sequence[dict[str, Any]],
    *,
    threshold: float | None,
    totals: dict[str, Any],
    title_heading: str = "Title",
    window: dict[str, str] | None = None,
) -> dict[str, str]:
    """Write report.html, report.csv and report.json; return their paths.

    Each row: key, title, score, verdict, sources (list of {title, url}), links (list of {label, href}).
    ``threshold`` (a score in %) is drawn on the chart; None for reports without scores.
    """
    folder = report_dir(dag_id, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    columns = ["key", "title", "score", "verdict", "sources"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                row["key"],
                row.get("title", ""),
                row.get("score"),
                row.get("verdict"),
                " ".join(s.get("url", "") for s in row.get("sources", [])),
            ]
        )
    (folder / "report.csv").write_text(buffer.getvalue())
    (folder / "report.json").write_text(
        json.dumps({"title": title, "window": window, "totals": totals, "rows": list(rows)}, indent=2)
    )
    body_rows = []
    for row in rows:
        sources = "<br>".join(_source_html(s) for s in row.get("sources", []))
        links = " ".join(
            f'<a href="{html.escape(link["href"])}">{html.escape(link["label"])}</a>' for link in row.get("links", [])
        )
        verdict = html.escape(str(row.get("verdict", "")))
        score = row.get("score")
        body_rows.append(
            f'<tr class="{verdict}"><td>{html.escape(str(row["key"]))}</td><td>{html.escape(str(row.get("title", "")))}'
            f"</td><td>{'' if score is None else f'{float(score):.1f}%'}</td><td>{verdict}</td>"
            f"<td>{sources}</td><td>{links}</td></tr>"
        )
    summary = " · ".join(f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in totals.items())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 1rem; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
tr.flagged td {{ background: #fdecea; }}
.summary {{ color: #555; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="summary">{summary}{"" if threshold is None else f" · threshold {threshold:g}%"}</p>
{_bar_chart(rows, threshold)}
<table><thead><tr><th>Item</th><th>{html.escape(title_heading)}</th><th>Score</th><th>Verdict</th>
<th>Matched sources</th><th>Files</th></tr></thead><tbody>
{"".join(body_rows)}
</tbody></table></body></html>
"""
    (folder / "report.html").write_text(page)
    return {"html": str(folder / "report.html"), "csv": str(folder / "report.csv"), "json": str(folder / "report.json")}
