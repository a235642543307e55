"""Which failures are tried again: per endpoint in the hook, per item in a check batch."""

from __future__ import annotations

import pytest

from airflow_copyleaks.checks.batch import is_retryable
from airflow_copyleaks.exceptions import (
    CopyleaksApiError,
    CopyleaksConnectionError,
    CopyleaksNotFoundError,
    CopyleaksRateLimitError,
    CopyleaksUnavailableError,
    CopyleaksValidationError,
)
from airflow_copyleaks.hooks.retry import ENDPOINTS, NotSentConnectionError, RetryRule, rule_for


def api(status: int) -> CopyleaksApiError:
    return CopyleaksApiError(status, "answer")


@pytest.mark.parametrize(
    ("failure", "idempotent", "not_reached", "login"),
    [
        (api(429), True, True, False),  # a login retried on 429 prolongs Copyleaks' login block
        (api(503), True, True, True),
        (api(500), True, False, True),  # a paid check may have been charged before a 500
        (api(502), True, False, True),
        (api(400), False, False, False),
        (api(401), False, False, False),
        (api(409), False, False, False),
        (NotSentConnectionError("refused"), True, True, True),
        (CopyleaksConnectionError("read timed out"), True, False, True),  # it may have arrived
        (ValueError("a bug"), False, False, False),
    ],
)
def test_retry_rules(failure: BaseException, idempotent: bool, not_reached: bool, login: bool) -> None:
    assert RetryRule.IDEMPOTENT.allows(failure) is idempotent
    assert RetryRule.NOT_REACHED.allows(failure) is not_reached
    assert RetryRule.LOGIN.allows(failure) is login


def test_every_paid_check_is_retried_only_when_it_did_not_reach_copyleaks() -> None:
    posts = {name: e for name, e in ENDPOINTS.items() if e.method == "POST" and e.rule is RetryRule.NOT_REACHED}
    assert posts, "the synchronous checks are POSTs under NOT_REACHED"
    assert ENDPOINTS["login"].rule is RetryRule.LOGIN
    assert all(e.rule is RetryRule.IDEMPOTENT for name, e in ENDPOINTS.items() if name.startswith("submit_"))


def test_calls_outside_the_table() -> None:
    assert rule_for("get") is RetryRule.IDEMPOTENT and rule_for("PUT") is RetryRule.IDEMPOTENT
    assert rule_for("POST") is RetryRule.NOT_REACHED and rule_for("PATCH") is RetryRule.NOT_REACHED


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (CopyleaksRateLimitError(429, "slow down"), True),
        (CopyleaksUnavailableError(503, "maintenance"), True),
        (CopyleaksConnectionError("reset"), True),
        (CopyleaksNotFoundError(404, "unknown"), False),
        (CopyleaksValidationError("texts[a]", "too short"), False),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (KeyError("bug"), False),
    ],
)
def test_a_batch_item_error_is_retryable_only_when_a_later_attempt_could_succeed(
    error: BaseException, retryable: bool
) -> None:
    assert is_retryable(error) is retryable
