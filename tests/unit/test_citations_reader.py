"""The citation reader accepts each shape Copyleaks' docs leave open, and reports what it cannot read."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_copyleaks.checks.citations import summarize_citations


def statuses(completed: dict[str, Any]) -> list[str]:
    return [r.status for r in summarize_citations(completed).references]


def test_a_bare_list_under_results_with_validated_booleans() -> None:
    completed = {
        "results": {
            "references": [
                {"text": "A, Real page, https://a.test/", "validated": True},
                {"text": "B, Lost page", "validated": False},
            ]
        }
    }
    assert statuses(completed) == ["verified", "unverifiable"]


def test_status_words_are_read_whatever_their_case_and_separators() -> None:
    entries = [
        {"title": "t", "status": word}
        for word in ("VALIDATED", "not_found", "Hallucinated", "mis-match", "notValidated", "Verified")
    ]
    completed = {"references": {"items": entries}}
    assert statuses(completed) == [
        "verified", "unverifiable", "fabricated", "misattributed", "unverifiable", "verified",
    ]  # fmt: skip


def test_fields_at_the_top_or_under_parsed_with_loose_types() -> None:
    completed = {
        "references": {
            "references": [
                {
                    "raw": "Smith (2020) A book",
                    "status": "unverifiable",
                    "authors": [{"name": "Smith"}],
                    "year": "2020",
                },
                {"status": "validated", "parsed": {"title": "T", "url": "https://t.test/", "authors": "Roe"}},
            ]
        }
    }
    first, second = summarize_citations(completed).references
    assert (first.text, first.authors, first.year) == ("Smith (2020) A book", ("Smith",), 2020)
    assert (second.title, second.url, second.authors, second.position) == ("T", "https://t.test/", ("Roe",), 2)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"text": "x", "status": 3}, "status is not a string: 3"),
        ({"text": "x"}, "has no status"),
        ({"status": "validated"}, "has no text, title or URL"),
        (["a", "list"], "not an object: list \"['a', 'list']\""),
    ],
)
def test_an_unreadable_entry_is_kept_as_malformed_with_its_reason(entry: Any, problem: str) -> None:
    summary = summarize_citations({"references": {"results": [{"text": "ok", "status": "validated"}, entry]}})
    assert [r.status for r in summary.references] == ["verified", "malformed"]
    assert summary.references[1].problem == problem
    assert summary.count("malformed") == 1 and summary.breaches()[0].metric == "malformed"


def test_a_summary_without_a_list_is_empty_unless_its_total_says_otherwise() -> None:
    assert summarize_citations({"references": {"summary": {"total": 0}}}).errors == ()
    summary = summarize_citations({"references": {"summary": {"total": 2}}})
    assert summary.errors == ("the summary counts 2 references, the list has 0",)


def test_no_completed_payload_is_an_error_only_when_references_were_requested() -> None:
    assert summarize_citations(None).counts["malformed"] == 0
    assert summarize_citations(None, requested=True).errors == ("no completed webhook was recorded for the scan",)
