"""Citation checking (Copyleaks' references validation): a completed scan's references, typed.

Copyleaks documents the request flag (``properties.references.validate``) and what it finds -
references validated, not found, misattributed - but not the wire shape of the results
(docs/copyleaks-references.md). So the reader accepts every plausible shape: the section at
``references`` or ``results.references``; its list under ``results``, ``references`` or ``items``
(or the section being the list); a status word or a ``validated`` boolean; parsed fields at the
top of an entry or under ``parsed``. Whatever it cannot read becomes a ``malformed`` entry with
the reason, never a silently shorter list, so a policy can count it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from airflow_copyleaks.checks.policy import Bound, Breach, Policy, evaluate

if TYPE_CHECKING:
    from airflow_copyleaks.store.scan_store import ScanStore

CitationStatus = Literal["verified", "unverifiable", "fabricated", "misattributed", "malformed"]
STATUSES: tuple[CitationStatus, ...] = ("verified", "unverifiable", "fabricated", "misattributed", "malformed")

# Status words seen or plausible on the wire -> the provider's status.
_STATUS_WORDS: dict[str, CitationStatus] = {
    **dict.fromkeys(("verified", "validated", "valid", "found", "match", "matched"), "verified"),
    **dict.fromkeys(
        ("unverifiable", "unverified", "notvalidated", "notfound", "unknown", "unresolved", "unchecked"),
        "unverifiable",
    ),
    **dict.fromkeys(("fabricated", "hallucinated", "invalid", "nonexistent", "fake"), "fabricated"),
    **dict.fromkeys(("misattributed", "mismatch", "mismatched", "contradicted", "incorrect"), "misattributed"),
}

CITATION_METRICS: dict[str, Bound] = {
    "unverifiable": "max",
    "fabricated": "max",
    "misattributed": "max",
    "malformed": "max",
}
"""Metrics a :class:`~airflow_copyleaks.checks.policy.Policy` can gate on: counts per status."""

DEFAULT_CITATION_THRESHOLDS: dict[str, float] = {"fabricated": 0, "misattributed": 0, "malformed": 0}
"""Without thresholds: any fabricated, misattributed or unreadable reference is a hit; references
Copyleaks could only not verify are reported but tolerated."""


@dataclass(frozen=True)
class CitedReference:
    """One reference of a document and what the check found.

    :param position: 1-based place in Copyleaks' list.
    :param status: ``verified``, ``unverifiable``, ``fabricated``, ``misattributed`` or ``malformed``.
    :param text: The reference as written in the document ("" when Copyleaks did not send it).
    :param title: The cited title, when parsed.
    :param url: The cited URL, when there is one.
    :param authors: The cited authors.
    :param year: The cited year.
    :param problem: Why the entry is ``malformed``, or Copyleaks' own reason for its status.
    """

    position: int
    status: CitationStatus
    text: str = ""
    title: str | None = None
    url: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position, "status": self.status, "text": self.text, "title": self.title,
            "url": self.url, "authors": list(self.authors), "year": self.year, "problem": self.problem,
        }  # fmt: skip


@dataclass(frozen=True)
class CitationSummary:
    """The references of one completed scan, with counts per status.

    :param requested: The scan asked for references validation (or the webhook carried a section).
    :param references: Every reference, unreadable ones included as ``malformed``.
    :param errors: Problems with the section as a whole (missing, not an object, counts that
        disagree with the list); each also counts as ``malformed``.
    """

    requested: bool
    references: tuple[CitedReference, ...] = ()
    errors: tuple[str, ...] = field(default=())

    def count(self, status: CitationStatus) -> int:
        listed = sum(1 for r in self.references if r.status == status)
        return listed + (len(self.errors) if status == "malformed" else 0)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in STATUSES}

    @property
    def flagged(self) -> tuple[CitedReference, ...]:
        """The references that are not verified, in their order."""
        return tuple(r for r in self.references if r.status != "verified")

    def metrics(self) -> dict[str, float]:
        return {name: float(self.count(name)) for name in CITATION_METRICS}  # type: ignore[arg-type]

    def breaches(self, policy: Policy | Mapping[str, Any] | str | None = None) -> list[Breach]:
        """The metrics that cross ``policy``'s thresholds (its defaults when it names none)."""
        thresholds = Policy.coerce(policy).resolve(CITATION_METRICS, DEFAULT_CITATION_THRESHOLDS)
        return evaluate(self.metrics(), thresholds, CITATION_METRICS)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for XCom and the report; also the ``citations`` part the gate's review takes
        (:func:`airflow_copyleaks.review.findings.draft_findings`): ``total``, ``unverified`` (every
        reference not verified, unreadable ones included) and ``error`` (the section's problems,
        joined; ``None`` when there are none), so an unreadable result flags the draft."""
        return {
            "requested": self.requested,
            "total": len(self.references),
            "unverified": len(self.flagged),
            "counts": self.counts,
            "references": [r.to_dict() for r in self.references],
            "errors": list(self.errors),
            "error": "; ".join(self.errors) or None,
        }


def summarize_citations(completed: Mapping[str, Any] | None, *, requested: bool = False) -> CitationSummary:
    """The typed references of a completed webhook's body.

    ``requested``: the scan asked for references validation, so a missing section is an error
    (reported as ``malformed``) rather than "nothing to check".
    """
    if not isinstance(completed, Mapping):
        absent = ("no completed webhook was recorded for the scan",) if requested else ()
        return CitationSummary(requested=requested, errors=absent)
    section = _section(completed)
    if section is None:
        missing = ("the completed webhook has no references section",) if requested else ()
        return CitationSummary(requested=requested, errors=missing)
    entries = _entries(section)
    if entries is None:
        return CitationSummary(requested=True, errors=(f"the references section is unreadable: {_kind(section)}",))
    references = tuple(_reference(i + 1, entry) for i, entry in enumerate(entries))
    errors = _summary_disagreements(section, references)
    return CitationSummary(requested=True, references=references, errors=errors)


def citations_for_scan(store: ScanStore, scan_id: str, *, requested: bool = True) -> CitationSummary:
    """:func:`summarize_citations` of the completed webhook the store holds for ``scan_id``."""
    return summarize_citations(store.get_event_payload(scan_id, "completed"), requested=requested)


def _section(completed: Mapping[str, Any]) -> Any:
    if "references" in completed:
        return completed["references"]
    results = completed.get("results")
    if isinstance(results, Mapping) and "references" in results:
        return results["references"]
    return None


def _entries(section: Any) -> Sequence[Any] | None:
    if isinstance(section, list):
        return section
    if not isinstance(section, Mapping):
        return None
    for key in ("results", "references", "items"):
        if isinstance(section.get(key), list):
            return list(section[key])
    return [] if "summary" in section else None


def _reference(position: int, entry: Any) -> CitedReference:
    if not isinstance(entry, Mapping):
        return CitedReference(position, "malformed", text=str(entry)[:200], problem=f"not an object: {_kind(entry)}")
    nested = entry.get("parsed")
    parsed: Mapping[str, Any] = nested if isinstance(nested, Mapping) else entry
    text = _text(entry.get("text") or entry.get("raw") or entry.get("reference"))
    fields = {
        "text": text,
        "title": _text(parsed.get("title")) or None,
        "url": _text(parsed.get("url")) or None,
        "authors": _authors(parsed.get("authors")),
        "year": _year(parsed.get("year")),
    }
    status, problem = _status(entry)
    if status != "malformed" and not (text or fields["title"] or fields["url"]):
        status, problem = "malformed", "has no text, title or URL"
    reason = problem or _text(entry.get("reason")) or None
    return CitedReference(position, status, problem=reason, **fields)  # type: ignore[arg-type]


def _status(entry: Mapping[str, Any]) -> tuple[CitationStatus, str | None]:
    raw = entry.get("status")
    if isinstance(raw, str):
        word = raw.replace("_", "").replace("-", "").replace(" ", "").lower()
        if word in _STATUS_WORDS:
            return _STATUS_WORDS[word], None
        return "malformed", f"unknown status {raw!r}"
    if raw is not None:
        return "malformed", f"status is not a string: {raw!r}"
    validated = entry.get("validated", entry.get("isValid"))
    if isinstance(validated, bool):
        return ("verified" if validated else "unverifiable"), None
    return "malformed", "has no status"


def _summary_disagreements(section: Any, references: tuple[CitedReference, ...]) -> tuple[str, ...]:
    summary = section.get("summary") if isinstance(section, Mapping) else None
    if not isinstance(summary, Mapping):
        return ()
    total = summary.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total != len(references):
        return (f"the summary counts {total} references, the list has {len(references)}",)
    return ()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _authors(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        names = (a if isinstance(a, str) else (a.get("name") if isinstance(a, Mapping) else None) for a in value)
        return tuple(n.strip() for n in names if isinstance(n, str) and n.strip())
    return ()


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {str(value)[:80]!r}"
