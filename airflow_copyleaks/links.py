"""The "Copyleaks report" button on a task: a link to what the task produced.

Airflow 3 computes extra links on the worker at the end of each attempt (including a deferral),
so each operator pushes the link target to XCom under :data:`LINK_XCOM_KEY` when it has one (the
export's PDF report or artifacts folder, for instance) and this class only reads it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

LINK_XCOM_KEY = "copyleaks_link"


class CopyleaksReportLink(BaseOperatorLink):
    """Opens the Copyleaks report (or artifacts) the task produced, when there is one."""

    name = "Copyleaks report"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key=LINK_XCOM_KEY)
        return str(value) if value else ""
