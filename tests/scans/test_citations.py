"""Citation checking (Copyleaks' references validation) end to end: the submit operator asks for
it, the emulator validates the document's references and sends them in the completed webhook,
the receiver stores the webhook, and :func:`citations_for_scan` reads the typed summary."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_copyleaks.checks.citations import citations_for_scan, summarize_citations
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.review.findings import draft_findings
from airflow_copyleaks.review.policy import ReviewPolicy
from airflow_copyleaks.scans.properties import References, ScanProperties
from airflow_copyleaks.store.scan_store import ScanStore
from tests.fixtures import context_for
from tests.scans.conftest import submit_calls

TIDAL = ("https://example-news.test/science/tidal-pools", "Life in the tidal pools of a northern coast")
BICYCLES = "https://example-news.test/technology/bicycle-sharing"

DRAFT = f"""Researchers counted the creatures of the rock pools along the northern coast [1] and the
city's cycling office explained why its shared bicycles finally caught on [2]. A third study claims
that limpets can sing [3], a claim repeated in a book (Smith 2020) and in a lost blog post [4].

References
[1] Example News, "{TIDAL[1]}", {TIDAL[0]}
[2] Example News, Bicycles conquer the moon, {BICYCLES}
[3] Doe, J., Singing limpets of the deep, https://journal.invalid/limpets/42
[4] Roe, R., Notes from the shore, https://blog.unknown-site.test/shore
Smith, J. (2020). A history of rock pools. Harbour Press.
"""


def scan_with_references(store_file: str, properties: Any) -> tuple[dict[str, Any], str]:
    op = CopyleaksSubmitOperator(
        task_id="submit",
        store_url=store_file,
        poll_interval=0.05,
        documents=[{"key": "draft", "text": DRAFT}],
        properties=properties,
        wait_for_completion=True,
        deferrable=False,
    )
    result = op.execute(context_for(op))
    assert result["status"] == "success", result
    return result, result["items"]["draft"]["scan_id"]


def test_submit_with_references_validation_lists_verified_unverifiable_and_fabricated(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    properties = ScanProperties(references=References(validate=True))
    _, scan_id = scan_with_references(store_file, properties)

    assert len(submit_calls(copyleaks_emulator)) == 1
    assert copyleaks_emulator.scan(scan_id)["properties"]["references"] == {"validate": True}

    summary = citations_for_scan(ScanStore(store_file), scan_id)
    # [1] names its page's title; [2]'s page exists under another title; [3] is on a host that
    # cannot exist; [4] is on a site nobody can reach; Smith's book is in no index.
    statuses = [(r.text.split(",")[0], r.status) for r in summary.references]
    assert statuses == [
        ("Example News", "verified"),
        ("Example News", "misattributed"),
        ("Doe", "fabricated"),
        ("Roe", "unverifiable"),
        ("Smith", "unverifiable"),
    ]
    verified = summary.references[0]
    assert (verified.title, verified.url) == (TIDAL[1], TIDAL[0])
    assert summary.counts == {
        "verified": 1, "unverifiable": 2, "fabricated": 1, "misattributed": 1, "malformed": 0,
    }  # fmt: skip
    assert [str(b) for b in summary.breaches()] == ["fabricated 1 > 0", "misattributed 1 > 0"]
    assert summary.breaches({"thresholds": {"unverifiable": 2}}) == []  # two tolerated

    # The gate's review policy takes the summary's dict form as a draft's citations finding.
    part = summary.to_dict()
    assert (part["total"], part["unverified"], part["error"]) == (5, 4, None)
    findings = draft_findings("draft", citations=part)
    reasons = ReviewPolicy(unverified_references=0).verdict(findings).reasons
    assert "4 of 5 reference(s) unverifiable or fabricated" in reasons


def test_cross_check_reports_citations_missing_from_the_reference_list(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    copyleaks_emulator.set_config(references_placement="results")  # the other documented-nowhere place
    text_without_smith = DRAFT.replace("Smith, J. (2020). A history of rock pools. Harbour Press.\n", "")
    op = CopyleaksSubmitOperator(
        task_id="submit",
        store_url=store_file,
        poll_interval=0.05,
        documents=[{"key": "draft", "text": text_without_smith}],
        properties={"references": {"validate": True, "crossCheck": True}},
        wait_for_completion=True,
        deferrable=False,
    )
    result = op.execute(context_for(op))
    summary = citations_for_scan(ScanStore(store_file), result["items"]["draft"]["scan_id"])
    dangling = summary.references[-1]
    assert (dangling.text, dangling.status) == ("(Smith 2020)", "unverifiable")
    assert dangling.problem == "cited in the text but missing from the reference list"
    assert summary.count("unverifiable") == 2 and summary.count("malformed") == 0


@pytest.mark.parametrize(
    ("fault", "expected_errors", "malformed_entries"),
    [
        (
            "bad-entry",
            ["the summary counts 5 references, the list has 7"],
            ["unknown status 'checked-maybe'", "not an object: str 'not an object'"],
        ),
        (
            "bad-section",
            ["the references section is unreadable: str 'references validation unavailable'"],
            [],
        ),
    ],
)
def test_a_malformed_citation_result_surfaces_as_an_error_entry(
    scan_conn: str,
    store_file: str,
    copyleaks_emulator: Any,
    fault: str,
    expected_errors: list[str],
    malformed_entries: list[str],
) -> None:
    copyleaks_emulator.set_config(references_fault=fault)
    _, scan_id = scan_with_references(store_file, {"references": {"validate": True}})
    summary = citations_for_scan(ScanStore(store_file), scan_id)
    assert list(summary.errors) == expected_errors
    assert [r.problem for r in summary.references if r.status == "malformed"] == malformed_entries
    assert summary.count("malformed") == len(expected_errors) + len(malformed_entries)
    # The default policy counts unreadable results as hits: nothing malformed passes quietly.
    assert any(b.metric == "malformed" for b in summary.breaches())
    part = summary.to_dict()
    assert part["counts"]["malformed"] == summary.count("malformed")
    # What the gate's review takes: the section's problems as its error, so the draft is flagged.
    assert part["error"] == "; ".join(expected_errors)
    assert part["unverified"] == len(summary.flagged)
    reasons = ReviewPolicy().verdict(draft_findings("draft", citations=part)).reasons
    assert f"citation check failed: {part['error']}" in reasons


def test_a_scan_that_asked_for_references_but_got_none_is_reported() -> None:
    completed = {"status": 0, "results": {"score": {"aggregatedScore": 0}}}
    assert summarize_citations(completed).to_dict()["errors"] == []  # not asked: nothing to report
    missing = summarize_citations(completed, requested=True)
    assert missing.errors == ("the completed webhook has no references section",)
    assert missing.count("malformed") == 1


@pytest.mark.parametrize(
    ("references", "field", "limit"),
    [
        ({"validate": "yes"}, "properties.references.validate", "must be true or false, got 'yes'"),
        ({"validtae": True}, "properties.references.validtae", "is not a known key"),
        ({"crossCheck": True}, "properties.references.crossCheck", "needs validate: true"),
        ("on", "properties.references", "must be an object, got str"),
    ],
)
def test_bad_references_property_is_refused_before_any_request(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, references: Any, field: str, limit: str
) -> None:
    op = CopyleaksSubmitOperator(
        task_id="submit",
        store_url=store_file,
        documents=[{"key": "draft", "text": DRAFT}],
        properties={"references": references},
        fail_on_item_error=False,
    )
    result = op.execute(context_for(op))
    [entry] = result["items"].values()
    assert entry["submission"] == "invalid", entry
    assert entry["error"].startswith(f"{field}: {limit}"), entry["error"]
    assert submit_calls(copyleaks_emulator) == []
    assert ScanStore(store_file).get_scan(entry["scan_id"]) is None


def test_the_hook_refuses_a_bad_references_property_without_a_call(hook: Any, copyleaks_emulator: Any) -> None:
    properties = {"webhooks": {"status": "http://127.0.0.1:9/{STATUS}"}, "references": {"validate": 1}}
    with pytest.raises(CopyleaksValidationError, match=r"properties\.references\.validate: must be true or false"):
        hook.submit_text("cite-check-1", DRAFT, properties)
    assert submit_calls(copyleaks_emulator) == []
