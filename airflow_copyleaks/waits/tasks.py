"""Waiting on scans from a task, shared by the operators and the sensor: deferred or blocking.

The deferrable path hands :class:`~airflow_copyleaks.triggers.scan.CopyleaksScanTrigger` a
wall-clock deadline and defers with ``timeout=None``, so a timeout comes back as an event that
``execute_complete`` handles. The blocking path reads the same store with the same rules, for
users who do not run a triggerer.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_copyleaks.exceptions import CopyleaksScanFailed, CopyleaksValidationError
from airflow_copyleaks.topology import unregistered_message
from airflow_copyleaks.waits import records
from airflow_copyleaks.waits.domain import (
    ExportEvent,
    InvalidWaitEvent,
    ScanWaitEvent,
    accepted_statuses,
    build_event,
    check_event,
    export_event,
    scan_outcome,
)

if TYPE_CHECKING:
    from airflow_copyleaks.waits.resend_policy import BlockingResender


def default_deferrable() -> bool:
    """Airflow's convention: ``[operators] default_deferrable``."""
    try:
        from airflow.configuration import conf

        return conf.getboolean("operators", "default_deferrable", fallback=False)
    except Exception:
        return False


def as_seconds(value: float | int | timedelta | None, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def coerce_scan_ids(value: Any, field: str = "scan_ids", *, allow_empty: bool = False) -> list[str]:
    """Ids from a list, one id, a rendered template (``"['a', 'b']"``) or an upstream
    operator's result (a dict with ``scan_ids``)."""
    if isinstance(value, Mapping):
        value = value.get("scan_ids", value.get("started"))
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "(")):
            try:
                value = json.loads(text)
            except ValueError:
                value = ast.literal_eval(text)
        else:
            value = [text] if text else []
    if not isinstance(value, (list, tuple, set)):
        raise CopyleaksValidationError(field, f"must be a list of scan ids, got {type(value).__name__}")
    ids = list(dict.fromkeys(str(v) for v in value))
    if not ids and not allow_empty:
        raise CopyleaksValidationError(field, "is empty: nothing to wait for")
    return ids


def validate_scan_event(event: Any, scan_ids: Sequence[str] | None = None) -> ScanWaitEvent:
    """Check a trigger event's shape before trusting it (it comes back through the database)."""
    try:
        return check_event(event, scan_ids)
    except InvalidWaitEvent as err:
        raise AirflowException(str(err)) from None


def check_once(store: Any, scan_ids: Sequence[str], wanted: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """One bulk read: the scans' records and the ids still pending."""
    scans: dict[str, Any] = dict.fromkeys(scan_ids)
    scans.update(records.get_scans(store, list(scan_ids)))
    accepted = accepted_statuses(wanted)
    pending = [sid for sid in scan_ids if scan_outcome(scans[sid], accepted) == "pending"]
    return scans, pending


def unregistered_event(
    store: Any, scan_ids: Sequence[str], wanted: Sequence[str], scans: Mapping[str, Any]
) -> ScanWaitEvent | None:
    """The error ending a wait on scans this store never registered (submitted through another)."""
    missing = [sid for sid in scan_ids if scans.get(sid) is None]
    if not missing:
        return None
    return build_event(
        scan_ids, wanted, scans, status="error", message=unregistered_message(store.url, missing, store.store_id())
    )


def resend_after_seconds(task_value: float | None) -> float:
    """The task's ``resend_after_seconds``, or ``[copyleaks] resend_after_seconds`` when unset."""
    from airflow_copyleaks import config

    return float(task_value) if task_value is not None else config.get_float("resend_after_seconds")


def blocking_resender(store: Any, conn_id: str, resend_after: float) -> BlockingResender:
    """The resender of a wait in the worker, with the account's resend budget."""
    from airflow_copyleaks import config

    # Loaded here, not at import: a DAG file naming an operator or the sensor needs no resend policy.
    from airflow_copyleaks.waits.resend_policy import BlockingResender

    return BlockingResender(store, conn_id, resend_after, config.resend_budget_per_minute())


def wait_in_worker(
    store: Any,
    scan_ids: Sequence[str],
    wanted: Sequence[str],
    *,
    deadline: float,
    poll_interval: float,
    resender: BlockingResender | None,
    sleep: Any = time.sleep,
) -> ScanWaitEvent:
    """Block until the scans are done, failed or the deadline passed; same event as the trigger."""
    while True:
        scans, pending = check_once(store, scan_ids, wanted)
        if not pending:
            return build_event(scan_ids, wanted, scans)
        unregistered = unregistered_event(store, scan_ids, wanted, scans)
        if unregistered is not None:
            return unregistered
        now = time.time()
        if now >= deadline:
            return build_event(
                scan_ids, wanted, scans, status="timeout", message=f"timed out waiting for {len(pending)} scan(s)"
            )
        if resender is not None and resender.after_seconds > 0:
            unknown = resender.resend_due(pending, scans)
            if unknown:
                return build_event(
                    scan_ids,
                    wanted,
                    scans,
                    status="error",
                    message=f"Copyleaks does not know scan(s) {unknown[:5]} (404 on resend)",
                )
        sleep(max(0.0, min(poll_interval, deadline - now)))


def raise_for_event(event: Mapping[str, Any], wanted: str | Sequence[str]) -> None:
    """Fail the task for a timeout, an unknown scan or a scan that ended in error, or one that
    reached none of the ``wanted`` statuses."""
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    if event["status"] == "timeout":
        raise AirflowException(f"Copyleaks: {event.get('message')} (pending: {event.get('pending', [])[:5]})")
    failed = event.get("failed") or []
    if event["status"] == "error" and not failed:
        raise AirflowException(f"Copyleaks: {event.get('message')}")
    if failed:
        first = failed[0]
        err = (event["scans"].get(first) or {}).get("error") or {}
        code = err.get("code") if isinstance(err, dict) else None
        message = err.get("message") if isinstance(err, dict) else str(err)
        if len(failed) > 1:
            message = f"{message} (and {len(failed) - 1} more failed scan(s): {failed[1:6]})"
        raise CopyleaksScanFailed(first, code, message or "no message")
    accepted = accepted_statuses(wanted)
    missing = [sid for sid, s in event["scans"].items() if (s or {}).get("status") not in accepted]
    if missing:
        raise AirflowException(f"Copyleaks: scan(s) {missing[:5]} did not reach {' or '.join(wanted)}")


STATE_XCOM_KEY = "copyleaks_wait_state"


def push_wait_state(context: Any, state: dict[str, Any]) -> None:
    """Keep what ``execute_complete`` needs in XCom as well as in the defer kwargs: ``airflow dags
    test`` (3.3) resumes a task with the event only, dropping the kwargs given to ``defer``."""
    context["ti"].xcom_push(key=STATE_XCOM_KEY, value=state)


def pull_wait_state(context: Any, task_id: str) -> dict[str, Any]:
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    value = ti.xcom_pull(task_ids=task_id, key=STATE_XCOM_KEY, map_indexes=-1 if map_index is None else map_index)
    if not isinstance(value, dict):
        raise AirflowException("the state saved before deferring is missing from XCom; the task must run again")
    return value


def defer_scan_wait(
    task: Any,
    scan_ids: Sequence[str],
    wanted: Sequence[str],
    *,
    deadline: float,
    poll_interval: float | None,
    method_name: str = "execute_complete",
    kwargs: dict[str, Any] | None = None,
) -> None:
    """Hand the wait to the scan trigger: raises ``TaskDeferred``; the task resumes in ``method_name``.

    ``task`` carries ``copyleaks_conn_id``, ``store_url`` and ``resend_after_seconds``. This is the
    only place where tasks reach the scan trigger, so operators and sensors need not import it.
    """
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    trigger = CopyleaksScanTrigger(
        scan_ids=list(scan_ids),
        wanted=list(wanted),
        deadline=deadline,
        copyleaks_conn_id=task.copyleaks_conn_id,
        store_url=task.store_url,
        poll_interval=poll_interval,
        resend_after_seconds=task.resend_after_seconds,
    )
    # timeout=None: the trigger's own deadline sends a timeout event that the task handles.
    task.defer(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=None)


class ScanWaitMixin:
    """Wait for scans from an operator: defer (default) or block, with one deadline either way.

    Subclasses set ``copyleaks_conn_id``, ``store_url``, ``deferrable``, ``wait_timeout``,
    ``poll_interval`` and ``resend_after_seconds``, and implement the method named in
    ``defer``'s ``method_name`` to turn the event into the task's result.
    """

    copyleaks_conn_id: str
    store_url: str | None
    deferrable: bool
    wait_timeout: float | timedelta | None
    poll_interval: float | None
    resend_after_seconds: float | None

    DEFAULT_WAIT_TIMEOUT = 6 * 3600.0

    def _wait(
        self,
        store: Any,
        scan_ids: Sequence[str],
        wanted: Sequence[str],
        *,
        method_name: str,
        kwargs: dict[str, Any],
    ) -> ScanWaitEvent:
        """Return the final event now (blocking) or raise TaskDeferred (deferrable)."""
        from airflow_copyleaks import config

        deadline = time.time() + as_seconds(self.wait_timeout, self.DEFAULT_WAIT_TIMEOUT)
        poll = self.poll_interval if self.poll_interval is not None else config.get_float("poll_interval_seconds")
        if self.deferrable:
            defer_scan_wait(
                self, scan_ids, wanted, deadline=deadline, poll_interval=poll, method_name=method_name, kwargs=kwargs
            )
        resender = blocking_resender(store, self.copyleaks_conn_id, resend_after_seconds(self.resend_after_seconds))
        return wait_in_worker(store, scan_ids, wanted, deadline=deadline, poll_interval=poll, resender=resender)


def wait_for_export(task: Any, export_id: str, scan_id: str, *, deadline: float, poll_interval: float) -> ExportEvent:
    """Defer ``task`` to the export trigger (it resumes in ``execute_complete``), or block in the
    worker with the same rule: the export is done once it is no longer pending."""
    if task.deferrable:
        from airflow_copyleaks.triggers.scan import CopyleaksExportTrigger

        trigger = CopyleaksExportTrigger(
            export_id, scan_id=scan_id, deadline=deadline, store_url=task.store_url, poll_interval=poll_interval
        )
        # timeout=None: the trigger's own deadline sends a timeout event that the task handles.
        task.defer(trigger=trigger, method_name="execute_complete", timeout=None)
    while True:
        export = records.get_export(task.store, export_id)
        if export is not None and export["status"] != "pending":
            return export_event(export_id, scan_id, export)
        if time.time() >= deadline:
            return export_event(export_id, scan_id, export, timed_out=True)
        time.sleep(max(0.0, min(poll_interval, deadline - time.time())))
