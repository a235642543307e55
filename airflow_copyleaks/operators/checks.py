"""Synchronous Copyleaks checks as editorial gates: moderation, image plagiarism, AI text, writing.

Each operator checks one item or a batch (concurrently, at the account's request rate), pushes a
small JSON report to XCom and applies a :class:`~airflow_copyleaks.checks.policy.Policy`::

    CopyleaksModerateOperator(
        task_id="gate_comments",
        texts=comments,  # ["...", ...] or [{"key": "comment-17", "text": "..."}, ...]
        policy={"on_hit": "fail", "thresholds": {"hate-speech-v1": 0, "profanity-v1": 2}},
    )

The operators only hold their options; each product is a spec next to its summary code
(``airflow_copyleaks.checks``) and one runtime (``checks.runtime``) runs them all. Scan ids are
the idempotency key (DESIGN.md decision 2): a retry reuses them and pays nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.sdk import BaseOperator

from airflow_copyleaks import config, ids
from airflow_copyleaks.checks.policy import Policy
from airflow_copyleaks.clients import CopyleaksClientMixin
from airflow_copyleaks.exceptions import (
    CheckItemsFailed,
    CheckItemsInvalid,
    CheckPolicyViolation,
    CopyleaksValidationError,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_copyleaks.checks.runtime import CheckRun
    from airflow_copyleaks.checks.spec import CheckSpec

__all__ = [
    "CheckItemsFailed",
    "CheckItemsInvalid",
    "CheckPolicyViolation",
    "CopyleaksAiDetectionOperator",
    "CopyleaksCheckOperator",
    "CopyleaksImageCheckOperator",
    "CopyleaksModerateOperator",
    "CopyleaksWritingFeedbackOperator",
]

ScanIdMode = Literal["task", "content"]
DEFAULT_CONN_ID = "copyleaks_default"


class CopyleaksCheckOperator(CopyleaksClientMixin, BaseOperator):
    """Base of the synchronous checks: the options every check shares; a subclass names its product.

    :param copyleaks_conn_id: Connection of type ``copyleaks``.
    :param policy: A :class:`~airflow_copyleaks.checks.policy.Policy`, its dict form, or just
        ``"report"``/``"skip"``/``"fail"``.
    :param sandbox: Override the connection's sandbox setting (sandbox results are canned and free).
    :param scan_id_mode: ``task`` (default): ids from dag, task, run, map index and item key, so a
        retry or clear of this task instance pays nothing twice. ``content``: ids from the content
        and the check's options, so any run over unchanged content reuses the earlier result.
    :param force_new_scan: Check again and pay again (deliberate rechecks): new ids once per DAG
        run, reused by its retries so that a retry does not pay again for what was checked.
    :param rescan_failed: Check again, and pay again, only the items whose paid answer was lost
        (Copyleaks used the id, the store has no answer): each gets a new id derived from the
        lost one, every other item's result is read back. Later runs follow an item to its
        newest check.
    :param max_workers: Threads for a batch (default: twice the connection's requests_per_second).
    :param max_details: Cap of detail entries (spans, matches) per item in the report.
    """

    template_fields: Sequence[str] = (
        "copyleaks_conn_id", "policy", "sandbox", "scan_id_mode", "force_new_scan", "rescan_failed",
    )  # fmt: skip
    template_fields_renderers: ClassVar[dict[str, str]] = {"policy": "json"}
    ui_color = "#e8f1fb"
    items_field: ClassVar[str] = "texts"  # the argument that holds the batch, for messages

    def __init__(
        self,
        *,
        copyleaks_conn_id: str = DEFAULT_CONN_ID,
        policy: Policy | Mapping[str, Any] | str | None = None,
        sandbox: bool | str | None = None,
        scan_id_mode: ScanIdMode = "task",
        force_new_scan: bool | str = False,
        rescan_failed: bool | str = False,
        max_workers: int | None = None,
        max_details: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.copyleaks_conn_id = copyleaks_conn_id
        # Kept in plain-dict form: it serialises with the DAG and renders as JSON in the UI.
        self.policy = policy.to_dict() if isinstance(policy, Policy) else policy
        self.sandbox = sandbox
        self.scan_id_mode = scan_id_mode
        self.force_new_scan = force_new_scan
        self.rescan_failed = rescan_failed
        self.max_workers = max_workers
        self.max_details = max_details
        self._run: CheckRun | None = None

    def spec(self) -> CheckSpec:
        """The product this operator checks, from its rendered options (validated here)."""
        raise NotImplementedError

    def items(self) -> Any:
        """The operator's input: one item or a list of them."""
        raise NotImplementedError

    def _sandbox_override(self) -> bool | None:
        if self.sandbox is None or self.sandbox == "":
            return None
        return config.as_bool(self.sandbox)

    def execute(self, context: Context) -> dict[str, Any]:
        # The runtime and the products' specs load when a task runs, not each time a DAG file
        # importing the operators is parsed.
        from airflow_copyleaks.checks.inputs import as_list
        from airflow_copyleaks.checks.runtime import CheckRun

        policy = Policy.coerce(self.policy)
        spec = self.spec()
        thresholds = policy.resolve(dict(spec.bounds), dict(spec.default_thresholds))
        if self.scan_id_mode not in ("task", "content"):
            raise CopyleaksValidationError("scan_id_mode", f"is {self.scan_id_mode!r}", limit="task or content")
        given = self.items()
        if given is not None and not as_list(given):
            # A quiet interval (an upstream task found nothing new) is nothing to do, not an error;
            # None still fails in collect: it usually means a template or XCom that did not resolve.
            raise AirflowSkipException(f"{self.items_field} is empty: no {spec.kind} check to run")
        items = spec.collect(given)
        ti = context["ti"]
        self._run = run = CheckRun(
            spec,
            hook=self.hook,
            store=self.store,
            ti=ti,
            log=self.log,
            scan_id_mode=self.scan_id_mode,
            sandbox_override=self._sandbox_override(),
            nonce=ids.force_nonce(ti.run_id) if config.as_bool(self.force_new_scan) else "",
            rescan_failed=config.as_bool(self.rescan_failed),
        )
        outcomes = run.check_all(items, self.max_workers)
        return run.report_and_decide(outcomes, policy, thresholds, push_xcom=self.do_xcom_push)

    def on_kill(self) -> None:
        if self._run is not None:
            self._run.cancel()


class CopyleaksModerateOperator(CopyleaksCheckOperator):
    """Text moderation: flagged spans (label, offsets, excerpt) and counts per label.

    :param texts: A text, ``{"key": ..., "text": ...}``, or a list of them (1 to 25,000 characters each).
    :param labels: Moderation labels to look for (default: all ten). Metrics for the policy are
        the labels themselves: ``thresholds={"hate-speech-v1": 0, "profanity-v1": 2}``.
        Default thresholds: any flagged span of any label is a hit.
    :param language: Language code (Copyleaks lists ``en``).

    The options of :class:`CopyleaksCheckOperator` apply too.
    """

    template_fields: Sequence[str] = (*CopyleaksCheckOperator.template_fields, "texts", "labels", "language")
    template_fields_renderers: ClassVar[dict[str, str]] = {"policy": "json", "texts": "json"}

    def __init__(
        self,
        *,
        texts: Any,
        labels: Sequence[str] | str | None = None,
        language: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.texts = texts
        self.labels = labels
        self.language = language

    def spec(self) -> CheckSpec:
        from airflow_copyleaks.checks.moderation import moderation_spec

        return moderation_spec(self.labels, self.language, max_details=self.max_details)

    def items(self) -> Any:
        return self.texts


class CopyleaksImageCheckOperator(CopyleaksCheckOperator):
    """Image plagiarism check: full and partial matches on the web, with the pages showing them.

    :param images: A local path, an ``ObjectStoragePath`` or URL, bytes, a ``data:`` URI, a dict
        ``{"key", "path" | "base64" | "data", "filename"}``, or a list of them. Validated before
        upload from the header alone: JPG, PNG, GIF, BMP, WebP or ICO, under 20 MB, at most 75
        megapixels.

    Metrics: ``full_matches``, ``partial_matches``, ``total_matches``; default: any full match is a
    hit. The options of :class:`CopyleaksCheckOperator` apply too.
    """

    template_fields: Sequence[str] = (*CopyleaksCheckOperator.template_fields, "images")
    items_field = "images"

    def __init__(self, *, images: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.images = images

    def spec(self) -> CheckSpec:
        from airflow_copyleaks.checks.images import image_spec

        return image_spec(max_details=self.max_details)

    def items(self) -> Any:
        return self.images


class CopyleaksAiDetectionOperator(CopyleaksCheckOperator):
    """AI-text detection: the share of the text that reads as AI-written.

    :param texts: A text, ``{"key": ..., "text": ...}``, or a list of them (255 to 25,000 characters each).
    :param language: Language code (auto-detected when omitted).
    :param sensitivity: 1 to 3 (Copyleaks' default when omitted).

    Metrics: ``ai`` (the share of the text classified as AI, 0..1), ``ai_probability`` (the highest
    probability among AI-classified segments) and ``human`` (a hit *below* its threshold);
    default: ``ai`` above 0.5. The options of :class:`CopyleaksCheckOperator` apply too.
    """

    template_fields: Sequence[str] = (*CopyleaksCheckOperator.template_fields, "texts", "language", "sensitivity")
    template_fields_renderers: ClassVar[dict[str, str]] = {"policy": "json", "texts": "json"}

    def __init__(
        self, *, texts: Any, language: str | None = None, sensitivity: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.texts = texts
        self.language = language
        self.sensitivity = sensitivity

    def spec(self) -> CheckSpec:
        from airflow_copyleaks.checks.ai_text import ai_text_spec

        return ai_text_spec(self.language, self.sensitivity)

    def items(self) -> Any:
        return self.texts


class CopyleaksWritingFeedbackOperator(CopyleaksCheckOperator):
    """Writing feedback: overall and per-category scores, readability, number of corrections.

    :param texts: A text, ``{"key": ..., "text": ...}``, or a list of them (1 to 25,000 characters each).
    :param language: Language code.
    :param score_weights: Copyleaks' category weights (``grammarScoreWeight`` ... 0.0 to 1.0).

    Metrics: ``overall_score``, ``grammar_score``, ``mechanics_score``, ``sentence_structure_score``,
    ``word_choice_score``, ``readability_score`` (a hit below the threshold) and ``corrections`` (a hit
    above); default: ``overall_score`` below 50. The options of :class:`CopyleaksCheckOperator`
    apply too.
    """

    template_fields: Sequence[str] = (*CopyleaksCheckOperator.template_fields, "texts", "language", "score_weights")
    template_fields_renderers: ClassVar[dict[str, str]] = {"policy": "json", "texts": "json"}

    def __init__(
        self,
        *,
        texts: Any,
        language: str | None = None,
        score_weights: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.texts = texts
        self.language = language
        self.score_weights = score_weights

    def spec(self) -> CheckSpec:
        from airflow_copyleaks.checks.writing import writing_spec

        return writing_spec(self.language, self.score_weights)

    def items(self) -> Any:
        return self.texts
