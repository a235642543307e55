"""Policies: typed objects and their plain-dict form, thresholds, the batch decision."""

from __future__ import annotations

import pytest

from airflow_copyleaks.checks.policy import Breach, Policy, decide, evaluate
from airflow_copyleaks.exceptions import CopyleaksValidationError

LABELS = {"hate-speech-v1": "max", "profanity-v1": "max", "toxic-v1": "max"}


def test_policy_from_dict_string_and_none() -> None:
    assert Policy.coerce(None) == Policy()
    assert Policy.coerce("FAIL") == Policy(on_hit="fail")
    p = Policy.coerce({"on_hit": "skip", "thresholds": {"profanity-v1": "2"}, "fail_on_error": "false"})
    assert p == Policy(on_hit="skip", thresholds={"profanity-v1": 2.0}, fail_on_error=False)
    assert Policy.coerce(p) is p
    assert p.to_dict() == {"on_hit": "skip", "thresholds": {"profanity-v1": 2.0}, "fail_on_error": False}


@pytest.mark.parametrize(
    "value, field",
    [
        ("explode", "policy.on_hit"),
        ({"on_hit": "fail", "threshold": {}}, "policy"),
        ({"thresholds": {"toxic-v1": "lots"}}, "policy.thresholds.toxic-v1"),
        ({"thresholds": {"toxic-v1": True}}, "policy.thresholds.toxic-v1"),
        ({"thresholds": ["toxic-v1"]}, "policy.thresholds"),
        ({"fail_on_error": "maybe"}, "policy.fail_on_error"),
        (42, "policy"),
    ],
)
def test_bad_policies_name_the_field(value: object, field: str) -> None:
    with pytest.raises(CopyleaksValidationError) as err:
        Policy.coerce(value)  # type: ignore[arg-type]
    assert err.value.field == field


def test_resolve_defaults_wildcard_and_unknown_metric() -> None:
    assert Policy().resolve(LABELS, {"*": 0}) == dict.fromkeys(LABELS, 0)
    given = Policy(thresholds={"hate-speech-v1": 0, "profanity-v1": 2})
    assert given.resolve(LABELS, {"*": 0}) == {"hate-speech-v1": 0, "profanity-v1": 2}  # toxic not gated
    assert Policy(thresholds={"profanity-v1": 2, "*": 0}).resolve(LABELS, {}) == {
        "profanity-v1": 2, "hate-speech-v1": 0, "toxic-v1": 0,
    }  # fmt: skip
    with pytest.raises(CopyleaksValidationError, match="hate-speech"):
        Policy(thresholds={"hate-speech": 0}).resolve(LABELS, {})


def test_evaluate_max_and_min_bounds() -> None:
    bounds = {"profanity-v1": "max", "overall_score": "min"}
    thresholds = {"profanity-v1": 2, "overall_score": 60}
    assert evaluate({"profanity-v1": 2, "overall_score": 60}, thresholds, bounds) == []  # type: ignore[arg-type]
    breaches = evaluate({"profanity-v1": 3, "overall_score": 59.5}, thresholds, bounds)  # type: ignore[arg-type]
    assert [str(b) for b in breaches] == ["profanity-v1 3 > 2", "overall_score 59.5 < 60"]
    assert breaches[0] == Breach("profanity-v1", 3, 2, "max")


@pytest.mark.parametrize(
    "on_hit, fail_on_error, hits, errors, action",
    [
        ("report", True, 3, 0, "report"),
        ("skip", True, 1, 0, "skip"),
        ("fail", True, 1, 0, "fail"),
        ("fail", True, 0, 0, "report"),
        ("report", True, 0, 1, "fail-errors"),
        ("report", False, 0, 1, "report"),
        ("skip", True, 1, 1, "fail-errors"),  # unchecked items must not look like a deliberate skip
        ("fail", True, 1, 1, "fail"),
    ],
)
def test_decide(on_hit: str, fail_on_error: bool, hits: int, errors: int, action: str) -> None:
    policy = Policy(on_hit=on_hit, fail_on_error=fail_on_error)  # type: ignore[arg-type]
    assert decide(policy, hits=hits, errors=errors) == action
