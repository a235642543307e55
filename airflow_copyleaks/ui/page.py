"""The Copyleaks page as one self-contained HTML document (no script), shown inside Airflow's UI."""

from __future__ import annotations

from datetime import datetime
from html import escape

from airflow_copyleaks.ui.overview import DAYS, Overview

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:16px;color:#1a202c;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;max-width:960px}th,td{padding:5px 8px;border-bottom:1px solid #e2e8f0;
text-align:left}th{background:#f7fafc;font-weight:600}td.n,th.n{text-align:right}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #e2e8f0;border-radius:6px;padding:10px 14px;
min-width:180px}.card b{display:block;font-size:22px}.muted{color:#718096}.warn{color:#b7791f}.bad{color:#c53030}
.bar{display:inline-block;height:10px;background:#3182ce;border-radius:2px;vertical-align:middle}
@media (prefers-color-scheme:dark){body{background:#1a202c;color:#e2e8f0}th{background:#2d3748}
th,td{border-color:#4a5568}.card{border-color:#4a5568}a{color:#90cdf4}}
"""


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''} ago"
    return f"{seconds} s ago"


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def _cards(data: Overview) -> str:
    webhook = data.last_webhook
    received = escape(webhook.received_at.isoformat(timespec="seconds")) if webhook else ""
    webhook_text = "none yet" if webhook is None else f"{escape(webhook.event)} · {_ago(webhook.received_at, data.now)}"
    waiting = sum(data.waiting_by_dag.values())
    oldest = f"oldest {_ago(data.oldest_waiting, data.now)}" if waiting else "nothing waiting"
    credits = _credits(sum(data.credits_by_day.values()))
    return (
        '<div class="cards">'
        f'<div class="card" id="last-webhook"><span class="muted">Last webhook received</span><b>{webhook_text}</b>'
        f'<span class="muted">{received}</span></div>'
        f'<div class="card" id="waiting"><span class="muted">Scans waiting now</span><b>{waiting}</b>'
        f'<span class="muted">{oldest}</span></div>'
        f'<div class="card" id="credits"><span class="muted">Credits used, last {DAYS} days</span><b>{credits}</b>'
        '<span class="muted">scans and checks, sandbox excluded</span></div></div>'
    )


def _audits(data: Overview) -> str:
    if not data.audits:
        return '<p class="muted">No audit report yet. Trigger <code>copyleaks_plagiarism_sweep</code>.</p>'
    rows = "".join(
        f'<tr><td><a href="{escape(a.url)}">{escape(a.title)}</a></td><td>{escape(a.dag_id)}</td>'
        f"<td>{escape(a.run_id)}</td><td>{escape(_ago(a.written_at, data.now))}</td>"
        + "".join(f'<td class="n">{_num(n)}</td>' for n in (a.scanned, a.flagged, a.held))
        + "</tr>"
        for a in data.audits
    )
    return (
        '<table id="audits"><tr><th>Report</th><th>DAG</th><th>Run</th><th>Written</th>'
        f'<th class="n">Scanned</th><th class="n">Flagged</th><th class="n">Held</th></tr>{rows}</table>'
    )


def _credits(value: float) -> str:
    """Whole credits as integers; a check billed in fractions keeps two decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _figures(table_id: str, heading: str, figures: dict[str, float], empty: str) -> str:
    if not figures:
        return f'<p class="muted" id="{table_id}">{empty}</p>'
    top = max(figures.values()) or 1
    rows = "".join(
        f'<tr><td>{escape(key)}</td><td class="n">{_credits(value)}</td>'
        f'<td><span class="bar" style="width:{int(200 * value / top)}px"></span></td></tr>'
        for key, value in figures.items()
    )
    return f'<table id="{table_id}"><tr><th>{heading}</th><th class="n">Credits</th><th></th></tr>{rows}</table>'


def document(title: str, body: str) -> str:
    """A whole self-contained HTML page (the house style, no script) around ``body``."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )


def render(data: Overview, *, user: str) -> str:
    problems = "".join(f'<p class="bad">{escape(p)}</p>' for p in data.problems)
    waiting = "".join(
        f'<tr><td>{escape(dag)}</td><td class="n">{count}</td></tr>' for dag, count in data.waiting_by_dag.items()
    )
    waiting_table = (
        f'<table id="waiting-by-dag"><tr><th>DAG</th><th class="n">Waiting scans</th></tr>{waiting}</table>'
        if waiting
        else ""
    )
    return document(
        "Copyleaks",
        "<h1>Copyleaks</h1>"
        f'<p class="muted">Signed in as {escape(user)} · DAGs you can read only</p>{problems}{_cards(data)}'
        f"<h2>Recent audits</h2>{_audits(data)}"
        f"<h2>Credits per day</h2>{_figures('credits-by-day', 'Day (UTC)', data.credits_by_day, 'No credits used.')}"
        f"<h2>Credits per DAG</h2>{_figures('credits-by-dag', 'DAG', data.credits_by_dag, 'No credits used.')}"
        f"{waiting_table}",
    )
