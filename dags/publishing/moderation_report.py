"""The moderation DAG's report rows, and how an editor sees them.

One row per comment or article: the checked text with each flagged span highlighted and named
by its label, the policy breaches, the article's AI-text share where it was checked, its hero
image's matches on the web with the matched URLs, and what was done about it.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Iterable, Sequence
from typing import Any

from publishing.report import esc, link, when

CSV_COLUMNS = [
    "item", "kind", "title", "verdict", "action", "sandbox", "breaches", "labels", "excerpts", "ai_share",
    "image_matches",
]  # fmt: skip
LEGEND = '<p class="legend">Flagged words: <mark class="label">word<sup>label</sup></mark></p>'


def build_rows(
    source: Any, window: Any, text_report: dict[str, Any], image_report: dict[str, Any], ai_report: dict[str, Any]
) -> list[dict[str, Any]]:
    """One row per checked comment or article, flagged first."""
    comments = {f"comment:{c.id}": c for c in source.comments_posted_between(window.start, window.end)}
    articles = {f"article:{a.id}": a for a in source.articles_published_between(window.start, window.end)}
    rows: dict[str, dict[str, Any]] = {}
    for item in text_report.get("items", []):
        row = rows.setdefault(item["key"], _row(source, item["key"], comments, articles))
        row["sandbox"] |= bool(text_report.get("sandbox"))
        _add_text(row, item, source, comments, articles)
    for item in image_report.get("items", []):
        row = rows.setdefault(item["key"], _row(source, item["key"], comments, articles))
        row["sandbox"] |= bool(image_report.get("sandbox"))
        _add_image(row, item, source, articles)
    for item in ai_report.get("items", []):
        if item["key"] in rows and item.get("ai") is not None:
            rows[item["key"]]["ai_share"] = round(100.0 * float(item["ai"]), 1)
    ordered = sorted(rows.values(), key=lambda r: (r["verdict"] != "flagged", r["item"]))
    return ordered


def decide(source: Any, rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Hold back what broke the policy; a sandbox result (a mock) never changes what is published."""
    held: dict[str, list[str]] = {"comment": [], "article": []}
    for row in rows:
        if row["verdict"] != "flagged":
            row["action"] = "passed"
        elif row["sandbox"]:
            row["action"] = "unchanged: sandbox result"
        else:
            row["action"] = "held back"
            held[row["kind"]].append(row["item"].partition(":")[2])
    for kind, ids in held.items():
        source.hold(kind, sorted(set(ids)), "content moderation policy")
    return held


def _row(source: Any, key: str, comments: dict[str, Any], articles: dict[str, Any]) -> dict[str, Any]:
    kind = key.partition(":")[0]
    row: dict[str, Any] = {
        "item": key, "kind": kind, "verdict": "passed", "sandbox": False, "breaches": [], "labels": {},
        "spans": [], "text": "", "ai_share": None, "image": None, "title": key, "url": "", "context": "",
    }  # fmt: skip
    if key in comments:
        comment = comments[key]
        on = source.articles([comment.article_id])
        row["title"] = f"Comment by {comment.author}"
        row["context"] = f"on “{on[0].title}”, {when(comment.posted_at.isoformat())}" if on else ""
        row["url"] = on[0].url if on else ""
    elif key in articles:
        article = articles[key]
        row.update(
            title=article.title,
            url=article.url,
            context=f"by {article.author}, {when(article.published_at.isoformat())}",
        )
    return row


def _add_text(row: dict[str, Any], item: dict[str, Any], source: Any, comments: dict, articles: dict) -> None:
    key = item["key"]
    if item.get("verdict") == "hit":
        row["verdict"] = "flagged"
        row["breaches"] += [_readable(b) for b in item.get("breaches", [])]
    if item.get("verdict") == "error":
        row["breaches"].append(f"not checked: {item.get('error')}")
    row["labels"] = dict(item.get("counts") or {})
    row["spans"] = list(item.get("spans") or [])
    if row["spans"]:  # the text the offsets point into: the comment, or the article file as sent
        row["text"] = (
            comments[key].text if key in comments else source.read_text(articles[key]) if key in articles else ""
        )


def _add_image(row: dict[str, Any], item: dict[str, Any], source: Any, articles: dict) -> None:
    if item.get("verdict") == "hit":
        row["verdict"] = "flagged"
        row["breaches"] += [f"hero image, {_readable(b)}" for b in item.get("breaches", [])]
    article = articles.get(item["key"])
    row["image"] = {
        "file": article.hero_image if article else "",
        "full_matches": item.get("full_matches", 0),
        "partial_matches": item.get("partial_matches", 0),
        "matches": item.get("matches") or [],
        "thumbnail": _thumbnail(source, article.hero_image) if article and item.get("verdict") == "hit" else "",
    }


def _readable(breach: str) -> str:
    """ "toxic-v1 2 > 0" as an editor reads it: "toxic-v1: 2 found, the policy allows 0"."""
    metric, _, rest = breach.partition(" ")
    found, _, limit = rest.partition(" > ")
    if not found or not limit:
        return breach
    return f"{metric.replace('_', ' ')}: {found} found, the policy allows {limit}"


def _thumbnail(source: Any, name: str) -> str:
    """The image inline (a data: URI), so the page stays one file; small sample images only."""
    data = source.image_path(name).read_bytes()
    if len(data) > 200_000:
        return ""
    kind = mimetypes.guess_type(name)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


# ------------------------------------------------------------------------------------ output


def csv_rows(rows: Sequence[dict[str, Any]]) -> Iterable[list[Any]]:
    for row in rows:
        image = row.get("image") or {}
        yield [
            row["item"], row["kind"], row["title"], row["verdict"], row.get("action", ""), row["sandbox"],
            "; ".join(row["breaches"]), "; ".join(f"{k} {v}" for k, v in row["labels"].items()),
            " | ".join(f"{s['label']}: {s.get('excerpt', '')}" for s in row["spans"]),
            "" if row["ai_share"] is None else row["ai_share"],
            " ".join(m.get("url") or "" for m in image.get("matches") or []),
        ]  # fmt: skip


def html_body(rows: Sequence[dict[str, Any]]) -> str:
    flagged = [r for r in rows if r["verdict"] == "flagged"]
    passed = [r for r in rows if r["verdict"] != "flagged"]
    parts = [_card(r) for r in flagged] or ["<p>Nothing broke the policy.</p>"]
    if passed:
        parts.append(f'<h3>Passed ({len(passed)})</h3><ul class="clean">')
        for row in passed:
            ai = f" · AI text {row['ai_share']:.0f}%" if row["ai_share"] is not None else ""
            parts.append(f"<li>{link(row['url'], row['title'])} <small>{esc(row['item'])}{esc(ai)}</small></li>")
        parts.append("</ul>")
    return "\n".join(parts)


def _card(row: dict[str, Any]) -> str:
    badge = '<span class="badge mock">sandbox mock</span>' if row["sandbox"] else ""
    image = row.get("image") or {}
    thumb = f'<img class="thumb" alt="hero image" src="{image["thumbnail"]}">' if image.get("thumbnail") else ""
    parts = [
        f'<section class="item flagged" id="{esc(row["item"])}">{thumb}<h2><span class="badge flagged">flagged</span>'
        f"{badge}{link(row['url'], row['title'])}</h2>",
        f'<p class="meta">{esc(row["item"])} {esc(row["context"])} · '
        f'<span class="action">{esc(row.get("action"))}</span></p>',
        "<h3>Why</h3><ul>" + "".join(f"<li>{esc(b)}</li>" for b in row["breaches"]) + "</ul>",
    ]
    if row["spans"] and row["text"]:
        parts.append(f'<h3>Flagged text</h3><p class="text">{_highlighted(row["text"], row["spans"])}</p>')
    if row["ai_share"] is not None:
        parts.append(f"<p><b>AI-generated text:</b> {row['ai_share']:.0f}% of the article</p>")
    if image.get("matches"):
        items = "".join(
            f"<li>{esc(m.get('type'))} match: {link(m.get('url'), m.get('url'))}"
            + "".join(f"<br><small>on {link(p, p)}</small>" for p in m.get("pages") or [])
            + "</li>"
            for m in image["matches"]
        )
        parts.append(f"<h3>Hero image found on the web</h3><ul>{items}</ul>")
    return "".join(parts) + "</section>"


def _highlighted(text: str, spans: list[dict[str, Any]]) -> str:
    """The text with each flagged span marked and named by its label; overlaps are merged."""
    out, cursor = [], 0
    for span in sorted(spans, key=lambda s: (int(s["start"]), -int(s["length"]))):
        start, end = int(span["start"]), int(span["start"]) + int(span["length"])
        if start < cursor or end > len(text):
            continue
        out.append(esc(text[cursor:start]))
        out.append(f'<mark class="label">{esc(text[start:end])}<sup>{esc(span["label"])}</sup></mark>')
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out)
