"""The citation check as the report shows it: flagged references only, escaped, safe links."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dags"))  # as in the DAG folder

from publishing.citations_report import csv_cell, html_section

from airflow_copyleaks.checks.citations import summarize_citations

COMPLETED = {
    "references": {
        "results": [
            {"text": "Real, Page, https://a.test/", "status": "validated", "url": "https://a.test/"},
            {"text": "<script>alert(1)</script> Lies", "status": "fabricated", "url": "javascript:alert(1)"},
            {"text": "Roe, Lost, https://b.test/x", "status": "unverifiable", "url": "https://b.test/x"},
        ]
    }
}


def test_the_csv_cell_counts_what_is_not_verified() -> None:
    part = summarize_citations(COMPLETED).to_dict()
    assert csv_cell(part) == "2 of 3 not verified: 1 fabricated, 1 unverifiable"
    assert csv_cell(None) == ""
    broken = summarize_citations({"references": "down"}).to_dict()
    assert csv_cell(broken) == "error: the references section is unreadable: str 'down'"


def test_the_html_lists_only_flagged_references_escaped_with_http_links_only() -> None:
    html = html_section(summarize_citations(COMPLETED).to_dict())
    assert "Real, Page" not in html  # verified: not an editor's concern
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'href="javascript' not in html and "javascript:alert(1)" in html  # shown, not linked
    assert '<a href="https://b.test/x">' in html
    assert "the cited work does not exist" in html
