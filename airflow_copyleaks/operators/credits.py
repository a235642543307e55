"""CopyleaksCheckCreditsOperator: price-check documents and hold them to a credit budget.

Copyleaks' check-credits action reports what a scan would cost without charging; the scans then
wait to be started (CopyleaksStartOperator). A budget is enforced here, before anything is spent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

from airflow_copyleaks.checks.policy import as_number
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.waits import records

if TYPE_CHECKING:
    from airflow.sdk import Context

BUDGET_ACTIONS = ("fail", "skip")


class CopyleaksCheckCreditsOperator(CopyleaksSubmitOperator):
    """Submit with ``action=check-credits``, wait for ``creditsChecked``, report the credits.

    Returns ``{"scan_ids", "credits": {scan_id: n}, "total_credits", "budget", ...}``.

    :param credit_budget: Most credits the documents may cost; over it the task fails or skips
        (``on_budget_exceeded``) and nothing is started.
    :param on_budget_exceeded: ``fail`` or ``skip``.
    """

    template_fields: Sequence[str] = (*CopyleaksSubmitOperator.template_fields, "credit_budget")

    def __init__(
        self,
        *,
        credit_budget: int | float | None = None,
        on_budget_exceeded: str = "fail",
        **kwargs: Any,
    ) -> None:
        # Fixed by what this operator is: a price check, whose credits arrive by webhook.
        for name, fixed in (("action", "check-credits"), ("wait_for_completion", True)):
            if kwargs.get(name, fixed) != fixed:
                raise TypeError(f"{type(self).__name__} always runs with {name}={fixed!r}; leave {name} out")
            kwargs[name] = fixed
        super().__init__(**kwargs)
        self.credit_budget = credit_budget
        self.on_budget_exceeded = on_budget_exceeded

    def execute(self, context: Context) -> Any:
        if self.on_budget_exceeded not in BUDGET_ACTIONS:
            raise CopyleaksValidationError(
                "on_budget_exceeded", f"is {self.on_budget_exceeded!r}", limit=", ".join(BUDGET_ACTIONS)
            )
        self._budget()  # a bad budget fails before anything is submitted
        return self._with_credits(context, super().execute(context))

    def execute_complete(self, context: Context, event: Any = None, items: dict[str, Any] | None = None) -> Any:
        return self._with_credits(context, super().execute_complete(context, event=event, items=items))

    def _with_credits(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        stored = records.get_scans(self.store, result["scan_ids"])
        credits = {sid: self._credits_of(sid, stored.get(sid)) for sid in result["scan_ids"]}
        total = sum(credits.values())
        budget = self._budget()
        result.update(credits=credits, total_credits=total, budget=budget)
        self.log.info("%d scan(s) would cost %s credit(s) (budget: %s)", len(credits), total, budget)
        if budget is not None and total > budget:
            message = f"the scans would cost {total} credits, over the budget of {budget:g}; nothing was started"
            if self.on_budget_exceeded == "skip":
                if self.do_xcom_push:  # a skip returns nothing: keep the prices for whoever looks
                    context["ti"].xcom_push(key="return_value", value=result)
                raise AirflowSkipException(message)
            raise AirflowFailException(message)
        return result

    def _budget(self) -> float | None:
        if self.credit_budget is None or self.credit_budget == "":
            return None
        return as_number(self.credit_budget, "credit_budget")

    def _credits_of(self, scan_id: str, record: Mapping[str, Any] | None) -> int:
        value = ((record or {}).get("summary") or {}).get("credits")
        if value is None:  # not folded into the scan row: read the creditsChecked webhook itself
            payload = self.store.get_event_payload(scan_id, "creditsChecked") or {}
            value = payload.get("credits", (payload.get("scannedDocument") or {}).get("credits"))
        return int(value or 0)
