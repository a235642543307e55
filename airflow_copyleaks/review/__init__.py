"""Editorial review of Copyleaks results with Airflow's human-in-the-loop operators.

- :mod:`~airflow_copyleaks.review.findings`: one draft's results from the check reports, as plain data;
- :mod:`~airflow_copyleaks.review.policy`: :class:`ReviewPolicy`, the verdict (clean or flagged, and why);
- :mod:`~airflow_copyleaks.review.request`: the subject and Markdown body an editor reads;
- :mod:`~airflow_copyleaks.review.operator`: :class:`CopyleaksReviewOperator`, Publish / Request edits /
  Reject, whose timeout default is never "Publish".

Imported lazily: a DAG file that only needs the policy does not load the standard provider's HITL code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "ReviewPolicy": ".policy",
    "Verdict": ".policy",
    "draft_findings": ".findings",
    "ReviewRequest": ".request",
    "build_review": ".request",
    "CopyleaksReviewOperator": ".operator",
    "LogReviewNotifier": ".operator",
    "PUBLISH": ".operator",
    "REQUEST_EDITS": ".operator",
    "REJECT": ".operator",
}

__all__ = [
    "PUBLISH",
    "REJECT",
    "REQUEST_EDITS",
    "CopyleaksReviewOperator",
    "LogReviewNotifier",
    "ReviewPolicy",
    "ReviewRequest",
    "Verdict",
    "build_review",
    "draft_findings",
]

if TYPE_CHECKING:
    from airflow_copyleaks.review.findings import draft_findings
    from airflow_copyleaks.review.operator import (
        PUBLISH,
        REJECT,
        REQUEST_EDITS,
        CopyleaksReviewOperator,
        LogReviewNotifier,
    )
    from airflow_copyleaks.review.policy import ReviewPolicy, Verdict
    from airflow_copyleaks.review.request import ReviewRequest, build_review


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
