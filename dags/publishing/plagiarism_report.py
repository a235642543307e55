"""The plagiarism sweep's report rows, and how an editor sees them.

Per article: its score split into identical / minor-change / paraphrased words (Copyleaks'
completed webhook), each matched source with its share, the matched passages side by side with
the copied words highlighted (from the exported results JSON, whose offsets point into our text
and the source's), and what was done about it. Our own earlier articles found in the internal
index are named by title, with their link and publication time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from publishing.report import esc, link, when

PASSAGES_PER_SOURCE = 3
CONTEXT_CHARS = 90  # of text shown around a matched passage
KINDS = (("identical", "identical"), ("minorChanges", "minor changes"), ("relatedMeaning", "paraphrased"))
CSV_COLUMNS = [
    "article", "title", "score", "verdict", "action", "sandbox", "identical_words", "minor_changed_words",
    "paraphrased_words", "source", "source_url", "source_share", "source_identical", "source_minor_changes",
    "source_paraphrased",
]  # fmt: skip
LEGEND = (
    '<p class="legend">Copied words: <mark class="identical">identical</mark>'
    '<mark class="minor-changes">minor changes</mark><mark class="paraphrased">paraphrased</mark></p>'
)


def build_rows(
    store: Any, source: Any, checked: dict[str, Any], scan_result: dict[str, Any], threshold: float, dag_id: str
) -> list[dict[str, Any]]:
    """One row per article the run priced, flagged first, then by score."""
    items = {key: item for key, item in (checked.get("items") or {}).items() if item.get("scan_id")}
    scores = scan_result.get("scans") or {}
    ours = {a.id: a for a in source.articles(items)}
    rows = []
    for key, item in items.items():
        scan_id = item["scan_id"]
        record = store.get_scan(scan_id)
        completed = store.get_event_payload(scan_id, "completed") if scan_id in scores else None
        article = ours.get(key)
        row: dict[str, Any] = {
            "key": key,
            "title": article.title if article else key,
            "url": article.url if article else "",
            "published_at": article.published_at.isoformat() if article else "",
            "scan_id": scan_id,
            "sandbox": bool(record and record.sandbox),
            "score": None,
            "verdict": "not scanned",
            "sources": [],
            "passages": [],
            "files": [],
        }
        if completed is not None:
            row.update(_scored(store, source, completed, article, threshold))
            row["passages"], row["files"] = _exports(store, scan_id, row["sources"], dag_id, source, article)
        rows.append(row)
    rows.sort(key=lambda r: (r["verdict"] != "flagged", -(r["score"] or 0), r["key"]))
    return rows


def decide(source: Any, rows: list[dict[str, Any]], threshold: float) -> list[str]:
    """Hold back flagged articles; a sandbox result (a mock) never changes what is published."""
    held = []
    for row in rows:
        if row["verdict"] == "not scanned":
            row["action"] = "not scanned (over the credit budget)"
        elif row["sandbox"]:
            row["action"] = "unchanged: sandbox result"
        elif row["verdict"] == "flagged":
            row["action"] = "held back"
            held.append(row["key"])
        else:
            row["action"] = "passed"
    source.hold("article", held, f"plagiarism score at or above {threshold:g}%")
    return held


def _scored(store: Any, source: Any, completed: dict[str, Any], article: Any, threshold: float) -> dict[str, Any]:
    results = completed.get("results") or {}
    score = results.get("score") or {}
    total = int((completed.get("scannedDocument") or {}).get("totalWords") or 0)
    value = float(score.get("aggregatedScore") or 0)
    sources = [_internet(r, total) for r in results.get("internet") or []]
    sources += [_internal(store, source, r, total, article) for r in results.get("database") or []]
    sources.sort(key=lambda s: -s["share"])
    return {
        "score": value,
        "verdict": "flagged" if value >= threshold else "clean",
        "words": {
            "total": total,
            "identical": int(score.get("identicalWords") or 0),
            "minor_changes": int(score.get("minorChangedWords") or 0),
            "paraphrased": int(score.get("relatedMeaningWords") or 0),
        },
        "sources": sources,
    }


def _figures(result: dict[str, Any], total: int) -> dict[str, Any]:
    matched = int(result.get("matchedWords") or 0)
    return {
        "result_id": str(result.get("id") or ""),
        "share": round(100.0 * matched / total, 1) if total else 0.0,
        "matched_words": matched,
        "identical": int(result.get("identicalWords") or 0),
        "minor_changes": int(result.get("similarWords") or 0),
        "paraphrased": int(result.get("paraphrasedWords") or 0),
    }


def _internet(result: dict[str, Any], total: int) -> dict[str, Any]:
    url = result.get("url") or ""
    return {"kind": "web page", "title": result.get("title") or url, "url": url, **_figures(result, total)}


def _internal(store: Any, source: Any, result: dict[str, Any], total: int, article: Any) -> dict[str, Any]:
    """One of our own indexed articles: named by its title, with its link and date."""
    indexed = store.get_scan(result.get("scanId") or "")
    key = (indexed.meta.get("document_key") if indexed else None) or ""
    found = source.articles([key]) if key else []
    entry = {"kind": "our article", "key": key, "title": result.get("title") or "our archive", "url": ""}
    if found:
        other = found[0]
        entry.update(title=other.title, url=other.url, published_at=other.published_at.isoformat())
        if article is not None and other.published_at > article.published_at:
            entry["note"] = "published after this article: it may have copied this one"
    return {**entry, **_figures(result, total)}


def _exports(
    store: Any, scan_id: str, sources: list[dict[str, Any]], dag_id: str, source: Any, article: Any
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Matched passages from the exported results, and links to the exported files."""
    from airflow.sdk import ObjectStoragePath

    from airflow_copyleaks.ui.locations import export_url

    by_result = {s["result_id"]: s for s in sources}
    passages: list[dict[str, Any]] = []
    files: list[dict[str, str]] = []
    ours = source.read_text(article) if article is not None else ""
    for export_id in store.exports_for_scan(scan_id):
        export = store.get_export(export_id)
        for artifact in export.artifacts if export else []:
            if artifact["kind"] == "pdf":
                files.append({"label": "PDF report", "href": export_url(dag_id, export_id, "pdf")})
            elif artifact["kind"] == "crawled":
                ours = json.loads(ObjectStoragePath(artifact["location"]).read_text())["text"]["value"]
        for artifact in export.artifacts if export else []:
            matched = by_result.get(artifact.get("result_id") or "")
            if artifact["kind"] == "result" and matched is not None:
                exported = json.loads(ObjectStoragePath(artifact["location"]).read_text())
                passages += _passages(ours, exported, matched["title"])
    return passages, files


def _passages(ours: str, exported: dict[str, Any], title: str) -> list[dict[str, Any]]:
    text = exported.get("text") or {}
    theirs = text.get("value") or ""
    found = []
    for wire, label in KINDS:
        comparison = (text.get("comparison") or {}).get(wire) or {}
        mine = ((comparison.get("source") or {}).get("chars")) or {}
        other = ((comparison.get("suspected") or {}).get("chars")) or {}
        pairs = zip(
            mine.get("starts") or [],
            mine.get("lengths") or [],
            other.get("starts") or [],
            other.get("lengths") or [],
            strict=False,  # a ragged export gives fewer passages, not a failed report
        )
        for start, length, their_start, their_length in pairs:
            found.append(
                {
                    "kind": label,
                    "source_title": title,
                    "ours": _excerpt(ours, int(start), int(length)),
                    "theirs": _excerpt(theirs, int(their_start), int(their_length)),
                }
            )
    found.sort(key=lambda p: -len(p["ours"]["match"]))
    return found[:PASSAGES_PER_SOURCE]


def _excerpt(text: str, start: int, length: int) -> dict[str, str]:
    """The matched characters with some context either side, cut at word boundaries."""
    before = text[max(0, start - CONTEXT_CHARS) : start]
    after = text[start + length : start + length + CONTEXT_CHARS]
    if start > CONTEXT_CHARS and " " in before:
        before = "…" + before.split(" ", 1)[1]
    if start + length + CONTEXT_CHARS < len(text) and " " in after:
        after = after.rsplit(" ", 1)[0] + "…"
    return {"before": before, "match": text[start : start + length], "after": after}


# ------------------------------------------------------------------------------------ output


def csv_rows(rows: Sequence[dict[str, Any]]) -> Iterable[list[Any]]:
    """One line per article and matched source (an article without sources: one line)."""
    for row in rows:
        words = row.get("words") or {}
        head = [
            row["key"], row["title"], row["score"], row["verdict"], row.get("action", ""), row["sandbox"],
            words.get("identical"), words.get("minor_changes"), words.get("paraphrased"),
        ]  # fmt: skip
        for src in row["sources"] or [None]:
            if src is None:
                yield [*head, "", "", "", "", "", ""]
            else:
                yield [
                    *head, src["title"], src["url"], src["share"], src["identical"], src["minor_changes"],
                    src["paraphrased"],
                ]  # fmt: skip


def html_body(rows: Sequence[dict[str, Any]]) -> str:
    flagged = [r for r in rows if r["verdict"] == "flagged"]
    others = [r for r in rows if r["verdict"] != "flagged"]
    parts = [_card(r) for r in flagged]
    if not flagged:
        parts.append("<p>No article reached the threshold.</p>")
    if others:
        parts.append(f'<h3>Below the threshold ({len(others)})</h3><div class="scroll"><table>')
        parts.append('<tr><th>Article</th><th class="num">Score</th><th>Top source</th><th>Action</th></tr>')
        for row in others:
            top = row["sources"][0] if row["sources"] else None
            score = "" if row["score"] is None else f"{row['score']:.1f}%"
            top_html = f"{link(top['url'], top['title'])} ({top['share']:.1f}%)" if top else "none"
            parts.append(
                f'<tr id="{esc(row["key"])}"><td>{link(row["url"], row["title"])}</td>'
                f'<td class="num">{score}</td><td>{top_html}</td><td>{esc(row.get("action"))}</td></tr>'
            )
        parts.append("</table></div>")
    return "\n".join(parts)


def _card(row: dict[str, Any]) -> str:
    words = row.get("words") or {}
    badge = '<span class="badge mock">sandbox mock</span>' if row["sandbox"] else ""
    head = (
        f'<section class="item flagged" id="{esc(row["key"])}"><h2><span class="badge flagged">'
        f"{row['score']:.1f}%</span>{badge}{link(row['url'], row['title'])}</h2>"
        f'<p class="meta">{esc(row["key"])} · published {esc(when(row["published_at"]))} · '
        f"{words.get('identical', 0)} identical, {words.get('minor_changes', 0)} with minor changes, "
        f"{words.get('paraphrased', 0)} paraphrased of {words.get('total', 0)} words · "
        f'<span class="action">{esc(row.get("action"))}</span></p>'
    )
    # A column only when some source has such words: no column of zeros on a phone screen.
    columns = [("identical", "Identical")] + [
        (name, label)
        for name, label in (("minor_changes", "Minor changes"), ("paraphrased", "Paraphrased"))
        if any(src[name] for src in row["sources"])
    ]
    heads = "".join(f'<th class="num">{label}</th>' for _, label in columns)
    table = [
        f'<h3>Matched sources</h3><div class="scroll"><table><tr><th>Source</th><th class="num">Share</th>{heads}</tr>'
    ]
    for src in row["sources"]:
        kind = esc(src["kind"])
        note = f"<br><small>{esc(src['note'])}</small>" if src.get("note") else ""
        cells = "".join(f'<td class="num">{src[name]}</td>' for name, _ in columns)
        table.append(
            f"<tr><td>{link(src['url'], src['title'])} <small>({kind})</small>{note}</td>"
            f'<td class="num">{src["share"]:.1f}%</td>{cells}</tr>'
        )
    table.append("</table></div>")
    passages = ["<h3>Matched passages</h3>"] if row["passages"] else []
    for passage in row["passages"]:
        ours, theirs = _marked(passage["ours"], passage["kind"]), _marked(passage["theirs"], passage["kind"])
        passages.append(
            f'<div class="passage"><div><h4>This article</h4><p>{ours}</p></div>'
            f"<div><h4>{esc(passage['source_title'])}</h4><p>{theirs}</p></div></div>"
        )
    files = " ".join(link(f["href"], f["label"]) for f in row["files"])
    files_html = f'<p class="files">{files}</p>' if files else ""
    return head + "".join(table) + "".join(passages) + files_html + "</section>"


def _marked(excerpt: dict[str, str], kind: str) -> str:
    css = kind.replace(" ", "-")
    return f'{esc(excerpt["before"])}<mark class="{css}">{esc(excerpt["match"])}</mark>{esc(excerpt["after"])}'
