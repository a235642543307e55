"""Copyleaks operators, imported lazily.

DAG files import operators at parse time, which happens often; ``from airflow_copyleaks.operators
import CopyleaksModerateOperator`` only loads the module that defines the operator asked for
(PEP 562 module ``__getattr__``), not the hook, the store or every other operator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> module that defines it (relative to this package, or absolute).
_LAZY: dict[str, str] = {
    # Synchronous checks.
    "CopyleaksModerateOperator": ".checks",
    "CopyleaksImageCheckOperator": ".checks",
    "CopyleaksAiDetectionOperator": ".checks",
    "CopyleaksWritingFeedbackOperator": ".checks",
    "CopyleaksCheckOperator": ".checks",
    "CheckPolicyViolation": "airflow_copyleaks.exceptions",
    "Policy": "airflow_copyleaks.checks.policy",
    # Asynchronous scans (Submit / CheckCredits / Start / Export).
    "CopyleaksSubmitOperator": ".submit",
    "CopyleaksCheckCreditsOperator": ".credits",
    "CopyleaksStartOperator": ".start",
    "CopyleaksExportOperator": ".export",
    "ScanProperties": "airflow_copyleaks.scans.properties",
}

# Kept literal for type checkers and linters; a test checks it matches _LAZY.
__all__ = [
    "CheckPolicyViolation",
    "CopyleaksAiDetectionOperator",
    "CopyleaksCheckCreditsOperator",
    "CopyleaksCheckOperator",
    "CopyleaksExportOperator",
    "CopyleaksImageCheckOperator",
    "CopyleaksModerateOperator",
    "CopyleaksStartOperator",
    "CopyleaksSubmitOperator",
    "CopyleaksWritingFeedbackOperator",
    "Policy",
    "ScanProperties",
]

if TYPE_CHECKING:
    from airflow_copyleaks.checks.policy import Policy
    from airflow_copyleaks.operators.checks import (
        CheckPolicyViolation,
        CopyleaksAiDetectionOperator,
        CopyleaksCheckOperator,
        CopyleaksImageCheckOperator,
        CopyleaksModerateOperator,
        CopyleaksWritingFeedbackOperator,
    )
    from airflow_copyleaks.operators.credits import CopyleaksCheckCreditsOperator
    from airflow_copyleaks.operators.export import CopyleaksExportOperator
    from airflow_copyleaks.operators.start import CopyleaksStartOperator
    from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
    from airflow_copyleaks.scans.properties import ScanProperties


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
