"""CopyleaksExportOperator: have Copyleaks push a scan's results, PDF report and crawled version
to the webhook receiver, wait for the export-completed webhook, and return where the artifacts are.

The export id is derived from the task instance and the scan, so a retried task re-uses it and
waits for the export it already asked for instead of asking again (Copyleaks advises against
re-triggering exports, which are limited to 10 per minute).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowSkipException
from airflow.sdk import BaseOperator

from airflow_copyleaks import config, ids
from airflow_copyleaks import validation as v
from airflow_copyleaks.clients import CopyleaksClientMixin
from airflow_copyleaks.exceptions import CopyleaksConflictError, CopyleaksValidationError
from airflow_copyleaks.links import LINK_XCOM_KEY, CopyleaksReportLink, export_link
from airflow_copyleaks.waits import records
from airflow_copyleaks.waits.domain import ExportResult, InvalidWaitEvent, check_export_event
from airflow_copyleaks.waits.tasks import as_seconds, coerce_scan_ids, default_deferrable, wait_for_export

if TYPE_CHECKING:
    from airflow.sdk import Context


RESULT_SECTIONS = ("internet", "database", "batch", "repositories")


def result_ids(completed: dict[str, Any] | None) -> list[str]:
    """Every result id of a completed webhook's ``results`` sections."""
    results = (completed or {}).get("results") or {}
    return [str(item["id"]) for section in RESULT_SECTIONS for item in results.get(section) or [] if "id" in item]


def export_is_healthy(completed: dict[str, Any]) -> list[str]:
    """Problems in an export-completed payload (empty when every task was delivered)."""
    problems = []
    if completed.get("completed") is not True:
        problems.append("Copyleaks reported the export as not completed")
    for task in completed.get("tasks") or []:
        status = task.get("httpStatusCode")
        if not task.get("isHealthy") or not isinstance(status, int) or not 200 <= status < 300:
            problems.append(f"{task.get('endpoint')}: healthy={task.get('isHealthy')} status={status}")
    return problems


class CopyleaksExportOperator(CopyleaksClientMixin, BaseOperator):
    """Export a completed scan's results to the receiver (and from there to ``artifacts_url``).

    :param scan_id: The completed scan (templated; e.g. one id from a submit task's result).
    :param results: Result ids to export; ``None`` exports every result of the stored completed
        webhook.
    :param pdf_report: Also export the PDF report (the scan must have had ``pdf.create``).
    :param crawled_version: Also export the crawled version of the scanned document.
    :param max_retries: How many times Copyleaks retries delivering each exported artifact
        (its ``maxRetries``).
    :param force_new_export: Export again under a new export id: a new id once per DAG run,
        reused by that run's retries.
    :param wait_for_completion: Wait for the export-completed webhook (default True).
    :param deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
    :param wait_timeout: Longest wait (seconds or timedelta); past it the task fails (default: one hour).
    :param poll_interval: Seconds between reads of the store while waiting (default:
        ``[copyleaks] poll_interval_seconds``).
    :param webhook_base_url: Override the connection's ``webhook_base_url`` (where Copyleaks
        delivers the artifacts): a fixed string, not a template.
    :param copyleaks_conn_id: Connection of type ``copyleaks``.
    :param store_url: The ScanStore the webhook receiver writes to (default: ``[copyleaks]
        store_url``).

    Returns ``{"export_id", "scan_id", "artifacts": {...}, "tasks"}``.
    """

    template_fields: Sequence[str] = (
        "copyleaks_conn_id",
        "scan_id",
        "results",
        "pdf_report",
        "crawled_version",
        "force_new_export",
    )
    operator_extra_links = (CopyleaksReportLink(),)
    ui_color = "#c7e3f7"

    def __init__(
        self,
        *,
        scan_id: str,
        results: list[str] | None = None,
        pdf_report: bool = False,
        crawled_version: bool = True,
        max_retries: int = 3,
        force_new_export: bool = False,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        wait_timeout: float | timedelta | None = None,
        poll_interval: float | None = None,
        webhook_base_url: str | None = None,
        copyleaks_conn_id: str = "copyleaks_default",
        store_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scan_id = scan_id
        self.results = results
        self.pdf_report = pdf_report
        self.crawled_version = crawled_version
        self.max_retries = max_retries
        self.force_new_export = force_new_export
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.webhook_base_url = v.untemplated_webhook_base_url(webhook_base_url)
        self.copyleaks_conn_id = copyleaks_conn_id
        self.store_url = store_url

    def _export_id(self, ti: Any) -> str:
        map_index = getattr(ti, "map_index", -1)
        # A deliberate re-export: a new id once per DAG run, the same for the run's retries.
        nonce = ids.force_nonce(ti.run_id) if config.as_bool(self.force_new_export) else ""
        return ids.derive_id("export", ti.dag_id, ti.task_id, ti.run_id, map_index, self.scan_id, nonce, prefix="ex")

    def execute(self, context: Context) -> Any:
        from airflow_copyleaks.webhooks import urls

        scan_id = str(self.scan_id)
        export_id = self._export_id(context["ti"])
        completed = self.store.get_event_payload(scan_id, "completed")
        if completed is None:
            raise CopyleaksValidationError("scan_id", f"scan {scan_id!r} has no completed webhook in the store")
        chosen = (
            coerce_scan_ids(self.results, "results", allow_empty=True)
            if self.results is not None
            else result_ids(completed)
        )
        pdf, crawled = config.as_bool(self.pdf_report), config.as_bool(self.crawled_version)
        if not chosen and not pdf and not crawled:  # no result, no PDF, no crawled version asked for
            raise AirflowSkipException(
                f"results is empty and no PDF or crawled version asked for: nothing to export for {scan_id}"
            )
        base = self.webhook_base_url or self.hook.webhook_base_url
        secret = config.webhook_secret()
        if not base or not secret:
            raise CopyleaksValidationError("webhook_base_url", "and [copyleaks] webhook_secret are both required")
        context["ti"].xcom_push(key="export_id", value=export_id)
        # The button is computed at the end of every attempt, a deferral included: push its target now.
        link = export_link(context["ti"].dag_id, export_id, pdf=pdf, crawled=crawled, result_ids=chosen)
        context["ti"].xcom_push(key=LINK_XCOM_KEY, value=link)
        existing = records.get_export(self.store, export_id)
        if existing is None or existing["status"] == "pending":
            body = urls.export_request_body(
                base,
                scan_id,
                export_id,
                secret,
                result_ids=chosen,
                pdf=pdf,
                crawled=crawled,
                max_retries=self.max_retries,
            )
            expected = [f"result:{rid}" for rid in chosen]
            expected += (["pdf"] if pdf else []) + (["crawled"] if crawled else [])
            ti = context["ti"]
            meta = {"dag_id": ti.dag_id, "task_id": ti.task_id, "run_id": ti.run_id}
            self.store.register_export(export_id, scan_id, expected=expected, meta=meta)
            try:
                self.hook.export(scan_id, export_id, body)
                self.log.info("Asked Copyleaks to export scan %s (%d result(s)) as %s", scan_id, len(chosen), export_id)
            except CopyleaksConflictError:
                self.log.info("Export %s was already requested (409): waiting for it", export_id)
        if not self.wait_for_completion:
            return {"export_id": export_id, "scan_id": scan_id, "results": chosen, "status": "requested"}
        deadline = time.time() + as_seconds(self.wait_timeout, 3600.0)
        poll = self.poll_interval if self.poll_interval is not None else config.get_float("poll_interval_seconds")
        event = wait_for_export(self, export_id, scan_id, deadline=deadline, poll_interval=poll)
        return self._finish(context, event)

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        return self._finish(context, event)

    def _finish(self, context: Context, event: Any) -> ExportResult:
        try:
            event = check_export_event(event)
        except InvalidWaitEvent as err:
            raise AirflowException(str(err)) from None
        if event["status"] == "timeout":
            raise AirflowException(f"Copyleaks: {event.get('message')}")
        export = event.get("export") or {}
        completed = export.get("payload")
        if not isinstance(completed, dict):
            raise AirflowException(f"Copyleaks export event carries no completion payload: {event!r}")
        problems = export_is_healthy(completed)
        if problems:
            raise AirflowException(f"Copyleaks export {event.get('export_id')} was not healthy: " + "; ".join(problems))
        artifacts: dict[str, Any] = {"results": {}}
        for item in export.get("artifacts") or []:
            if item.get("kind") == "result":
                artifacts["results"][str(item.get("result_id"))] = item["location"]
            else:
                artifacts[str(item.get("kind"))] = item["location"]
        return {
            "export_id": event.get("export_id"),
            "scan_id": event.get("scan_id"),
            "status": "completed",
            "artifacts": artifacts,
            "tasks": len(completed.get("tasks") or []),
        }
