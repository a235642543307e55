"""Synchronous Copyleaks checks as editorial gates: moderation, image plagiarism, AI text, writing.

Each operator checks one item or a batch (concurrently, at the account's request rate), pushes a
small JSON report to XCom and applies a :class:`~airflow_copyleaks.checks.policy.Policy`::

    CopyleaksModerateOperator(
        task_id="gate_comments",
        texts=comments,  # ["...", ...] or [{"key": "comment-17", "text": "..."}, ...]
        policy={"on_hit": "fail", "thresholds": {"hate-speech-v1": 0, "profanity-v1": 2}},
    )

Scan ids are the idempotency key (DESIGN.md decision 2): derived from the task instance and the
item's key, or from the content (``scan_id_mode="content"``). A retry reuses them; Copyleaks
answers 409 and the earlier result is read back from the ScanStore instead of paying again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_copyleaks import config, ids
from airflow_copyleaks import validation as v
from airflow_copyleaks.checks import summaries as s
from airflow_copyleaks.checks.batch import BatchRunner, ItemOutcome, workers_for_rate
from airflow_copyleaks.checks.inputs import ImageItem, TextItem, image_items, load_image, text_items
from airflow_copyleaks.checks.policy import Bound, Breach, Policy, decide, evaluate
from airflow_copyleaks.clients import CopyleaksClientMixin
from airflow_copyleaks.exceptions import (
    CopyleaksConflictError,
    CopyleaksError,
    CopyleaksPolicyViolation,
    CopyleaksValidationError,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

ScanIdMode = Literal["task", "content"]
ItemT = TypeVar("ItemT", TextItem, ImageItem)

DEFAULT_CONN_ID = "copyleaks_default"
MESSAGE_ITEMS_MAX = 20  # items named in an exception message; the XCom report has them all


class CheckPolicyViolation(CopyleaksPolicyViolation, AirflowFailException):
    """The policy failed the task. A verdict does not change on retry, so Airflow does not retry."""


class CheckItemsFailed(CopyleaksError):
    """Some items could not be checked; a retry may help (rate limits, outages) and pays nothing
    twice, since the items already checked answer 409 and come from the store."""


class CheckItemsInvalid(CheckItemsFailed, AirflowFailException):
    """Every failed item failed for a reason a retry cannot fix (bad input, refused request)."""


class _Prepared:
    """An item ready to send: its validated payload and a hash of its content (for ids)."""

    __slots__ = ("content_sha256", "filename", "payload")

    def __init__(self, payload: Any, content_sha256: str, filename: str | None = None) -> None:
        self.payload = payload
        self.content_sha256 = content_sha256
        self.filename = filename


class CopyleaksCheckOperator(CopyleaksClientMixin, BaseOperator, Generic[ItemT]):
    """Base of the synchronous checks: batch, scan ids, store, report, policy.

    :param copyleaks_conn_id: Connection of type ``copyleaks``.
    :param policy: A :class:`Policy`, its dict form, or just ``"report"``/``"skip"``/``"fail"``.
    :param sandbox: Override the connection's sandbox setting (sandbox results are canned and free).
    :param scan_id_mode: ``task`` (default): ids from dag, task, run, map index and item key, so a
        retry or clear of this task instance pays nothing twice. ``content``: ids from the content
        and the check's options, so any run over unchanged content reuses the earlier result.
    :param force_new_scan: Check again and pay again (deliberate rechecks): new ids once per DAG
        run, reused by its retries so that a retry does not pay again for what was checked.
    :param max_workers: Threads for a batch (default: twice the connection's requests_per_second).
    :param max_details: Cap of detail entries (spans, matches) per item in the report.
    """

    kind: ClassVar[str]
    id_prefix: ClassVar[str]
    template_fields: Sequence[str] = ("copyleaks_conn_id", "policy", "sandbox", "scan_id_mode", "force_new_scan")
    template_fields_renderers: ClassVar[dict[str, str]] = {"policy": "json"}
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        copyleaks_conn_id: str = DEFAULT_CONN_ID,
        policy: Policy | Mapping[str, Any] | str | None = None,
        sandbox: bool | str | None = None,
        scan_id_mode: ScanIdMode = "task",
        force_new_scan: bool | str = False,
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
        self.max_workers = max_workers
        self.max_details = max_details
        self._runner: BatchRunner[Any] | None = None

    # ------------------------------------------------------------------ what a check defines

    def collect_items(self) -> list[ItemT]:
        raise NotImplementedError

    def metric_bounds(self) -> dict[str, Bound]:
        raise NotImplementedError

    def default_thresholds(self) -> dict[str, float]:
        raise NotImplementedError

    def validate_options(self) -> None:
        """Fail the whole task on a bad option (e.g. an unknown label), before any call."""

    def options_fingerprint(self) -> str:
        """The options that change a result: part of content-based ids."""
        return ""

    def prepare(self, item: ItemT) -> _Prepared:
        raise NotImplementedError

    def call(self, hook: CopyleaksHook, scan_id: str, prepared: _Prepared, sandbox: bool | None) -> dict[str, Any]:
        """Send one item; return its summary (a dict with at least ``credits``)."""
        raise NotImplementedError

    def values(self, summary: Mapping[str, Any]) -> dict[str, float]:
        raise NotImplementedError

    def aggregate(self, summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        """Batch-wide figures for the report's totals."""
        return {}

    # ------------------------------------------------------------------ plumbing

    def _sandbox_override(self) -> bool | None:
        if self.sandbox is None or self.sandbox == "":
            return None
        return config.as_bool(self.sandbox)

    def _scan_id(self, ti: Any, key: str, prepared: _Prepared, nonce: str, sandbox: bool) -> str:
        if self.scan_id_mode == "content":
            # Sandbox answers are mock results: they must never stand in for a real check.
            namespace = f"{self.kind}|sandbox={sandbox}|{self.options_fingerprint()}"
            return ids.scan_id_for_content(namespace, key, prepared.content_sha256, nonce=nonce, prefix=self.id_prefix)
        map_index = getattr(ti, "map_index", -1)
        return ids.scan_id_for_task(
            ti.dag_id,
            ti.task_id,
            ti.run_id,
            -1 if map_index is None else map_index,
            key,
            nonce=nonce,
            prefix=self.id_prefix,
        )

    # ------------------------------------------------------------------ execution

    def execute(self, context: Context) -> dict[str, Any]:
        started = time.monotonic()
        policy = Policy.coerce(self.policy)
        bounds = self.metric_bounds()
        thresholds = policy.resolve(bounds, self.default_thresholds())
        if self.scan_id_mode not in ("task", "content"):
            raise CopyleaksValidationError("scan_id_mode", f"is {self.scan_id_mode!r}", limit="task or content")
        self.validate_options()
        items = self.collect_items()
        ti = context["ti"]
        sandbox = self._sandbox_override()
        nonce = ids.force_nonce(ti.run_id) if config.as_bool(self.force_new_scan) else ""
        hook = self.hook

        def check(item: ItemT) -> ItemOutcome:
            return self._check_one(hook, ti, item, sandbox, nonce)

        workers = workers_for_rate(hook.settings.requests_per_second, len(items), self.max_workers)
        if workers > 1:
            # Log in (or read the shared token) once before the pool starts, so that a cold token
            # cache does not see one login attempt per thread.
            hook.get_token()
        self.log.info("Checking %d item(s) (%s) with %d thread(s)", len(items), self.kind, workers)
        self._runner = BatchRunner(check, key_of=lambda item: item.key, max_workers=workers)
        outcomes = self._runner.run(items)

        breaches = {o.key: evaluate(self.values(o.summary), thresholds, bounds) for o in outcomes if o.summary}
        report = self._report(outcomes, breaches, policy, thresholds, hook, sandbox, time.monotonic() - started)
        self._log_report(report)
        action = decide(policy, hits=report["totals"]["hits"], errors=report["totals"]["errors"])
        if action != "report" and self.do_xcom_push:
            # The task will not return normally, so its return value must be pushed by hand.
            ti.xcom_push(key="return_value", value=report)
        if action == "fail":
            raise CheckPolicyViolation(self._hits_message(outcomes, breaches, policy, report))
        if action == "fail-errors":
            failed = [o for o in outcomes if o.failed]
            cls = CheckItemsFailed if any(o.retryable for o in failed) else CheckItemsInvalid
            raise cls(self._errors_message(failed, len(outcomes)))
        if action == "skip":
            raise AirflowSkipException(self._hits_message(outcomes, breaches, policy, report))
        return report

    def on_kill(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    def _check_one(self, hook: CopyleaksHook, ti: Any, item: ItemT, sandbox: bool | None, nonce: str) -> ItemOutcome:
        prepared = self.prepare(item)
        scan_id = self._scan_id(ti, item.key, prepared, nonce, hook.sandbox if sandbox is None else sandbox)
        try:
            summary = self.call(hook, scan_id, prepared, sandbox)
        except CopyleaksConflictError:
            return self._already_checked(item.key, scan_id, prepared)
        self._save(scan_id, {**summary, "content_sha256": prepared.content_sha256})
        return ItemOutcome(key=item.key, scan_id=scan_id, summary=summary, credits=float(summary.get("credits") or 0))

    def _already_checked(self, key: str, scan_id: str, prepared: _Prepared) -> ItemOutcome:
        """409: this id was checked before (a retry); its result is in the store, already paid."""
        stored = self.store.get_check_result(scan_id)
        if stored is None:
            raise CopyleaksError(
                f"scan id {scan_id!r} was already used but its result is not in the store; "
                "set force_new_scan=True to check again (costs credits)"
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
            self.store.save_check_result(scan_id, self.kind, summary)
        except Exception as err:
            # The result is paid and still reported; only a later retry would miss it.
            self.log.warning("Could not save the result of %s in the store: %s", scan_id, err)

    # ------------------------------------------------------------------ report

    def _report(
        self,
        outcomes: list[ItemOutcome],
        breaches: Mapping[str, list[Breach]],
        policy: Policy,
        thresholds: Mapping[str, float],
        hook: CopyleaksHook,
        sandbox: bool | None,
        elapsed: float,
    ) -> dict[str, Any]:
        entries = []
        for o in outcomes:
            hit = bool(breaches.get(o.key))
            entry: dict[str, Any] = {
                "key": o.key,
                "scan_id": o.scan_id,
                "status": o.status,
                "verdict": "error" if o.failed else ("hit" if hit else "pass"),
            }
            if o.summary is not None:
                entry.update(o.summary)
                entry["breaches"] = [str(b) for b in breaches.get(o.key, [])]
            entry["credits"] = o.credits
            if o.failed:
                entry.update(error=o.error, error_type=o.error_type, retryable=o.retryable)
            entries.append(entry)
        hits = sum(1 for e in entries if e["verdict"] == "hit")
        errors = sum(1 for o in outcomes if o.failed)
        totals = {
            "items": len(outcomes),
            "ok": sum(1 for o in outcomes if o.status == "ok"),
            "already_checked": sum(1 for o in outcomes if o.status == "already_checked"),
            "errors": errors,
            "hits": hits,
            "passed": sum(1 for e in entries if e["verdict"] == "pass"),
            "credits": sum(o.credits for o in outcomes),
            "seconds": round(elapsed, 3),
            **self.aggregate([o.summary for o in outcomes if o.summary is not None]),
        }
        return {
            "kind": self.kind,
            "sandbox": hook.sandbox if sandbox is None else sandbox,
            "verdict": "hit" if hits else ("error" if errors else "pass"),
            "policy": policy.to_dict(),
            "thresholds": dict(thresholds),
            "totals": totals,
            "items": entries,
        }

    def _log_report(self, report: Mapping[str, Any]) -> None:
        t = report["totals"]
        self.log.info(
            "%s: %d item(s): %d passed, %d hit(s), %d error(s), %d already checked; %s credit(s) in %.1fs",
            self.kind, t["items"], t["passed"], t["hits"], t["errors"], t["already_checked"], t["credits"],
            t["seconds"],
        )  # fmt: skip
        for entry in report["items"]:
            if entry["verdict"] == "hit":
                self.log.info("HIT %s: %s", entry["key"], "; ".join(entry["breaches"]))
            elif entry["verdict"] == "error":
                self.log.warning("ERROR %s: %s", entry["key"], entry.get("error"))

    @staticmethod
    def _named(parts: list[str]) -> str:
        more = len(parts) - MESSAGE_ITEMS_MAX
        return "; ".join(parts[:MESSAGE_ITEMS_MAX]) + (f"; and {more} more" if more > 0 else "")

    def _hits_message(
        self, outcomes: list[ItemOutcome], breaches: Mapping[str, list[Breach]], policy: Policy, report: Mapping
    ) -> str:
        parts = [f"{o.key} ({', '.join(map(str, breaches[o.key]))})" for o in outcomes if breaches.get(o.key)]
        errors = report["totals"]["errors"]
        tail = f" ({errors} item(s) could not be checked, see the report)" if errors else ""
        return (
            f"Copyleaks {self.kind} policy ({policy.on_hit}): {len(parts)} of {len(outcomes)} item(s) crossed "
            f"thresholds: {self._named(parts)}{tail}"
        )

    def _errors_message(self, failed: list[ItemOutcome], total: int) -> str:
        parts = [f"{o.key}: {o.error}" for o in failed]
        return f"Copyleaks {self.kind}: {len(failed)} of {total} item(s) could not be checked: {self._named(parts)}"


def _text_of(item: TextItem) -> str:
    if not isinstance(item.text, str):
        raise CopyleaksValidationError(f"texts[{item.key}]", f"must be a string, got {type(item.text).__name__}")
    return item.text


def _labels(value: Sequence[str] | str | None) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):  # templated Params may render a list as "a,b"
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


# ================================================================================== operators


class CopyleaksModerateOperator(CopyleaksCheckOperator[TextItem]):
    """Text moderation: flagged spans (label, offsets, excerpt) and counts per label.

    :param texts: A text, ``{"key": ..., "text": ...}``, or a list of them (1 to 25,000 characters each).
    :param labels: Moderation labels to look for (default: all ten). Metrics for the policy are
        the labels themselves: ``thresholds={"hate-speech-v1": 0, "profanity-v1": 2}``.
        Default thresholds: any flagged span of any label is a hit.
    :param language: Language code (Copyleaks lists ``en``).
    """

    kind = "moderation"
    id_prefix = "mod"
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

    @property
    def chosen_labels(self) -> list[str]:
        return v.validate_moderation_labels(_labels(self.labels))

    def validate_options(self) -> None:
        self.chosen_labels  # noqa: B018 -- raises on an unknown label before any call

    def collect_items(self) -> list[TextItem]:
        return text_items(self.texts)

    def metric_bounds(self) -> dict[str, Bound]:
        return s.moderation_metrics(self.chosen_labels)

    def default_thresholds(self) -> dict[str, float]:
        return {"*": 0}

    def options_fingerprint(self) -> str:
        return f"{','.join(sorted(self.chosen_labels))}|{self.language or ''}"

    def prepare(self, item: TextItem) -> _Prepared:
        text = _text_of(item)
        v.validate_text_length(text, minimum=1, maximum=v.MODERATION_TEXT_MAX, field=f"texts[{item.key}]")
        return _Prepared(text, ids.content_sha256(text))

    def call(self, hook: CopyleaksHook, scan_id: str, prepared: _Prepared, sandbox: bool | None) -> dict[str, Any]:
        labels = self.chosen_labels
        response = hook.moderate_text(scan_id, prepared.payload, labels=labels, sandbox=sandbox, language=self.language)
        return s.summarize_moderation(response, prepared.payload, labels, max_spans=self.max_details)

    def values(self, summary: Mapping[str, Any]) -> dict[str, float]:
        return {**dict.fromkeys(self.chosen_labels, 0.0), **s.moderation_values(summary)}

    def aggregate(self, summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        counts = dict.fromkeys(self.chosen_labels, 0)
        for summary in summaries:
            for label, n in (summary.get("counts") or {}).items():
                counts[label] = counts.get(label, 0) + int(n)
        return {"counts": counts}


class CopyleaksImageCheckOperator(CopyleaksCheckOperator[ImageItem]):
    """Image plagiarism check: full and partial matches on the web, with the pages showing them.

    :param images: A local path, an ``ObjectStoragePath`` or URL, bytes, a ``data:`` URI, a dict
        ``{"key", "path" | "base64" | "data", "filename"}``, or a list of them. Validated before
        upload from the header alone: JPG, PNG, GIF, BMP, WebP or ICO, under 20 MB, at most 75
        megapixels.
    Metrics: ``full_matches``, ``partial_matches``, ``total_matches``; default: any full match is a hit.
    """

    kind = "image"
    id_prefix = "img"
    template_fields: Sequence[str] = (*CopyleaksCheckOperator.template_fields, "images")

    def __init__(self, *, images: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.images = images

    def collect_items(self) -> list[ImageItem]:
        return image_items(self.images)

    def metric_bounds(self) -> dict[str, Bound]:
        return dict(s.IMAGE_METRICS)

    def default_thresholds(self) -> dict[str, float]:
        return {"full_matches": 0}

    def prepare(self, item: ImageItem) -> _Prepared:
        data, filename = load_image(item)
        # Validate here too, not only in the hook: a bad image must fail before its id is derived.
        v.validate_image_for_check(data, filename, field=f"images[{item.key}]")
        return _Prepared(data, ids.content_sha256(data), filename)

    def call(self, hook: CopyleaksHook, scan_id: str, prepared: _Prepared, sandbox: bool | None) -> dict[str, Any]:
        assert prepared.filename is not None
        response = hook.check_image_plagiarism(scan_id, prepared.payload, prepared.filename, sandbox=sandbox)
        return {**s.summarize_image(response, max_matches=self.max_details), "filename": prepared.filename}

    def values(self, summary: Mapping[str, Any]) -> dict[str, float]:
        return s.image_values(summary)

    def aggregate(self, summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        return {k: sum(int(x.get(k) or 0) for x in summaries) for k in ("full_matches", "partial_matches")}


class CopyleaksAiDetectionOperator(CopyleaksCheckOperator[TextItem]):
    """AI-text detection: the share of the text that reads as AI-written.

    :param texts: A text, ``{"key": ..., "text": ...}``, or a list of them (255 to 25,000 characters each).
    :param language: Language code (auto-detected when omitted).
    :param sensitivity: 1 to 3 (Copyleaks' default when omitted).
    Metrics: ``ai`` (the share of the text classified as AI, 0..1), ``ai_probability`` (the highest
    probability among AI-classified segments) and ``human`` (a hit *below* its threshold);
    default: ``ai`` above 0.5.
    """

    kind = "ai_text"
    id_prefix = "ai"
    template_fields: Sequence[str] = (*CopyleaksCheckOperator.template_fields, "texts", "language", "sensitivity")
    template_fields_renderers: ClassVar[dict[str, str]] = {"policy": "json", "texts": "json"}

    def __init__(
        self, *, texts: Any, language: str | None = None, sensitivity: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.texts = texts
        self.language = language
        self.sensitivity = sensitivity

    def validate_options(self) -> None:
        if self.sensitivity is not None and str(self.sensitivity) not in ("1", "2", "3"):
            raise CopyleaksValidationError("sensitivity", f"is {self.sensitivity!r}", limit="1 to 3")

    def collect_items(self) -> list[TextItem]:
        return text_items(self.texts)

    def metric_bounds(self) -> dict[str, Bound]:
        return dict(s.AI_TEXT_METRICS)

    def default_thresholds(self) -> dict[str, float]:
        return {"ai": 0.5}

    def options_fingerprint(self) -> str:
        return f"{self.language or ''}|{self.sensitivity or ''}"

    def prepare(self, item: TextItem) -> _Prepared:
        text = _text_of(item)
        v.validate_text_length(
            text, minimum=v.AI_DETECTION_TEXT_MIN, maximum=v.AI_DETECTION_TEXT_MAX, field=f"texts[{item.key}]"
        )
        return _Prepared(text, ids.content_sha256(text))

    def call(self, hook: CopyleaksHook, scan_id: str, prepared: _Prepared, sandbox: bool | None) -> dict[str, Any]:
        sensitivity = int(self.sensitivity) if self.sensitivity is not None else None
        response = hook.detect_ai_text(
            scan_id, prepared.payload, sandbox=sandbox, language=self.language, sensitivity=sensitivity
        )
        return s.summarize_ai_text(response)

    def values(self, summary: Mapping[str, Any]) -> dict[str, float]:
        return s.ai_text_values(summary)

    def aggregate(self, summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        scores = [float(x.get("ai") or 0) for x in summaries]
        return {"max_ai": max(scores, default=0.0), "mean_ai": round(sum(scores) / len(scores), 4) if scores else 0.0}


class CopyleaksWritingFeedbackOperator(CopyleaksCheckOperator[TextItem]):
    """Writing feedback: overall and per-category scores, readability, number of corrections.

    :param texts: A text, ``{"key": ..., "text": ...}``, or a list of them (1 to 25,000 characters each).
    :param language: Language code.
    :param score_weights: Copyleaks' category weights (``grammarScoreWeight`` ... 0.0 to 1.0).
    Metrics: ``overall_score``, ``grammar_score``, ``mechanics_score``, ``sentence_structure_score``,
    ``word_choice_score``, ``readability_score`` (a hit below the threshold) and ``corrections`` (a hit
    above); default: ``overall_score`` below 50.
    """

    kind = "writing"
    id_prefix = "wf"
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

    def validate_options(self) -> None:
        for name, weight in (self.score_weights or {}).items():
            try:
                ok = 0.0 <= float(weight) <= 1.0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise CopyleaksValidationError(f"score_weights.{name}", f"is {weight!r}", limit="0.0 to 1.0")

    def collect_items(self) -> list[TextItem]:
        return text_items(self.texts)

    def metric_bounds(self) -> dict[str, Bound]:
        return dict(s.WRITING_METRICS)

    def default_thresholds(self) -> dict[str, float]:
        return {"overall_score": 50}

    def options_fingerprint(self) -> str:
        weights = ",".join(f"{k}={float(w)}" for k, w in sorted((self.score_weights or {}).items()))
        return f"{self.language or ''}|{weights}"

    def prepare(self, item: TextItem) -> _Prepared:
        text = _text_of(item)
        v.validate_text_length(text, minimum=1, maximum=v.WRITING_FEEDBACK_TEXT_MAX, field=f"texts[{item.key}]")
        return _Prepared(text, ids.content_sha256(text))

    def call(self, hook: CopyleaksHook, scan_id: str, prepared: _Prepared, sandbox: bool | None) -> dict[str, Any]:
        weights = {k: float(w) for k, w in self.score_weights.items()} if self.score_weights else None
        response = hook.writing_feedback(
            scan_id, prepared.payload, sandbox=sandbox, language=self.language, score_weights=weights
        )
        return s.summarize_writing(response)

    def values(self, summary: Mapping[str, Any]) -> dict[str, float]:
        return s.writing_values(summary)

    def aggregate(self, summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        scores = [float(x.get("overall_score") or 0) for x in summaries]
        return {
            "min_overall_score": min(scores, default=0.0),
            "mean_overall_score": round(sum(scores) / len(scores), 2) if scores else 0.0,
        }
