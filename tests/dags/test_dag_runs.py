"""The example DAGs run as users run them: scheduled, triggered without a logical date (REST
``"logical_date": null``, the UI's Trigger without a date), in a quiet interval, re-scanning.

Real Airflow (``DAG.test`` from the DAGs folder, triggers in line), the emulator over HTTP, a
real webhook receiver and ScanStore.
"""

from __future__ import annotations

import re
from typing import Any

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
    # The 24 hours before run_after: a21 (19th 10:00), a22 (19th 16:00), a23 (20th 00:00).
    assert sorted(row["key"] for row in report["rows"]) == ["a21", "a22", "a23"]
    assert report["window"] == {"start": "2026-11-19T06:00:00+00:00", "end": "2026-11-20T06:00:00+00:00"}


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
