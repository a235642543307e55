"""The audit report of a run: one self-contained HTML page for editors, CSV and JSON for machines.

Files go to ``<[copyleaks] artifacts_url>/reports/<dag_id>/<run_id>/report.html|csv|json`` through
ObjectStoragePath (any worker writes them, the api-server serves them at
``/copyleaks/ui/reports/<dag_id>/<run_id>/report.html``). The page needs nothing from outside:
styles inline, readable at phone width, printable. What each DAG shows per item lives in
:mod:`publishing.plagiarism_report` and :mod:`publishing.moderation_report`.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --flag: #b42318; --flag-bg: #fef3f2;
  --ok: #1a7f37; --identical: #ffd8d3; --minor: #ffe8a3; --paraphrased: #d6e4ff; --label: #f4d2ff; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  margin: 0 auto; padding: 1rem; max-width: 64rem; }
h1 { font-size: 1.5rem; margin: .2rem 0 .6rem; }
h2 { font-size: 1.15rem; margin: 0 0 .3rem; overflow-wrap: anywhere; }
h3 { font-size: .95rem; margin: .9rem 0 .3rem; color: var(--muted); text-transform: uppercase;
  letter-spacing: .03em; }
a { color: #0969da; }
.run { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 1rem; font-size: .92rem; }
.run dt { color: var(--muted); }
.run dd { margin: 0; overflow-wrap: anywhere; }
.totals { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; margin: 0 0 1.2rem; list-style: none; }
.totals li { border: 1px solid var(--line); border-radius: .5rem; padding: .3rem .7rem; }
.totals b { font-size: 1.2rem; margin-right: .3rem; }
.sandbox { background: #fff8c5; border: 1px solid #d4a72c; border-radius: .5rem; padding: .6rem .8rem;
  margin-bottom: 1rem; }
.item { border: 1px solid var(--line); border-radius: .6rem; padding: .8rem 1rem; margin: 0 0 1rem; }
.item.flagged { border-left: .35rem solid var(--flag); background: var(--flag-bg); }
.badge { display: inline-block; font-size: .8rem; font-weight: 600; border-radius: 1rem; padding: .05rem .6rem;
  margin-right: .4rem; vertical-align: .1rem; color: #fff; background: var(--ok); }
.badge.flagged { background: var(--flag); }
.badge.mock { background: #9a6700; }
.meta { color: var(--muted); font-size: .9rem; margin: 0 0 .4rem; }
.action { font-weight: 600; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
.passage { display: grid; grid-template-columns: 1fr 1fr; gap: .6rem; margin: .5rem 0; }
.passage > div { background: #fff; border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .7rem; }
.passage h4 { margin: 0 0 .25rem; font-size: .8rem; color: var(--muted); overflow-wrap: anywhere; }
.passage p, .text { margin: 0; overflow-wrap: anywhere; }
.text { background: #fff; border: 1px solid var(--line); border-radius: .4rem; padding: .5rem .7rem;
  white-space: pre-line; }
mark { border-radius: .2rem; padding: 0 .1rem; }
mark.identical { background: var(--identical); }
mark.minor-changes { background: var(--minor); }
mark.paraphrased { background: var(--paraphrased); }
mark.label { background: var(--label); }
mark sup { font-size: .65rem; color: var(--muted); margin-left: .15rem; }
.legend mark { margin-right: .5rem; }
.files a { margin-right: .8rem; }
.thumb { float: right; width: 6rem; height: auto; margin: 0 0 .4rem .6rem; border-radius: .3rem; }
.clean { columns: 2 18rem; padding-left: 1.2rem; }
footer { color: var(--muted); font-size: .8rem; margin-top: 2rem; }
@media (max-width: 40rem) {
  body { padding: .6rem; font-size: 15px; }
  .passage { grid-template-columns: 1fr; }
  .run { grid-template-columns: 1fr; }
  .run dt { margin-top: .3rem; }
  .thumb { width: 4.5rem; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  .item { break-inside: avoid; background: none !important; }
  .item.flagged { border-left-width: 4pt; }
  a { color: inherit; text-decoration: none; }
  a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 8pt; color: var(--muted); overflow-wrap: anywhere; }
  mark, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .files { display: none; }
}
"""


@dataclass(frozen=True)
class RunInfo:
    """What a report says about the run that wrote it."""

    dag_id: str
    run_id: str
    title: str
    window_start: str
    window_end: str
    generated_at: str
    threshold: float | None = None
    scope: str = ""  # what the run looked at when not a time window (articles named in the Params)

    @classmethod
    def of(cls, context: Any, title: str, window: Any, *, threshold: float | None = None, scope: str = "") -> RunInfo:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        return cls(
            dag_id=context["dag"].dag_id,
            run_id=context["run_id"],
            title=title,
            window_start=window.start.isoformat(),
            window_end=window.end.isoformat(),
            generated_at=now.isoformat(),
            threshold=threshold,
            scope=scope,
        )


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def when(value: str | None) -> str:
    """An ISO time as editors read it: "19 Nov 2026, 16:00 UTC"."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%d %b %Y, %H:%M UTC").lstrip("0")


def link(href: str | None, text: Any) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>' if href else esc(text)


def page(run: RunInfo, totals: dict[str, Any], body: str, *, sandbox: bool, legend: str = "") -> str:
    """The whole HTML document around a DAG's own ``body``."""
    facts = [
        ("Run", run.run_id),
        ("Looked at", run.scope or f"{when(run.window_start)} to {when(run.window_end)}"),
        ("Generated", when(run.generated_at)),
    ]
    if run.threshold is not None:
        facts.append(("Threshold", f"flag at {run.threshold:g}% or more"))
    facts.append(("Mode", "sandbox (mock results)" if sandbox else "live"))
    run_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    totals_html = "".join(f"<li><b>{esc(v)}</b>{esc(k)}</li>" for k, v in totals.items() if v is not None)
    banner = (
        '<p class="sandbox"><strong>Sandbox run.</strong> Copyleaks answered with mock results: nothing '
        "below says anything about these texts, and no publishing state was changed.</p>"
        if sandbox
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(run.title)} · {esc(run.run_id)}</title>
<style>{STYLE}</style></head><body>
<header><h1>{esc(run.title)}</h1><dl class="run">{run_html}</dl>{banner}
<ul class="totals">{totals_html}</ul>{legend}</header>
<main>{body}</main>
<footer>{esc(run.dag_id)} · written by the run itself; CSV and JSON next to this page.</footer>
</body></html>
"""


def write_report(
    run: RunInfo,
    kind: str,
    rows: Sequence[dict[str, Any]],
    totals: dict[str, Any],
) -> dict[str, str]:
    """Write report.html, report.csv and report.json for ``rows``; return their locations."""
    from airflow_copyleaks.ui.locations import report_path
    from publishing import gate_report, moderation_report, plagiarism_report

    renderers = {"plagiarism": plagiarism_report, "gate": gate_report}
    renderer: Any = renderers.get(kind, moderation_report)
    sandbox = any(row.get("sandbox") for row in rows)
    document = {**asdict(run), "kind": kind, "sandbox": sandbox, "totals": totals, "rows": list(rows)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(renderer.CSV_COLUMNS)
    writer.writerows(renderer.csv_rows(rows))
    contents = {
        "report.json": json.dumps(document, indent=2, default=str),
        "report.csv": out.getvalue(),
        "report.html": page(run, totals, renderer.html_body(rows), sandbox=sandbox, legend=renderer.LEGEND),
    }
    written = {}
    for name, text in contents.items():
        path = report_path(run.dag_id, run.run_id, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written[name.split(".")[1]] = str(path)
    return written


def announce(context: Any, run: RunInfo) -> None:
    """Tell the UI's "Audit report" link and the Copyleaks page which report this run wrote."""
    from airflow_copyleaks.ui.locations import report_url

    context["ti"].xcom_push(
        key="copyleaks_report", value={"dag_id": run.dag_id, "run_id": run.run_id, "name": "report.html"}
    )
    print(f"Audit report: {report_url(run.dag_id, run.run_id)}")
