"""Numeric settings fail fast, naming themselves and the rule, instead of being bent into shape
(a resend budget of 0 or 0.5 turned into one resend a minute) or failing with a bare ValueError
that does not say which setting is wrong."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks import config
from airflow_copyleaks.exceptions import CopyleaksValidationError

DAGS = Path(__file__).resolve().parents[2] / "dags"
BAD_BUDGETS = ["0", "0.5", "-3", "2.5", "ten", "nan"]


@pytest.mark.parametrize("value", BAD_BUDGETS)
def test_a_bad_resend_budget_names_the_setting(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__RESEND_BUDGET_PER_MINUTE", value)
    with pytest.raises(CopyleaksValidationError, match=r"\[copyleaks\] resend_budget_per_minute") as err:
        config.resend_budget_per_minute()
    assert err.value.limit == "a whole number of at least 1"


def test_a_whole_resend_budget_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__RESEND_BUDGET_PER_MINUTE", "12")
    assert config.resend_budget_per_minute() == 12


@pytest.mark.parametrize("per_minute", [0, 0.5, -1])
def test_the_hook_refuses_a_resend_budget_below_one_instead_of_rounding_it_up(per_minute: float, hook: Any) -> None:
    with pytest.raises(CopyleaksValidationError, match=r"\[copyleaks\] resend_budget_per_minute"):
        hook.resend_limiter(per_minute)


def test_any_numeric_setting_that_is_not_a_number_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS", "fast")
    with pytest.raises(CopyleaksValidationError, match=r"\[copyleaks\] poll_interval_seconds: is 'fast'"):
        config.get_float("poll_interval_seconds")


@pytest.mark.parametrize(
    ("dag_file", "variable"),
    [
        ("copyleaks_prepublication_gate.py", "COPYLEAKS_GATE_EMBARGO_MINUTES"),
        ("copyleaks_takedown_review.py", "COPYLEAKS_TAKEDOWN_MIN_SCORE"),
    ],
)
@pytest.mark.parametrize("value", ["forty-five", "-1"])
def test_a_dag_with_a_bad_number_in_its_environment_fails_to_import_naming_it(
    dag_file: str, variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.syspath_prepend(str(DAGS))
    with pytest.raises(CopyleaksValidationError, match=rf"^{variable}: is '{value}'"):
        runpy.run_path(str(DAGS / dag_file))
