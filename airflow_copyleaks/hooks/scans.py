"""Authenticity scans: submit, start, delete, resend a webhook, export results."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_copyleaks import validation as v
from airflow_copyleaks.exceptions import CopyleaksRateLimitError, CopyleaksValidationError
from airflow_copyleaks.hooks.endpoints import EndpointGroup, id_of

# Copyleaks' enums (REFERENCE.md §3.2, §4): sent as integers like the Python and Node SDKs.
SUBMIT_ACTIONS = {
    "scan": 0,
    "check-credits": 1,
    "checkcredits": 1,
    "index-only": 2,
    "index": 2,
    "indexonly": 2,
}
ERROR_HANDLING = {"cancel": 0, "ignore": 1}

log = logging.getLogger(__name__)


class ScanEndpoints(EndpointGroup):
    def submit_file(
        self,
        scan_id: str,
        content: bytes,
        filename: str,
        properties: Mapping[str, Any],
        *,
        kind: str = "file",
        ocr_language: str | None = None,
    ) -> None:
        """Submit a document (``kind`` file) or an image with text (``kind`` ocr) for a scan.

        Raises :class:`CopyleaksConflictError` (409) if the id was already submitted.
        """
        v.validate_scan_id(scan_id)
        allowed = v.OCR_TYPES if kind == "ocr" else None
        v.validate_filename(filename, allowed=allowed)
        v.validate_file_size(filename, len(content))
        if v.file_extension(filename) in v.TEXTUAL_TYPES:
            try:
                v.validate_scan_text(content.decode("utf-8"), field="content")
            except UnicodeDecodeError as err:
                raise CopyleaksValidationError("content", f"{filename!r} is not UTF-8 text") from err
        body: dict[str, Any] = {
            "base64": base64.b64encode(content).decode("ascii"),
            "filename": filename,
            "properties": self._checked_properties(properties),
        }
        if kind == "ocr":
            if not ocr_language:
                raise CopyleaksValidationError("ocr_language", "is required for OCR (an ISO-639-1 code)")
            body["langCode"] = ocr_language
        elif kind != "file":
            raise CopyleaksValidationError("kind", f"unknown submission kind {kind!r}", limit="file or ocr")
        self._call(f"submit_{kind}", scan_id=scan_id, json_body=body)

    def submit_text(
        self, scan_id: str, text: str, properties: Mapping[str, Any], *, filename: str = "document.txt"
    ) -> None:
        """Submit plain text (sent as a UTF-8 ``.txt`` file, as Copyleaks expects)."""
        v.validate_scan_text(text)
        self.submit_file(scan_id, text.encode("utf-8"), filename, properties)

    def submit_url(self, scan_id: str, url: str, properties: Mapping[str, Any]) -> None:
        v.validate_scan_id(scan_id)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise CopyleaksValidationError("url", f"must be an http(s) URL, got {url!r}")
        body = {"url": url, "properties": self._checked_properties(properties)}
        self._call("submit_url", scan_id=scan_id, json_body=body)

    @staticmethod
    def _checked_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
        props = dict(properties)
        webhooks = props.get("webhooks") or {}
        if not webhooks.get("status"):
            raise CopyleaksValidationError(
                "properties.webhooks.status", "is required: Copyleaks reports scans only by webhook"
            )
        if "{STATUS}" not in webhooks["status"].upper():
            raise CopyleaksValidationError(
                "properties.webhooks.status", "must contain {STATUS} so each status gets its own URL"
            )
        v.validate_developer_payload(props.get("developerPayload"), field="properties.developerPayload")
        from airflow_copyleaks.scans.references import check_references_property

        check_references_property(props)
        if "action" in props:
            props["action"] = _submit_action(props["action"])
        sensitivity = props.get("sensitivityLevel")
        if sensitivity is not None and sensitivity not in range(1, 6):
            raise CopyleaksValidationError("properties.sensitivityLevel", f"is {sensitivity!r}", limit="1 to 5")
        expiration = props.get("expiration")
        if expiration is not None and not (isinstance(expiration, int) and 1 <= expiration <= 2880):
            raise CopyleaksValidationError("properties.expiration", f"is {expiration!r}", limit="1 to 2880 hours")
        return props

    def start(self, scan_ids: Sequence[str], *, error_handling: str | int = "ignore") -> dict[str, list[str]]:
        """Start price-checked scans (at most 100 per call). Returns ``{"success": [...], "failed": [...]}``."""
        ids = v.validate_start_triggers(list(scan_ids))
        mode = ERROR_HANDLING.get(str(error_handling).lower(), error_handling)
        if mode not in (0, 1):
            raise CopyleaksValidationError("error_handling", f"is {error_handling!r}", limit="cancel or ignore")
        body = self._call("start", json_body={"trigger": ids, "errorHandling": mode})
        body = body if isinstance(body, dict) else {}
        # The Java SDK models entries as {"id": ...}; the docs show plain strings. Accept both.
        return {key: [id_of(item) for item in body.get(key) or []] for key in ("success", "failed")}

    def delete_scans(
        self,
        scan_ids: Sequence[str],
        *,
        purge: bool = False,
        completion_webhook: str | None = None,
        headers: Sequence[Sequence[str]] | None = None,
    ) -> None:
        ids = [v.validate_scan_id(s) for s in scan_ids]
        if not 1 <= len(ids) <= 10_000:
            raise CopyleaksValidationError("scan_ids", f"has {len(ids)} ids", limit="1 to 10000")
        body: dict[str, Any] = {"scans": [{"id": s} for s in ids], "purge": purge}
        if completion_webhook:
            body["completionWebhook"] = completion_webhook
            if headers:
                body["headers"] = [list(h) for h in headers]
        self._call("delete", json_body=body)

    def resend_webhook(self, scan_id: str) -> None:
        """Ask Copyleaks to send the scan's last status webhook again."""
        v.validate_scan_id(scan_id)
        self._call("resend_webhook", scan_id=scan_id)

    def export(self, scan_id: str, export_id: str, body: Mapping[str, Any]) -> None:
        """Ask Copyleaks to push results, the PDF report and the crawled version to ``body``'s endpoints."""
        v.validate_scan_id(scan_id)
        v.validate_scan_id(export_id, field="export_id")
        if not body.get("completionWebhook"):
            raise CopyleaksValidationError("completionWebhook", "is required")
        v.validate_max_retries(body.get("maxRetries", 3), field="maxRetries")
        v.validate_developer_payload(body.get("developerPayload"), field="developerPayload")
        deadline = time.monotonic() + self.settings.export_max_wait_seconds
        while True:
            # Copyleaks allows 10 exports per minute per account, whatever process sends them:
            # each export takes the account's next export slot, shared through the store.
            try:
                self._call(
                    "export", scan_id=scan_id, export_id=export_id, json_body=dict(body),
                    pacer=self.export_pacer.acquire,
                )  # fmt: skip
                return
            except CopyleaksRateLimitError:
                # Another client of the account took the slot: wait for the next one rather than
                # spend retries that end long before the minute does.
                if time.monotonic() > deadline:
                    raise
                log.info("Export %s of scan %s: Copyleaks' export limit; waiting for the next slot", export_id, scan_id)


def _submit_action(action: Any) -> Any:
    if isinstance(action, str):
        key = action.lower()
        if key not in SUBMIT_ACTIONS:
            raise CopyleaksValidationError(
                "properties.action", f"unknown action {action!r}", limit="scan, check-credits, index-only"
            )
        return SUBMIT_ACTIONS[key]
    if action not in (0, 1, 2):
        raise CopyleaksValidationError("properties.action", f"is {action!r}", limit="0, 1 or 2")
    return action
