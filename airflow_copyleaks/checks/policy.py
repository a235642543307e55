"""Editorial policies: what a synchronous check's result means for the task.

A check turns each item's result into a few numeric *metrics* (counts per moderation label,
full image matches, AI probability, writing scores). A :class:`Policy` names the highest (or
lowest) tolerated value of some metrics; an item that crosses one is a *hit*. ``on_hit`` then
says what a hit does to the task: ``report`` (default: the task succeeds and the report says
so), ``skip`` (skip the task, hence its downstream), or ``fail``.

Policies are small typed objects, but every entry point also accepts the plain-dict form so a
policy can come from templated Params: ``{"on_hit": "fail", "thresholds": {"hate-speech-v1": 0}}``
or just the string ``"fail"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from airflow_copyleaks.exceptions import CopyleaksValidationError

OnHit = Literal["report", "fail", "skip"]
ON_HIT_CHOICES: tuple[OnHit, ...] = ("report", "fail", "skip")

Bound = Literal["max", "min"]
"""``max``: the threshold is the highest tolerated value (counts, AI probability).
``min``: the threshold is the lowest tolerated value (writing scores)."""

WILDCARD = "*"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Breach:
    """One metric of one item that crossed its threshold."""

    metric: str
    value: float
    threshold: float
    bound: Bound

    def __str__(self) -> str:
        op = ">" if self.bound == "max" else "<"
        return f"{self.metric} {_num(self.value)} {op} {_num(self.threshold)}"


@dataclass(frozen=True)
class Policy:
    """What a hit does, and which metric values count as a hit.

    :param on_hit: ``report`` (default), ``skip`` or ``fail``.
    :param thresholds: metric -> tolerated value. For ``max`` metrics (counts, AI probability) a
        value above the threshold is a hit, so ``{"hate-speech-v1": 0, "profanity-v1": 2}`` fails on
        any hate speech and tolerates two profanities. For ``min`` metrics (writing scores) a value
        below it is a hit. ``"*"`` stands for every metric not listed. When ``thresholds`` is empty
        the check's defaults apply (e.g. any moderation label; any full image match); when it is
        given, only the metrics it names are gated.
    :param fail_on_error: fail the task (after reporting every item) if any item could not be
        checked: invalid input or an API error that outlived the hook's retries.
    """

    on_hit: OnHit = "report"
    thresholds: Mapping[str, float] = field(default_factory=dict)
    fail_on_error: bool = True

    def __post_init__(self) -> None:
        if self.on_hit not in ON_HIT_CHOICES:
            raise CopyleaksValidationError(
                "policy.on_hit", f"is {self.on_hit!r}", limit="one of " + ", ".join(ON_HIT_CHOICES)
            )
        clean = {str(k): as_number(v, f"policy.thresholds.{k}") for k, v in dict(self.thresholds).items()}
        object.__setattr__(self, "thresholds", clean)
        object.__setattr__(self, "fail_on_error", _as_bool(self.fail_on_error, "policy.fail_on_error"))

    @classmethod
    def coerce(cls, value: Policy | Mapping[str, Any] | str | None) -> Policy:
        """A Policy from itself, a plain dict (templated Params), an ``on_hit`` string, or None."""
        if value is None or value == "":
            return cls()
        if isinstance(value, Policy):
            return value
        if isinstance(value, str):
            return cls(on_hit=cast(OnHit, value.strip().lower()))
        if isinstance(value, Mapping):
            unknown = set(value) - {"on_hit", "thresholds", "fail_on_error"}
            if unknown:
                raise CopyleaksValidationError(
                    "policy", f"unknown key(s) {sorted(unknown)}", limit="on_hit, thresholds, fail_on_error"
                )
            on_hit = str(value.get("on_hit") or "report").strip().lower()
            thresholds = value.get("thresholds") or {}
            if not isinstance(thresholds, Mapping):
                raise CopyleaksValidationError(
                    "policy.thresholds", f"must be a mapping, got {type(thresholds).__name__}"
                )
            return cls(
                on_hit=cast(OnHit, on_hit),
                thresholds=thresholds,
                fail_on_error=value.get("fail_on_error", True),
            )
        raise CopyleaksValidationError("policy", f"must be a Policy, a dict or a string, got {type(value).__name__}")

    def resolve(self, metrics: Mapping[str, Bound], defaults: Mapping[str, float]) -> dict[str, float]:
        """The thresholds to apply for a check whose metrics are ``metrics``; unknown names fail fast."""
        given = dict(self.thresholds) or dict(defaults)
        unknown = sorted(k for k in given if k != WILDCARD and k not in metrics)
        if unknown:
            raise CopyleaksValidationError(
                "policy.thresholds",
                f"unknown metric(s) {unknown}",
                limit="one of " + ", ".join([*metrics, WILDCARD]),
            )
        resolved = {k: val for k, val in given.items() if k != WILDCARD}
        if WILDCARD in given:
            for name in metrics:
                resolved.setdefault(name, given[WILDCARD])
        return resolved

    def to_dict(self) -> dict[str, Any]:
        return {"on_hit": self.on_hit, "thresholds": dict(self.thresholds), "fail_on_error": self.fail_on_error}


def evaluate(
    metrics: Mapping[str, float], thresholds: Mapping[str, float], bounds: Mapping[str, Bound]
) -> list[Breach]:
    """The metrics of one item that cross their thresholds (a missing metric never does)."""
    breaches = []
    for name, threshold in thresholds.items():
        value = metrics.get(name)
        if value is None:
            continue
        bound = bounds[name]
        if (bound == "max" and value > threshold) or (bound == "min" and value < threshold):
            breaches.append(Breach(name, float(value), float(threshold), bound))
    return breaches


Action = Literal["report", "skip", "fail", "fail-errors"]


def decide(policy: Policy, *, hits: int, errors: int) -> Action:
    """What the task does once every item has an outcome.

    A failing policy wins over errors (both are reported); errors under ``fail_on_error`` win
    over ``skip``, because a batch with unchecked items must not look like a deliberate skip.
    """
    if hits and policy.on_hit == "fail":
        return "fail"
    if errors and policy.fail_on_error:
        return "fail-errors"
    if hits and policy.on_hit == "skip":
        return "skip"
    return "report"


def as_number(value: Any, field_name: str) -> float:
    if isinstance(value, bool):
        raise CopyleaksValidationError(field_name, f"must be a number, got {value!r}")
    try:
        number = float(value)  # templated Params may render numbers as strings
    except (TypeError, ValueError):
        raise CopyleaksValidationError(field_name, f"must be a number, got {value!r}") from None
    if math.isnan(number):
        raise CopyleaksValidationError(field_name, "must be a number, got NaN")
    return number


def _as_bool(value: Any, field_name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise CopyleaksValidationError(field_name, f"must be true or false, got {value!r}")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
