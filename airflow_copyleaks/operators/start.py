"""CopyleaksStartOperator: start price-checked scans, at most 100 per call, and optionally wait.

Scans the store knows as started or finished are not started again, so a retried task neither
double-starts nor reports the scans it started before as failures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from airflow.providers.common.compat.sdk import AirflowException, AirflowSkipException
from airflow.sdk import BaseOperator

from airflow_copyleaks import validation as v
from airflow_copyleaks.clients import CopyleaksClientMixin
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.waits import records
from airflow_copyleaks.waits.domain import ScanRecord, StartResult, build_event
from airflow_copyleaks.waits.tasks import (
    ScanWaitMixin,
    coerce_scan_ids,
    default_deferrable,
    pull_wait_state,
    push_wait_state,
    raise_for_event,
    validate_scan_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


ERROR_HANDLING = ("cancel", "ignore")


class CopyleaksStartOperator(CopyleaksClientMixin, ScanWaitMixin, BaseOperator):
    """Start scans submitted with ``action=check-credits``.

    :param scan_ids: Ids (templated): a list, or an upstream CopyleaksCheckCreditsOperator's
        result (``check.output``).
    :param error_handling: ``cancel`` (one bad id cancels its whole call of up to 100) or
        ``ignore`` (start the rest).
    :param fail_on_failed: Fail the task (after starting what could be) if any id failed.
    :param wait_for_completion: Wait for the started scans' ``completed`` webhook.
    :param deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
    :param wait_timeout: Longest wait (seconds or timedelta); past it the task fails (default: six hours).
    :param poll_interval: Seconds between reads of the store while waiting (default:
        ``[copyleaks] poll_interval_seconds``).
    :param resend_after_seconds: The scans' expected duration: a scan silent this long gets a
        "resend webhook" request, later ones back off (default: ``[copyleaks]
        resend_after_seconds``; 0 disables).
    :param copyleaks_conn_id: Connection of type ``copyleaks``.
    :param store_url: The ScanStore the webhook receiver writes to (default: ``[copyleaks]
        store_url``).

    Returns ``{"started", "already_started", "failed", "scan_ids", ...}`` (``scans`` per id
    after a wait).
    """

    template_fields: Sequence[str] = ("copyleaks_conn_id", "scan_ids", "error_handling")
    ui_color = "#c7e3f7"

    def __init__(
        self,
        *,
        scan_ids: Any,
        error_handling: str = "ignore",
        fail_on_failed: bool = True,
        wait_for_completion: bool = False,
        deferrable: bool | None = None,
        wait_timeout: float | timedelta | None = None,
        poll_interval: float | None = None,
        resend_after_seconds: float | None = None,
        copyleaks_conn_id: str = "copyleaks_default",
        store_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scan_ids = scan_ids
        self.error_handling = error_handling
        self.fail_on_failed = fail_on_failed
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.resend_after_seconds = resend_after_seconds
        self.copyleaks_conn_id = copyleaks_conn_id
        self.store_url = store_url

    def execute(self, context: Context) -> Any:
        mode = str(self.error_handling).strip().lower()
        if mode not in ERROR_HANDLING:
            raise CopyleaksValidationError("error_handling", f"is {self.error_handling!r}", limit="cancel or ignore")
        scan_ids = coerce_scan_ids(self.scan_ids, allow_empty=True)
        if not scan_ids:  # nothing was priced upstream (a quiet interval): nothing to start
            raise AirflowSkipException("scan_ids is empty: no scan to start")
        known = records.get_scans(self.store, scan_ids)
        already = [sid for sid in scan_ids if _already_started(known.get(sid))]
        to_start = [sid for sid in scan_ids if sid not in already]
        started: list[str] = []
        failed: list[str] = []
        for offset in range(0, len(to_start), v.START_TRIGGER_MAX):
            chunk = to_start[offset : offset + v.START_TRIGGER_MAX]
            answer = self.hook.start(chunk, error_handling=mode)
            self.store.mark_started(answer["success"])
            started += answer["success"]
            failed += answer["failed"]
        self.log.info("Started %d scan(s); %d already started; %d failed", len(started), len(already), len(failed))
        result: StartResult = {
            "started": started,
            "already_started": already,
            "failed": failed,
            "scan_ids": started + already,
            "error_handling": mode,
        }
        context["ti"].xcom_push(key="scan_ids", value=result["scan_ids"])
        if failed and self.fail_on_failed:
            raise AirflowException(f"Copyleaks did not start {len(failed)} scan(s) ({mode} mode): {failed[:10]}")
        waiting = result["scan_ids"]
        if not self.wait_for_completion or not waiting:
            return result
        from airflow_copyleaks.waits.tasks import check_once

        scans, pending = check_once(self.store, waiting, ["completed"])
        if pending and self.deferrable:
            push_wait_state(context, {"result": result})
        event = (
            build_event(waiting, ["completed"], scans)
            if not pending
            else self._wait(
                self.store, waiting, ["completed"], method_name="execute_complete", kwargs={"result": result}
            )
        )
        return self._finish(result, event)

    def execute_complete(self, context: Context, event: Any = None, result: dict[str, Any] | None = None) -> Any:
        if result is None:
            result = pull_wait_state(context, self.task_id)["result"]
        event = validate_scan_event(event, result.get("scan_ids"))
        return self._finish(cast(StartResult, result), event)  # it came back through the database

    def _finish(self, result: StartResult, event: Mapping[str, Any]) -> StartResult:
        result = {**result, "status": event["status"], "scans": event["scans"]}
        raise_for_event(event, "completed")
        return result


def _already_started(record: ScanRecord | None) -> bool:
    return record is not None and (record["started"] or record["status"] in ("completed", "error"))
