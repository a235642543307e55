"""References validation (``properties.references``), computed from the scanned text.

Copyleaks documents the feature's request flag and its outcome classes, not the wire shape of the
results (docs/copyleaks-references.md), so this is the emulator's own, deterministic model:

* a reference is a numbered line (``[1] ...`` or ``1. ...``) or any line under a "References",
  "Bibliography", "Sources" or "Works cited" heading;
* one with a URL is "non-academic": its page is looked up in the emulator's internet corpus (there
  is no other internet here). A known page whose title agrees is ``validated``; one whose title
  contradicts the citation is ``misattributed``; a page missing from a site the corpus knows, or
  any host under ``.invalid`` (RFC 2606: never resolves), is ``fabricated``; anything else could
  not be reached and is ``unverifiable``;
* one without a URL is "academic": a title equal to a corpus title is ``validated``, any other
  ``unverifiable``;
* with ``crossCheck``, in-text citations (``[2]``, ``(Smith 2020)``) are matched with the list:
  each entry says whether the text cites it, and a citation with no entry is reported as an
  ``unverifiable`` reference of its own.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from .scoring import Corpus

_HEADING = re.compile(r"^\s*(references|bibliography|sources|works cited)\s*:?\s*$", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(?:\[(\d{1,3})\]|(\d{1,3})\.)\s+(\S.*)$")
_URL = re.compile(r"https?://[^\s<>\"]+")
_YEAR = re.compile(r"\((\d{4})\)|\b(1[89]\d\d|20\d\d)\b")
_QUOTED = re.compile(r"[\"“](.+?)[\"”]")
_APA_TITLE = re.compile(r"\(\d{4}\)\.?\s*([^.]+)")
_INITIALS = re.compile(r"(?:[A-Z]\.\s?)+|[A-Z]")
_IN_TEXT_NUMBER = re.compile(r"\[(\d{1,3})\]")
_IN_TEXT_AUTHOR = re.compile(r"\(([A-Z][A-Za-z'\-]+)(?: et al\.)?,? (\d{4})\)")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _entries(text: str) -> tuple[list[tuple[str | None, str]], str]:
    """The reference entries (their number, if any, and text) and the body without them."""
    entries: list[tuple[str | None, str]] = []
    body: list[str] = []
    in_list = False
    for line in text.splitlines():
        if _HEADING.match(line):
            in_list = True
            continue
        numbered = _NUMBERED.match(line)
        if numbered:
            entries.append((numbered.group(1) or numbered.group(2), numbered.group(3).strip()))
        elif in_list and line.strip():
            entries.append((None, line.strip()))
        else:
            body.append(line)
    return entries, "\n".join(body)


def parse_reference(raw: str) -> dict[str, Any]:
    """Title, authors, year, URL of one entry, read as "Authors (Year). Title. ..." (APA),
    'Authors, "Title", ...' or "Authors, Title, URL"."""
    url_match = _URL.search(raw)
    url = url_match.group(0).rstrip(".,;)") if url_match else None
    rest = _URL.sub("", raw).strip(" ,.;")
    year_match = _YEAR.search(rest)
    year = int(year_match.group(1) or year_match.group(2)) if year_match else None
    quoted, apa = _QUOTED.search(rest), _APA_TITLE.search(rest)
    parts: list[str] = []
    for part in (p.strip() for p in rest.split(",")):
        if parts and _INITIALS.fullmatch(part):
            parts[-1] += ", " + part  # "Doe, J." is one author, not an author and a title
        elif part:
            parts.append(part)
    if quoted:
        title, authors_text = quoted.group(1), rest[: quoted.start()]
    elif apa:
        title, authors_text = apa.group(1), rest[: rest.find("(")]
    elif len(parts) >= 2:
        title, authors_text = parts[1], parts[0]
    else:
        title, authors_text = rest, ""
    authors = [a.strip(" .,&") for a in re.split(r"\band\b|&|;", authors_text) if a.strip(" .,&")]
    return {"title": title.strip(" .,") or None, "authors": authors, "year": year, "url": url}


def _classify(parsed: dict[str, Any], corpus: Corpus) -> tuple[str, list[dict[str, Any]]]:
    """The status of one parsed reference and the suggestions it was compared with."""
    title = parsed["title"] or ""
    url = parsed["url"]
    if url:
        page = corpus.get(url)
        if page is not None:
            agrees = not title or _norm(title) == _norm(page.title)
            signals = {"title": "match" if agrees else "mismatch", "year": "unchecked", "authors": "unchecked"}
            return ("validated" if agrees else "misattributed"), [{"title": page.title, "url": url, "signals": signals}]
        host = (urlparse(url).hostname or "").lower()
        known_hosts = {(urlparse(d.url or "").hostname or "").lower() for d in corpus.documents()}
        if host.endswith(".invalid") or host in known_hosts:
            return "fabricated", []
        return "unverifiable", []
    for doc in corpus.documents():
        if title and _norm(title) == _norm(doc.title):
            signals = {"title": "match", "year": "unchecked", "authors": "unchecked"}
            return "validated", [{"title": doc.title, "url": doc.url, "signals": signals}]
    return "unverifiable", []


def _cited(number: str | None, parsed: dict[str, Any], body: str) -> bool:
    if number is not None and f"[{number}]" in body:
        return True
    surnames = [a.split()[0].strip(",") for a in parsed["authors"] if a.split()]
    return any(
        m.group(1) in surnames and (parsed["year"] is None or int(m.group(2)) == parsed["year"])
        for m in _IN_TEXT_AUTHOR.finditer(body)
    )


def _dangling(entries: list[tuple[str | None, str]], parsed: list[dict[str, Any]], body: str) -> list[str]:
    """In-text citations that point at no entry of the list."""
    numbers = {n for n, _ in entries if n is not None}
    out = [f"[{n}]" for n in dict.fromkeys(_IN_TEXT_NUMBER.findall(body)) if n not in numbers]
    for m in _IN_TEXT_AUTHOR.finditer(body):
        known = any(
            m.group(1) in [a.split()[0].strip(",") for a in p["authors"] if a.split()]
            and p["year"] in (None, int(m.group(2)))
            for p in parsed
        )
        if not known and m.group(0) not in out:
            out.append(m.group(0))
    return out


def validate_references(text: str, corpus: Corpus, *, cross_check: bool) -> dict[str, Any]:
    """The ``references`` section of a completed scan: ``summary`` counts and ``results``."""
    entries, body = _entries(text)
    parsed = [parse_reference(raw) for _, raw in entries]
    results: list[dict[str, Any]] = []
    for i, ((number, raw), fields) in enumerate(zip(entries, parsed, strict=True)):
        status, suggestions = _classify(fields, corpus)
        item: dict[str, Any] = {
            "id": f"ref-{i + 1}", "index": i, "text": raw, "type": "nonAcademic" if fields["url"] else "academic",
            "status": status, "validated": status == "validated", "parsed": fields, "suggestions": suggestions,
        }
        if cross_check:
            item["citedInText"] = _cited(number, fields, body)
        results.append(item)
    if cross_check:
        for citation in _dangling(entries, parsed, body):
            results.append({
                "id": f"ref-{len(results) + 1}", "index": len(results), "text": citation, "type": "inText",
                "status": "unverifiable", "validated": False, "citedInText": True, "suggestions": [],
                "parsed": {"title": None, "authors": [], "year": None, "url": None},
                "reason": "cited in the text but missing from the reference list",
            })
    summary = {"total": len(results)}
    for status in ("validated", "unverifiable", "fabricated", "misattributed"):
        summary[status] = sum(1 for r in results if r["status"] == status)
    return {"summary": summary, "results": results}


def malformed(section: dict[str, Any], fault: str) -> Any:
    """``section`` broken as the ``references_fault`` setting asks, for clients' error paths."""
    if fault == "bad-section":
        return "references validation unavailable"
    if fault == "bad-entry":
        broken = dict(section)
        broken["results"] = [*section["results"], {"id": "ref-x", "status": "checked-maybe"}, "not an object"]
        return broken
    return section
