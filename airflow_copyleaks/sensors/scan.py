"""CopyleaksScanSensor: wait until scans reach a status, reading the ScanStore.

Deferrable (the triggerer waits; no worker slot), or poke / reschedule (each poke is one bulk
read of the store). An ``error`` webhook fails the task with Copyleaks' code and message;
``timeout`` and ``soft_fail`` behave as for any Airflow sensor, in every mode.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from airflow.providers.common.compat.sdk import AirflowSensorTimeout, AirflowSkipException
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_copyleaks.clients import CopyleaksClientMixin
from airflow_copyleaks.exceptions import CopyleaksScanFailed
from airflow_copyleaks.waits.domain import ScanWaitEvent, ScanWaitResult, build_event, normalise_statuses
from airflow_copyleaks.waits.tasks import (
    blocking_resender,
    check_once,
    coerce_scan_ids,
    default_deferrable,
    defer_scan_wait,
    raise_for_event,
    resend_after_seconds,
    unregistered_event,
    validate_scan_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_copyleaks.waits.resend_policy import BlockingResender


class CopyleaksScanSensor(CopyleaksClientMixin, BaseSensorOperator):
    """Wait for Copyleaks scans.

    :param scan_ids: Ids (templated): a list, one id, or an upstream submit task's result.
    :param wanted: ``completed`` (default), ``creditsChecked`` or ``indexed``.
    :param deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
    :param resend_after_seconds: The scans' expected duration: a scan silent this long gets a
        "resend webhook" request, later ones back off (default: ``[copyleaks]
        resend_after_seconds``; 0 disables).
    :param poll_interval: Deferred: seconds between the triggerer's store reads (default:
        ``[copyleaks] poll_interval_seconds``). ``poke_interval`` only paces poke/reschedule mode:
        its 60 s default would otherwise delay every deferred wake-up by up to a minute.
    :param copyleaks_conn_id: Connection of type ``copyleaks``.
    :param store_url: The ScanStore the webhook receiver writes to (default: ``[copyleaks]
        store_url``).

    Returns ``{"status", "scan_ids", "scans": {scan_id: summary}, ...}`` to XCom.
    """

    template_fields: Sequence[str] = ("copyleaks_conn_id", "scan_ids", "wanted")
    ui_color = "#c7e3f7"

    def __init__(
        self,
        *,
        scan_ids: Any,
        wanted: str | Sequence[str] = "completed",
        deferrable: bool | None = None,
        resend_after_seconds: float | None = None,
        poll_interval: float | None = None,
        copyleaks_conn_id: str = "copyleaks_default",
        store_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scan_ids = scan_ids
        self.wanted = wanted
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.resend_after_seconds = resend_after_seconds
        self.poll_interval = poll_interval
        self.copyleaks_conn_id = copyleaks_conn_id
        self.store_url = store_url

    def _resender(self, resend_after: float) -> BlockingResender:
        # Kept across pokes (poke mode): the backoff of each scan and a held budget slot live on.
        resender: BlockingResender | None = getattr(self, "_blocking_resender", None)
        if resender is None:
            resender = blocking_resender(self.store, self.copyleaks_conn_id, resend_after)
            self._blocking_resender = resender
        return resender

    def execute(self, context: Context) -> Any:
        if not coerce_scan_ids(self.scan_ids, allow_empty=True):  # a quiet interval: nothing to wait for
            raise AirflowSkipException("scan_ids is empty: no scan to wait for")
        if not self.deferrable:
            return super().execute(context)
        ids = coerce_scan_ids(self.scan_ids)
        wanted = normalise_statuses(self.wanted)
        scans, pending = check_once(self.store, ids, wanted)
        if not pending:  # already there: no need to occupy the triggerer
            return self._finish(build_event(ids, wanted, scans))
        unregistered = unregistered_event(self.store, ids, wanted, scans)
        if unregistered is not None:  # fail now rather than from the triggerer
            return self._finish(unregistered)
        # The sensor's timeout becomes the trigger's deadline: a timeout event, handled below.
        defer_scan_wait(self, ids, wanted, deadline=time.time() + float(self.timeout), poll_interval=self.poll_interval)

    def poke(self, context: Context) -> PokeReturnValue | bool:
        ids = coerce_scan_ids(self.scan_ids)
        wanted = normalise_statuses(self.wanted)
        scans, pending = check_once(self.store, ids, wanted)
        if pending:
            unregistered = unregistered_event(self.store, ids, wanted, scans)
            if unregistered is not None:
                self._finish(unregistered)
            resend_after = resend_after_seconds(self.resend_after_seconds)
            if resend_after > 0:
                unknown = self._resender(resend_after).resend_due(pending, scans)
                if unknown:
                    self._finish(
                        build_event(
                            ids, wanted, scans, status="error", message=f"Copyleaks does not know scan(s) {unknown[:5]}"
                        )
                    )
            self.log.info("%d of %d scan(s) still pending: %s", len(pending), len(ids), pending[:5])
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._finish(build_event(ids, wanted, scans)))

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        event = validate_scan_event(event, coerce_scan_ids(self.scan_ids))
        if event["status"] == "timeout":
            # resume_execution turns this into a skip under soft_fail, as for any sensor timeout.
            raise AirflowSensorTimeout(f"Copyleaks: {event.get('message')}")
        return self._finish(event)

    def _finish(self, event: ScanWaitEvent) -> ScanWaitResult:
        try:
            raise_for_event(event, event["wanted"])
        except CopyleaksScanFailed as err:
            if self.soft_fail:  # "skip on failure", in poke mode as in deferrable mode
                raise AirflowSkipException(str(err)) from err
            raise
        return cast(ScanWaitResult, {k: event.get(k) for k in ("status", "wanted", "scan_ids", "scans", "message")})
