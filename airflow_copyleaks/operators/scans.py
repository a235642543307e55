"""Asynchronous (webhook-reported) scan operators, gathered for ``get_provider_info``.

Each operator lives in its own module; import from here or from ``airflow_copyleaks.operators``.
"""

from __future__ import annotations

from airflow_copyleaks.operators.credits import CopyleaksCheckCreditsOperator
from airflow_copyleaks.operators.export import CopyleaksExportOperator
from airflow_copyleaks.operators.properties import ScanProperties
from airflow_copyleaks.operators.start import CopyleaksStartOperator
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator

__all__ = [
    "CopyleaksCheckCreditsOperator",
    "CopyleaksExportOperator",
    "CopyleaksStartOperator",
    "CopyleaksSubmitOperator",
    "ScanProperties",
]
