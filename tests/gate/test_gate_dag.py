"""The gate DAG run in-process (``dag.test``) against the emulator: the paths with no editor."""

from __future__ import annotations

import json
from typing import Any

from tests.dags.conftest import ExampleDags, output

DAG_ID = "copyleaks_prepublication_gate"


def cms_state(dags: ExampleDags, draft_id: str) -> dict[str, Any]:
    """What the sample folder source recorded for a draft (nothing while it is a new draft)."""
    path = dags.receiver.artifacts / "publishing" / "drafts" / f"{draft_id}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_a_clean_draft_is_published_without_a_review(example_dags: ExampleDags) -> None:
    example_dags.env["COPYLEAKS_GATE_EMBARGO_MINUTES"] = "0"  # dag.test() cannot run deadline alerts
    result = example_dags.run(DAG_ID, logical_date=None, conf={"draft_ids": ["d01"]})
    assert result.returncode == 0, output(result)
    assert cms_state(example_dags, "d01")["status"] == "publish"
    assert "TASK editor_review" not in result.stdout.replace("TASK editor_review -1 skipped", ""), output(result)
    report = example_dags.report(DAG_ID, result)
    row = report["rows"][0]
    assert (row["key"], row["verdict"], row["action"]) == ("d01", "clean", "published")


def test_a_policy_with_a_typo_fails_the_first_task_before_any_paid_check(
    example_dags: ExampleDags, copyleaks_emulator: Any
) -> None:
    example_dags.env["COPYLEAKS_GATE_EMBARGO_MINUTES"] = "0"
    conf = {"draft_ids": ["d01"], "policy": {"plagiarism_scroe": 20}}

    result = example_dags.run(DAG_ID, logical_date=None, conf=conf)

    assert result.returncode != 0 or "failed" in result.stdout, output(result)
    assert "plagiarism_scroe" in result.stdout + result.stderr, output(result)
    assert "TASK select_drafts -1 failed" in result.stdout, output(result)
    assert copyleaks_emulator.stats()["credits_used"] == 0
    # Indexing our own archive (scan ids "ix...") is free and does not depend on the drafts.
    paid = [c["path"] for c in copyleaks_emulator.calls() if c["path"].endswith("/check") or "/submit/" in c["path"]]
    assert [p for p in paid if "/ix" not in p] == [], output(result)
    assert cms_state(example_dags, "d01") == {}
