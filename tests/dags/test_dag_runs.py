"""The example DAGs run as users run them: scheduled, triggered without a logical date (REST
``"logical_date": null``, the UI's Trigger without a date), in a quiet interval, re-scanning.

Real Airflow (``DAG.test`` from the DAGs folder, triggers in line), the emulator over HTTP, a
real webhook receiver and ScanStore.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.dags.conftest import ExampleDags, output

SWEEP = "copyleaks_plagiarism_sweep"
MODERATION = "copyleaks_content_moderation"


def task_states(result: Any) -> dict[str, str]:
    """task_id -> state (the last map index's state for mapped tasks)."""
    return {m[0]: m[2] for m in re.findall(r"^TASK (\S+) (-?\d+) (\S+)$", result.stdout, re.M)}


def test_sweep_triggered_without_a_logical_date_scans_the_day_before_run_after(example_dags: ExampleDags) -> None:
    # As POST /dagRuns {"logical_date": null}: no logical date, no data interval, only run_after.
    result = example_dags.run(SWEEP, logical_date=None, run_after="2026-11-20T06:00:00+00:00")
    assert result.returncode == 0, output(result)
    assert "TypeError" not in result.stdout + result.stderr
    report = example_dags.reports(SWEEP)[-1]
    # The 24 hours before run_after: a14 (19th 10:00), a15 (19th 16:00), a16 (20th 00:30).
    assert sorted(row["key"] for row in report["rows"]) == ["a14", "a15", "a16"]
    assert (report["window_start"], report["window_end"]) == ("2026-11-19T06:00:00+00:00", "2026-11-20T06:00:00+00:00")


def test_moderation_triggered_without_a_logical_date_checks_the_hours_before_run_after(
    example_dags: ExampleDags,
) -> None:
    result = example_dags.run(
        MODERATION, logical_date=None, run_after="2026-11-13T02:00:00+00:00", conf={"lookback_hours": 2}
    )
    assert result.returncode == 0, output(result)
    report = example_dags.reports(MODERATION)[-1]
    # c003 was posted at 01:00 on the 13th: inside [00:00, 02:00).
    assert "comment:c003" in {row["item"] for row in report["rows"]}
    # What the report says was held back is what any worker reads below the shared artifacts_url.
    held = {row["item"] for row in report["rows"] if row.get("action") == "held back"}
    assert held and set(example_dags.holds()) == held, (held, example_dags.holds())


def test_a_quiet_hour_is_skipped_with_a_message_not_failed(example_dags: ExampleDags) -> None:
    # Nothing was posted or published between 04:00 and 05:00 on the 25th.
    result = example_dags.run(MODERATION, logical_date="2026-11-25T05:00:00+00:00")
    assert result.returncode == 0, output(result)
    states = task_states(result)
    assert states["moderate_texts"] == "skipped" and states["check_hero_images"] == "skipped", states
    assert "failed" not in states.values(), states
    assert "nothing was posted or published" in result.stdout + result.stderr, output(result)
    assert example_dags.holds() == {}


def test_a_quiet_day_of_the_sweep_is_skipped_with_a_message(example_dags: ExampleDags) -> None:
    result = example_dags.run(SWEEP, logical_date="2026-11-28T00:00:00+00:00")
    assert result.returncode == 0, output(result)
    states = task_states(result)
    assert states["select_articles"] == "skipped" and states["write_report"] == "skipped", states
    assert "failed" not in states.values(), states
    assert "no article was published" in result.stdout + result.stderr


@pytest.mark.timeout(1200)  # three DAG runs; slow on a loaded machine
def test_a_rescan_after_the_archive_was_indexed_gives_the_first_scans_scores(example_dags: ExampleDags) -> None:
    articles = ["a03", "a05", "a15"]  # clean, copies the web, copies our a02
    first = example_dags.run(
        SWEEP, logical_date=None, run_after="2026-11-18T00:00:00+00:00", conf={"article_ids": articles}
    )
    assert first.returncode == 0, output(first)
    # The nightly run indexes everything published before the 20th, these three included.
    nightly = example_dags.run(SWEEP, logical_date="2026-11-21T00:00:00+00:00")
    assert nightly.returncode == 0, output(nightly)
    rescan = example_dags.run(
        SWEEP, logical_date=None, run_after="2026-11-25T00:00:00+00:00", conf={"article_ids": articles, "force": True}
    )
    assert rescan.returncode == 0, output(rescan)

    def scores(result: Any) -> dict[str, float]:
        return {row["key"]: row["score"] for row in example_dags.report(SWEEP, result)["rows"]}

    before, after = scores(first), scores(rescan)
    assert before["a05"] > 0 and before["a15"] > 0 and before["a03"] < 100, before
    assert after == before
    rows = {row["key"]: row for row in example_dags.report(SWEEP, rescan)["rows"]}
    for key in articles:  # never its own indexed copy as a source
        assert not [s for s in rows[key]["sources"] if s.get("key") == key or key in s.get("title", "")], rows[key]
    assert any(s.get("key") == "a02" for s in rows["a15"]["sources"]), rows["a15"]["sources"]


def test_sandbox_as_the_connection_says_and_mock_results_hold_nothing(
    example_dags: ExampleDags, copyleaks_emulator: Any
) -> None:
    # The admin turned Sandbox on in the connection; the run leaves the DAG's sandbox Param empty.
    conn = json.loads(example_dags.env["AIRFLOW_CONN_COPYLEAKS_DEFAULT"])
    conn["extra"]["sandbox"] = True
    example_dags.env["AIRFLOW_CONN_COPYLEAKS_DEFAULT"] = json.dumps(conn)
    result = example_dags.run(SWEEP, logical_date="2026-11-20T00:00:00+00:00", conf={"threshold": 5})
    assert result.returncode == 0, output(result)
    assert copyleaks_emulator.stats()["credits_used"] == 0
    report = example_dags.report(SWEEP, result)
    assert report["sandbox"] is True
    flagged = [row for row in report["rows"] if row["verdict"] == "flagged"]
    assert flagged, report["rows"]  # the mock result matches every text...
    assert {row["action"] for row in report["rows"]} == {"unchanged: sandbox result"}
    assert example_dags.holds() == {}  # ...and holds nothing back
