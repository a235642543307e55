"""CopyleaksSubmitOperator: submit documents for authenticity scans, optionally wait for them.

Scan ids are derived deterministically (DESIGN.md decision 2), each scan is registered in the
store before it is sent, and a 409 means "already submitted": a retried or cleared task never
pays twice, and a scan the store already knows as finished is not waited for again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow.sdk import BaseOperator

from airflow_copyleaks import config, ids, rescans
from airflow_copyleaks import validation as v
from airflow_copyleaks.clients import CopyleaksClientMixin
from airflow_copyleaks.exceptions import (
    CopyleaksApiError,
    CopyleaksConflictError,
    CopyleaksError,
    CopyleaksValidationError,
)
from airflow_copyleaks.scans.documents import Document, documents_from, load
from airflow_copyleaks.waits import records
from airflow_copyleaks.waits.domain import SubmitResult
from airflow_copyleaks.waits.tasks import (
    ScanWaitMixin,
    default_deferrable,
    pull_wait_state,
    push_wait_state,
    raise_for_event,
    validate_scan_event,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_copyleaks.scans.properties import ScanProperties


ACTIONS = {
    "scan": ("scan", "completed"),
    "check-credits": ("check-credits", "creditsChecked"),
    "index-only": ("index-only", "indexed"),
}
_ACTION_ALIASES = {"checkcredits": "check-credits", "index": "index-only", "indexonly": "index-only"}
_ACTION_BY_CODE = {0: "scan", 1: "check-credits", 2: "index-only"}


def content_namespace(dag_id: str, task_id: str, wire_properties: Mapping[str, Any]) -> str:
    """What content-mode scan ids are derived within, besides the document: the task and every
    scan setting (action, sandbox, properties), so that a result is only reused for the same
    kind of scan (a sandbox result never stands in for a real one)."""
    settings = json.dumps(wire_properties, sort_keys=True, default=str, separators=(",", ":"))
    return f"{dag_id}|{task_id}|{ids.content_sha256(settings)}"


def _item_properties(wire_properties: dict[str, Any], doc: Document) -> dict[str, Any]:
    """The scan settings of one item: the operator's, plus the item's own exclude pattern (which
    then also enters its content-mode id: a scan compared with fewer documents is another scan)."""
    if not doc.exclude_id_pattern:
        return wire_properties
    scanning = dict(wire_properties.get("scanning") or {})
    scanning["exclude"] = {**(scanning.get("exclude") or {}), "idPattern": doc.exclude_id_pattern}
    return {**wire_properties, "scanning": scanning}


class CopyleaksSubmitOperator(CopyleaksClientMixin, ScanWaitMixin, BaseOperator):
    """Submit text, files, URLs or images (OCR) to Copyleaks and optionally wait for the result.

    :param documents: One item or a list: a text, or ``{"key": ..., "text" | "path" | "url" |
        "ocr_path": ..., "filename": ...}``. ``path``/``ocr_path`` may be local or an
        ``ObjectStoragePath`` URL. Each item becomes one scan; a bad item is reported and the
        others go on. An item may also set ``id_prefix`` (its scan id's prefix, e.g. the article
        key, so that its indexed copies share one id pattern) and ``exclude_id_pattern`` (indexed
        documents it is never compared with, e.g. ``"ixa12-*"``: its own earlier copies).
    :param properties: Scan properties: a :class:`ScanProperties` or a dict in wire form.
        ``webhooks`` is filled in by the provider.
    :param action: ``scan``, ``check-credits`` or ``index-only`` (an ``action`` in
        ``properties`` must agree with it).
    :param sandbox: Override the connection's sandbox setting.
    :param ocr_language: Language of images submitted with ``ocr_path``.
    :param scan_id_mode: ``task`` (one scan per document per task instance) or ``content`` (one
        scan per document content and scan settings: a new run over unchanged content with the
        same action, sandbox and properties reuses the scan; a property that changes every run,
        such as a ``developerPayload`` naming the run, makes every run scan again).
    :param id_prefix: Start of every derived scan id (letters and digits; the id stays within
        Copyleaks' 36 characters).
    :param force_new_scan: Deliberately scan again, paying again: new ids once per DAG run
        (retries of that run reuse them, so a retry never pays twice).
    :param rescan_failed: Scan again only the items whose scan ended in a Copyleaks error that a
        new scan may fix (5 download failed, 9 temporarily unavailable, 16 internal error): they
        get a new id derived from the failed one, every other item keeps its scan and is not paid
        for again. Later runs follow an item to its newest scan.
    :param wait_for_completion: Wait until the scans reach the action's final status.
    :param deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
    :param wait_timeout: Longest wait (seconds or timedelta); past it the task fails.
    :param poll_interval: Seconds between reads of the store while waiting (default:
        ``[copyleaks] poll_interval_seconds``).
    :param resend_after_seconds: The scans' expected duration: a scan silent this long gets a
        "resend webhook" request, later ones back off (default: ``[copyleaks]
        resend_after_seconds``; 0 disables).
    :param fail_on_item_error: Fail the task at the end if any item could not be submitted.
    :param webhook_base_url: Override the connection's ``webhook_base_url`` (a fixed string, not
        a template: where Copyleaks sends results is not for a run's Params to choose).
    :param copyleaks_conn_id: Connection of type ``copyleaks``.
    :param store_url: The ScanStore the webhook receiver writes to (default: ``[copyleaks]
        store_url``).
    """

    template_fields: Sequence[str] = (
        "copyleaks_conn_id",
        "documents",
        "properties",
        "sandbox",
        "force_new_scan",
        "rescan_failed",
        "action",
        "ocr_language",
    )
    template_fields_renderers = {"documents": "json", "properties": "json"}
    ui_color = "#c7e3f7"

    def __init__(
        self,
        *,
        documents: Any,
        properties: ScanProperties | Mapping[str, Any] | None = None,
        action: str = "scan",
        sandbox: bool | None = None,
        ocr_language: str = "en",
        scan_id_mode: str = "task",
        id_prefix: str = "af",
        force_new_scan: bool = False,
        rescan_failed: bool | str = False,
        wait_for_completion: bool = False,
        deferrable: bool | None = None,
        wait_timeout: float | timedelta | None = None,
        poll_interval: float | None = None,
        resend_after_seconds: float | None = None,
        fail_on_item_error: bool = True,
        webhook_base_url: str | None = None,
        copyleaks_conn_id: str = "copyleaks_default",
        store_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.documents = documents
        self.properties = properties
        self.action = action
        self.sandbox = sandbox
        self.ocr_language = ocr_language
        self.scan_id_mode = scan_id_mode
        self.id_prefix = id_prefix
        self.force_new_scan = force_new_scan
        self.rescan_failed = rescan_failed
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.resend_after_seconds = resend_after_seconds
        self.fail_on_item_error = fail_on_item_error
        self.webhook_base_url = v.untemplated_webhook_base_url(webhook_base_url)
        self.copyleaks_conn_id = copyleaks_conn_id
        self.store_url = store_url

    # ------------------------------------------------------------------ plumbing

    def _action(self) -> tuple[str, str]:
        key = str(self.action).strip().lower()
        key = _ACTION_ALIASES.get(key, key)
        if key not in ACTIONS:
            raise CopyleaksValidationError("action", f"is {self.action!r}", limit=", ".join(ACTIONS))
        return ACTIONS[key]

    def _scan_id(self, ti: Any, doc: Document, sha256: str, nonce: str, base_props: Mapping[str, Any]) -> str:
        prefix = doc.id_prefix or self.id_prefix
        if self.scan_id_mode == "content":
            namespace = content_namespace(ti.dag_id, ti.task_id, base_props)
            return ids.scan_id_for_content(namespace, doc.key, sha256, nonce=nonce, prefix=prefix)
        if self.scan_id_mode != "task":
            raise CopyleaksValidationError("scan_id_mode", f"is {self.scan_id_mode!r}", limit="task or content")
        map_index = getattr(ti, "map_index", -1)
        return ids.scan_id_for_task(
            ti.dag_id,
            ti.task_id,
            ti.run_id,
            -1 if map_index is None else map_index,
            doc.key,
            nonce=nonce,
            prefix=prefix,
        )

    def _webhooks(self, scan_id: str) -> dict[str, Any]:
        from airflow_copyleaks.webhooks import urls

        base = self.webhook_base_url or self.hook.webhook_base_url
        if not base:
            raise CopyleaksValidationError(
                "webhook_base_url", "is not set: give the connection a webhook_base_url (the receiver's public URL)"
            )
        secret = config.webhook_secret()
        if not secret:
            raise CopyleaksValidationError("[copyleaks] webhook_secret", "is not set: webhooks could not be verified")
        return dict(urls.status_webhook(base, scan_id, secret))

    # ------------------------------------------------------------------ execution

    def execute(self, context: Context) -> Any:
        action, wanted = self._action()
        docs = documents_from(self.documents)
        if not docs:
            self.log.info("No documents: nothing to submit")
        ti = context["ti"]
        nonce = ids.force_nonce(ti.run_id) if config.as_bool(self.force_new_scan) else ""
        # Imported here: two dozen dataclasses, paid at every DAG parse otherwise.
        from airflow_copyleaks.scans.properties import properties_to_wire

        base_props = properties_to_wire(self.properties)
        self._check_properties_action(base_props, action)
        base_props["action"] = action  # what is sent is what the task waits for
        if self.sandbox is not None and self.sandbox != "":
            base_props["sandbox"] = config.as_bool(self.sandbox)
        else:
            base_props.setdefault("sandbox", self.hook.sandbox)
        items: dict[str, dict[str, Any]] = {}
        retryable: list[str] = []
        for doc in docs:
            items[doc.key] = entry = self._submit_one(ti, doc, base_props, nonce)
            if entry.get("retryable"):
                retryable.append(doc.key)
        scan_ids = [e["scan_id"] for e in items.values() if e.get("scan_id") and not e.get("error")]
        # Links and downstream tasks need the ids even while the task is deferred.
        ti.xcom_push(key="scan_ids", value=scan_ids)
        if retryable:
            # Name what Copyleaks said for each item, so the log of the failed try explains the retry.
            raise AirflowException(
                f"Copyleaks could not take {len(retryable)} item(s) for now; the next try sends them "
                "again with the same scan ids: "
                + "; ".join(f"{key} (scan {items[key].get('scan_id')}): {items[key]['error']}" for key in retryable[:5])
            )
        if not self.wait_for_completion or not scan_ids:
            return self._result(items, None, wanted)
        scans, pending = self._stored_state(scan_ids, wanted)
        if not pending:  # a cleared task whose scans already finished: nothing to wait for
            self.log.info("All %d scan(s) already reached %s in the store; not waiting again", len(scan_ids), wanted)
            from airflow_copyleaks.waits.domain import build_event

            return self._result(items, build_event(scan_ids, [wanted], scans), wanted)
        if self.deferrable:
            push_wait_state(context, {"items": items})
        event = self._wait(self.store, scan_ids, [wanted], method_name="execute_complete", kwargs={"items": items})
        return self._result(items, event, wanted)

    def execute_complete(self, context: Context, event: Any = None, items: dict[str, Any] | None = None) -> Any:
        if items is None:
            items = pull_wait_state(context, self.task_id)["items"]
        scan_ids = [e["scan_id"] for e in items.values() if e.get("scan_id") and not e.get("error")]
        event = validate_scan_event(event, scan_ids)
        return self._result(items, event, self._action()[1])

    def _check_properties_action(self, wire: Mapping[str, Any], action: str) -> None:
        """An action in ``properties`` must agree with the operator's: the operator waits for its
        own action's final status, and a scan sent where a price check was meant costs credits."""
        if "action" not in wire:
            return
        given = wire["action"]
        named = _ACTION_BY_CODE.get(given) if isinstance(given, int) else str(given).strip().lower()
        if _ACTION_ALIASES.get(named or "", named) != action:
            raise CopyleaksValidationError(
                "properties.action",
                f"is {given!r} but {type(self).__name__} runs action {action!r}; "
                "set the action on the operator and leave it out of properties",
            )

    def _stored_state(self, scan_ids: list[str], wanted: str) -> tuple[dict[str, Any], list[str]]:
        from airflow_copyleaks.waits.tasks import check_once

        return check_once(self.store, scan_ids, [wanted])

    def _submit_one(self, ti: Any, doc: Document, base_props: dict[str, Any], nonce: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"key": doc.key, "kind": doc.kind}
        try:
            loaded = load(doc)
            base_props = _item_properties(base_props, doc)
            scan_id = self._current_scan_id(entry, self._scan_id(ti, doc, loaded.sha256, nonce, base_props))
            known = records.get_scans(self.store, [scan_id]).get(scan_id)
            if known is not None and known["status"] not in ("submitted",):
                # Copyleaks already reported on it: submitting again could only answer 409.
                entry["submission"] = "already_reported"
                return entry
            props = {**base_props, "webhooks": self._webhooks(scan_id)}
            # Refused input leaves no trace: checked before the store may say "submitted".
            v.validate_submission(
                scan_id,
                kind=doc.kind,
                properties=props,
                content=loaded.content,
                filename=loaded.filename,
                url=doc.value,
            )
            # Registered before sending: the webhook may arrive before the PUT returns.
            self.store.register_scan(
                scan_id,
                kind=doc.kind,
                action=str(base_props.get("action")),
                sandbox=bool(base_props.get("sandbox")),
                meta=self._meta(ti, doc),
            )
            if doc.kind == "url":
                self.hook.submit_url(scan_id, doc.value, props)
            elif doc.kind == "ocr":
                assert loaded.content is not None and loaded.filename is not None
                self.hook.submit_file(
                    scan_id, loaded.content, loaded.filename, props, kind="ocr", ocr_language=self.ocr_language
                )
            else:
                assert loaded.content is not None and loaded.filename is not None
                self.hook.submit_file(scan_id, loaded.content, loaded.filename, props)
            entry["submission"] = "submitted"
            self.log.info("Submitted %s (%s) as scan %s", doc.key, doc.kind, scan_id)
        except CopyleaksConflictError:
            entry["submission"] = "already_submitted"  # our own earlier attempt: go on to wait
            self.log.info("Scan %s for %s was already submitted (409): not paying again", entry["scan_id"], doc.key)
        except CopyleaksValidationError as err:
            entry.update(submission="invalid", error=str(err))
            self.log.error("Item %s not submitted: %s", doc.key, err)
        except CopyleaksApiError as err:
            entry.update(submission="failed", error=str(err), retryable=bool(err.retryable))
            self.log.error("Item %s not submitted: %s", doc.key, err)
        except CopyleaksError as err:  # connection errors after the hook's retries
            entry.update(submission="failed", error=str(err), retryable=bool(getattr(err, "retryable", False)))
            self.log.error("Item %s not submitted: %s", doc.key, err)
        return entry

    def _current_scan_id(self, entry: dict[str, Any], first_id: str) -> str:
        """The id the item's scan goes by now (see :mod:`airflow_copyleaks.rescans`), noted in
        ``entry`` with the failed id it replaces."""

        def failed(scan_id: str) -> bool:
            record = self.store.get_scan(scan_id)
            return record is not None and rescans.is_retryable_error(record.status, record.error_code)

        scan_id, replaced = rescans.current_scan_id(
            first_id, failed, lambda sid: self.store.get_scan(sid) is not None,
            rescan_failed=config.as_bool(self.rescan_failed),
        )  # fmt: skip
        entry["scan_id"] = scan_id
        if replaced is not None:
            entry["replaces"] = replaced
            self.log.info(
                "Item %s: scan %s ended in a retryable error; its scan is now %s", entry["key"], replaced, scan_id
            )
        return scan_id

    def _meta(self, ti: Any, doc: Document) -> dict[str, Any]:
        map_index = getattr(ti, "map_index", -1)
        return {
            "dag_id": ti.dag_id,
            "task_id": ti.task_id,
            "run_id": ti.run_id,
            "map_index": -1 if map_index is None else map_index,
            "document_key": doc.key,
            "kind": doc.kind,
            # Completion watchers may filter on these.
            "conn_id": self.copyleaks_conn_id,
            "account": self.hook.settings.email.lower(),
        }

    def _result(self, items: dict[str, dict[str, Any]], event: Mapping[str, Any] | None, wanted: str) -> SubmitResult:
        """The XCom result; raises for failed scans, a timeout or (optionally) rejected items."""
        scan_ids = [e["scan_id"] for e in items.values() if e.get("scan_id") and not e.get("error")]
        scans = (event or {}).get("scans") or {}
        for entry in items.values():
            entry.pop("retryable", None)
            if entry.get("scan_id") in scans:
                entry["result"] = scans[entry["scan_id"]]
        errors = {key: e["error"] for key, e in items.items() if e.get("error")}
        result: SubmitResult = {
            "status": (event or {}).get("status", "submitted"),
            "wanted": wanted,
            "scan_ids": scan_ids,
            "items": items,
            "errors": errors,
        }
        if event is not None:
            raise_for_event(event, wanted)
        if errors and self.fail_on_item_error:
            # Bad input does not get better on retry: fail without retrying.
            raise AirflowFailException(
                f"{len(errors)} of {len(items)} item(s) could not be submitted: "
                + "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5])
            )
        return result
