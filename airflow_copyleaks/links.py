"""Extra links on task pages: same-origin URLs served by the plugin's authenticated routes.

The Airflow 3 UI shows only http(s), mailto and same-origin links (never ``file://`` or
``s3://``), and computes every link on the worker at the end of each attempt, a deferral
included. So a link is built from what exists at that moment without an XCom read that can miss
(a missing XCom is logged as an error by the Task SDK, even in a successful run):

- :class:`CopyleaksReportLink` reads the URL an operator pushed under :data:`LINK_XCOM_KEY`
  before it deferred (the export's PDF, for instance);
- :class:`CopyleaksAuditReportLink` derives the run's audit report URL from the task instance
  and offers it once the report exists.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperatorLink

from airflow_copyleaks.ui import locations

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

LINK_XCOM_KEY = "copyleaks_link"
# Where the report task tells readers (and the Copyleaks page) which report it wrote.
REPORT_XCOM_KEY = "copyleaks_report"

log = logging.getLogger(__name__)
T = TypeVar("T")


class CopyleaksReportLink(BaseOperatorLink):
    """Opens what the task produced in Copyleaks (an export's PDF report or results)."""

    name = "Copyleaks report"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        value = XCom.get_value(ti_key=ti_key, key=LINK_XCOM_KEY)
        return str(value) if value else ""


class CopyleaksAuditReportLink(BaseOperatorLink):
    """Opens the run's audit report (``report.html``), once the task has written it."""

    name = "Audit report"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        try:
            exists = locations.report_path(ti_key.dag_id, ti_key.run_id).exists()
        except Exception as err:  # a link must never fail the task; the report may be elsewhere
            log.warning("Could not check for the audit report of %s: %s", ti_key.run_id, err)
            exists = False
        return locations.report_url(ti_key.dag_id, ti_key.run_id) if exists else ""


def with_audit_report_link(task: T) -> T:
    """Give a task (an operator, or a ``@task`` call's output) the "Audit report" button.

    ``@task`` has no ``operator_extra_links`` argument; the link is set on the operator instance,
    which is what the DAG serializer and the worker read.
    """
    operator: Any = getattr(task, "operator", task)
    operator.operator_extra_links = (*getattr(operator, "operator_extra_links", ()), CopyleaksAuditReportLink())
    return task


def export_link(dag_id: str, export_id: str, *, pdf: bool, crawled: bool, result_ids: list[str]) -> str:
    """The URL of the artifact an export's button opens: its PDF report, else what it exports."""
    if pdf:
        return locations.export_url(dag_id, export_id, "pdf")
    if crawled:
        return locations.export_url(dag_id, export_id, "crawled")
    return locations.export_url(dag_id, export_id, f"results/{result_ids[0]}") if result_ids else ""
