"""CopyleaksReviewOperator: an editor's Publish / Request edits / Reject on one flagged draft.

A :class:`~airflow.providers.standard.operators.hitl.HITLOperator` whose subject and Markdown body
are built from the draft's Copyleaks findings when the task runs (so it maps over the drafts a
policy flagged), answered in the UI's "Required Actions" or through the REST API
(``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails``).
It returns the decision as data and publishes nothing itself: the DAG acts on the decision. A
response timeout takes the default option, which may not be "Publish", and the result says it
timed out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk.bases.notifier import BaseNotifier

from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.links import CopyleaksAuditReportLink
from airflow_copyleaks.review.request import build_review

if TYPE_CHECKING:
    from airflow.sdk import Context

PUBLISH = "Publish"
REQUEST_EDITS = "Request edits"
REJECT = "Reject"
OPTIONS = [PUBLISH, REQUEST_EDITS, REJECT]
DEFAULT_TIMEOUT = timedelta(hours=4)

log = logging.getLogger(__name__)


def as_timeout(value: Any) -> timedelta:
    """A response timeout from a timedelta or seconds; a review without one could wait forever."""
    if isinstance(value, timedelta):
        timeout = value
    else:
        try:
            timeout = timedelta(seconds=float(value))
        except (TypeError, ValueError):
            raise CopyleaksValidationError("response_timeout", f"is {value!r}", limit="a positive duration") from None
    if timeout <= timedelta(0):
        raise CopyleaksValidationError("response_timeout", f"is {value!r}", limit="a positive duration")
    return timeout


class CopyleaksReviewOperator(HITLOperator):
    """Ask an editor to decide on one draft the review policy flagged.

    :param review: The draft's findings with its verdict: a dict with the keys of
        :func:`~airflow_copyleaks.review.findings.draft_findings` plus ``reasons`` (templated, so
        it can come from XCom or be mapped over with ``.expand(review=...)``). A ``report_url``
        key links the audit report.
    :param report_url: The audit report to link, overriding the review's own ``report_url``.
    :param default_option: Taken when nobody answers within ``response_timeout``: ``Request edits``
        (default) or ``Reject``; ``Publish`` is refused, a timeout never publishes.
    :param response_timeout: How long the editor has (default four hours): a timedelta, or seconds
        (a number or a template rendering to one, e.g. from a DAG Param).
    :param notifiers: Notifiers called when the review opens (e.g. Slack, e-mail): the hook for
        telling editors; :class:`LogReviewNotifier` logs the review's UI link.
    :param assigned_users: Who may answer (``{"id": ..., "name": ...}`` or a list of them);
        anyone with access to the DAG when empty.
    """

    template_fields: Sequence[str] = ("review", "report_url", "response_timeout", "subject", "body")
    template_fields_renderers = {"review": "json", "body": "md"}
    operator_extra_links = (CopyleaksAuditReportLink(),)
    ui_color = "#fde7c8"

    def __init__(
        self,
        *,
        review: Any,
        report_url: str | None = None,
        default_option: str = REQUEST_EDITS,
        response_timeout: timedelta | float | str | None = DEFAULT_TIMEOUT,
        notifiers: Sequence[BaseNotifier] | BaseNotifier | None = None,
        assigned_users: Any = None,
        **kwargs: Any,
    ) -> None:
        if default_option not in (REQUEST_EDITS, REJECT):
            raise CopyleaksValidationError(
                "default_option", f"is {default_option!r}: a review that times out must not publish",
                limit=f"{REQUEST_EDITS!r} or {REJECT!r}",
            )  # fmt: skip
        templated = isinstance(response_timeout, str) and "{{" in response_timeout
        timeout = response_timeout if templated else as_timeout(response_timeout)
        kwargs.setdefault("subject", "Copyleaks review")
        super().__init__(
            options=list(OPTIONS),
            defaults=default_option,
            multiple=False,
            response_timeout=None if templated else timeout,  # type: ignore[arg-type]
            notifiers=notifiers,
            assigned_users=assigned_users,
            **kwargs,
        )
        self.response_timeout = timeout  # type: ignore[assignment]
        self.review = review
        self.report_url = report_url
        self.default_option = default_option

    def execute(self, context: Context) -> Any:
        if not isinstance(self.review, Mapping) or not self.review.get("key"):
            raise CopyleaksValidationError("review", f"is {type(self.review).__name__}", limit="a dict with a 'key'")
        self.response_timeout = as_timeout(self.response_timeout)
        request = build_review(self.review, self.review, report_url=self.report_url or self.review.get("report_url"))
        self.subject, self.body = request.subject, request.body
        if context["ti"].try_number > 1:
            # A retry has a new task-instance id, and the answer an earlier try received stays with
            # that try: Airflow offers a task no way to read it. Asking again is the safe choice;
            # nothing is published without a decision. The usual cause is an Airflow scheduler
            # race that fails a task resumed while the process that parked it still exits.
            log.warning(
                "Try %s of the review of draft %s asks again: an answer given to an earlier try "
                "cannot be carried over", context["ti"].try_number, self.review.get("key"),
            )  # fmt: skip
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        answer = super().execute_complete(context, event)
        by = answer.get("responded_by_user")
        # The scheduler's timeout sweep answers with the defaults and no user.
        timed_out = bool(event.get("timedout")) or not by
        decision = answer["chosen_options"][0]
        if timed_out:
            log.warning("No answer in time for draft %s: the default %r applies", self.review.get("key"), decision)
        return {
            "key": self.review.get("key"),
            "decision": decision,
            "timed_out": timed_out,
            "responded_by": dict(by) if by else None,
            "responded_at": answer["responded_at"].isoformat() if answer.get("responded_at") else None,
        }


class LogReviewNotifier(BaseNotifier):
    """Log where the review is answered: the smallest notifier, a stand-in for Slack or e-mail.

    :param base_url: The Airflow UI's URL (default: ``[api] base_url``).
    """

    template_fields = ("base_url",)

    def __init__(self, base_url: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url

    def notify(self, context: Any) -> None:
        try:
            where = HITLOperator.generate_link_to_ui_from_context(context=context, base_url=self.base_url)
        except ValueError as err:  # no base_url configured: say what the editor looks for instead
            where = f"Required Actions of {context['ti'].dag_id} / {context['run_id']} ({err})"
        log.info("Editorial review waiting: %s", where)
