"""The one runtime of the synchronous checks: ids, concurrent calls, 409 read-back, report, policy.

A product is a :class:`~airflow_copyleaks.checks.spec.CheckSpec`; everything else a check does is
here, once. Scan ids are the idempotency key: a retry derives the same ids, Copyleaks answers 409
and the earlier result is read back from the ScanStore instead of paying again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowSkipException

from airflow_copyleaks import ids, rescans
from airflow_copyleaks.checks.batch import BatchRunner, ItemOutcome, workers_for_rate
from airflow_copyleaks.checks.policy import Breach, Policy, decide, evaluate
from airflow_copyleaks.checks.report import build_report, errors_message, hits_message, log_report
from airflow_copyleaks.checks.spec import CheckSpec, Item, Prepared
from airflow_copyleaks.exceptions import (
    CheckItemsFailed,
    CheckItemsInvalid,
    CopyleaksConflictError,
    CopyleaksError,
    CopyleaksPolicyViolation,
)

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook


@dataclass
class CheckRun:
    """One task attempt of one check product over a batch of items."""

    spec: CheckSpec
    hook: CopyleaksHook
    store: Any
    ti: Any
    log: Any
    scan_id_mode: str = "task"
    sandbox_override: bool | None = None
    nonce: str = ""  # set for force_new_scan: new ids once per DAG run
    rescan_failed: bool = False  # check again, under a new id, an item whose paid answer was lost
    started: float = field(default_factory=time.monotonic)
    runner: BatchRunner[Any] | None = None

    @property
    def sandbox(self) -> bool:
        return bool(self.hook.sandbox if self.sandbox_override is None else self.sandbox_override)

    def scan_id(self, key: str, prepared: Prepared) -> str:
        if self.scan_id_mode == "content":
            # Sandbox answers are mock results: they must never stand in for a real check.
            namespace = f"{self.spec.kind}|sandbox={self.sandbox}|{self.spec.fingerprint}"
            return ids.scan_id_for_content(
                namespace, key, prepared.content_sha256, nonce=self.nonce, prefix=self.spec.id_prefix
            )
        map_index = getattr(self.ti, "map_index", -1)
        return ids.scan_id_for_task(
            self.ti.dag_id,
            self.ti.task_id,
            self.ti.run_id,
            -1 if map_index is None else map_index,
            key,
            nonce=self.nonce,
            prefix=self.spec.id_prefix,
        )

    def check_one(self, item: Item) -> ItemOutcome:
        prepared = self.spec.prepare(item)
        scan_id = self.scan_id(item.key, prepared)
        for _ in range(rescans.MAX_RESCANS):
            try:
                summary = self.spec.call(self.hook, scan_id, prepared, self.sandbox_override)
            except CopyleaksConflictError:
                stored = self.store.get_check_result(scan_id)
                successor = rescans.rescan_id(scan_id)
                # A paid answer that was lost: checked again under the next id of the item's
                # chain, when asked to or when an earlier rescan already did (its answer is read back).
                if stored is None and (self.rescan_failed or self.store.get_check_result(successor) is not None):
                    self.log.info("Item %r: the answer to %s was lost; checking it as %s", item.key, scan_id, successor)
                    scan_id = successor
                    continue
                return self._already_checked(item.key, scan_id, prepared, stored)
            self._save(scan_id, {**summary, "content_sha256": prepared.content_sha256})
            credits = float(summary.get("credits") or 0)
            return ItemOutcome(key=item.key, scan_id=scan_id, summary=summary, credits=credits)
        raise CopyleaksError(f"item {item.key!r} lost its answer {rescans.MAX_RESCANS} times; not checking it again")

    def _already_checked(
        self, key: str, scan_id: str, prepared: Prepared, stored: dict[str, Any] | None
    ) -> ItemOutcome:
        """409: this id was checked before (a retry); its result is in the store, already paid."""
        if stored is None:
            raise CopyleaksError(
                f"scan id {scan_id!r} was already used but its result is not in the store; "
                "set rescan_failed=True to check again only the items whose answer was lost, or "
                "force_new_scan=True to check every item again (both cost credits)"
            )
        if stored.get("content_sha256") not in (None, prepared.content_sha256):
            raise CopyleaksError(
                f"scan id {scan_id!r} was already used for different content (it changed since the earlier "
                "attempt); set force_new_scan=True or scan_id_mode='content' to check the new content"
            )
        summary = {k: val for k, val in stored.items() if k != "content_sha256"}
        self.log.info("Item %r was already checked as %s; using the stored result", key, scan_id)
        return ItemOutcome(key=key, scan_id=scan_id, status="already_checked", summary=summary, credits=0.0)

    def _save(self, scan_id: str, summary: dict[str, Any]) -> None:
        try:
            self.store.save_check_result(
                scan_id,
                self.spec.kind,
                summary,
                dag_id=getattr(self.ti, "dag_id", None),
                credits=float(summary.get("credits") or 0),
                sandbox=self.sandbox,
            )
        except Exception as err:
            # The result is paid and still reported; only a later retry would miss it.
            self.log.warning("Could not save the result of %s in the store: %s", scan_id, err)

    def check_all(self, items: Sequence[Item], max_workers: int | None) -> list[ItemOutcome]:
        workers = workers_for_rate(self.hook.settings.requests_per_second, len(items), max_workers)
        if workers > 1:
            # Log in (or read the shared token) once before the pool starts, so that a cold token
            # cache does not see one login attempt per thread.
            self.hook.get_token()
        self.log.info("Checking %d item(s) (%s) with %d thread(s)", len(items), self.spec.kind, workers)
        self.runner = BatchRunner(self.check_one, key_of=lambda item: item.key, max_workers=workers)
        return self.runner.run(list(items))

    def cancel(self) -> None:
        if self.runner is not None:
            self.runner.cancel()

    def report_and_decide(
        self, outcomes: list[ItemOutcome], policy: Policy, thresholds: Mapping[str, float], *, push_xcom: bool
    ) -> dict[str, Any]:
        """Build and log the report, then apply the policy: return it, skip, or fail the task."""
        spec = self.spec
        breaches: dict[str, list[Breach]] = {
            o.key: evaluate(spec.values(o.summary), thresholds, spec.bounds) for o in outcomes if o.summary
        }
        report = build_report(
            spec.kind,
            outcomes,
            breaches,
            policy=policy,
            thresholds=thresholds,
            sandbox=self.sandbox,
            elapsed=time.monotonic() - self.started,
            aggregate=spec.aggregate([o.summary for o in outcomes if o.summary is not None]),
        )
        log_report(self.log, report)
        errors = report["totals"]["errors"]
        action = decide(policy, hits=report["totals"]["hits"], errors=errors)
        if action != "report" and push_xcom:
            # The task will not return normally, so its return value must be pushed by hand.
            self.ti.xcom_push(key="return_value", value=report)
        if action == "fail":
            raise CopyleaksPolicyViolation(hits_message(spec.kind, outcomes, breaches, policy, errors))
        if action == "fail-errors":
            failed = [o for o in outcomes if o.failed]
            cls = CheckItemsFailed if any(o.retryable for o in failed) else CheckItemsInvalid
            raise cls(errors_message(spec.kind, failed, len(outcomes)))
        if action == "skip":
            raise AirflowSkipException(hits_message(spec.kind, outcomes, breaches, policy, errors))
        return report
