"""The webhook URLs and headers the provider hands to Copyleaks (the hook never builds them).

Ids are URL-quoted with nothing safe, since Copyleaks allows ``/`` in scan ids; the receiver
decodes them. Export endpoints use PUT, as Copyleaks recommends, so a retried push overwrites.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token


def _q(ident: str) -> str:
    return quote(ident, safe="")


def status_webhook(base_url: str, scan_id: str, secret: str) -> dict[str, Any]:
    """``properties.webhooks`` for a scan: status (with ``{STATUS}``) and newResult, with credentials."""
    base = base_url.rstrip("/")
    headers = [[TOKEN_HEADER, webhook_token(secret, "scan", scan_id)]]
    return {
        "status": f"{base}/status/{{STATUS}}/{_q(scan_id)}",
        "statusHeaders": headers,
        "newResult": f"{base}/new-result/{_q(scan_id)}",
        "newResultHeaders": headers,
    }


def export_request_body(
    base_url: str,
    scan_id: str,
    export_id: str,
    secret: str,
    *,
    result_ids: list[str],
    pdf: bool,
    crawled: bool,
    ai_detection: bool = False,
    writing_feedback: bool = False,
    max_retries: int = 3,
    developer_payload: str | None = None,
) -> dict[str, Any]:
    """The whole body of Copyleaks' export request (REFERENCE.md §8)."""
    base = f"{base_url.rstrip('/')}/export/{_q(export_id)}"
    headers = [[TOKEN_HEADER, webhook_token(secret, "export", export_id)]]

    def task(path: str) -> dict[str, Any]:
        return {"endpoint": f"{base}/{path}", "verb": "PUT", "headers": headers}

    body: dict[str, Any] = {
        "completionWebhook": f"{base}/completed",
        "completionWebhookHeaders": headers,
        "maxRetries": max_retries,
        "results": [{"id": rid, **task(f"results/{_q(rid)}")} for rid in result_ids],
    }
    if pdf:
        body["pdfReport"] = task("pdf-report")
    if crawled:
        body["crawledVersion"] = task("crawled-version")
    if ai_detection:
        body["aiDetection"] = task("ai-detection")
    if writing_feedback:
        body["writingFeedback"] = task("writing-feedback")
    if developer_payload is not None:
        body["developerPayload"] = developer_payload
    return body


def delete_webhook(base_url: str, request_id: str, secret: str) -> tuple[str, list[list[str]]]:
    """Completion URL and headers for a delete request."""
    url = f"{base_url.rstrip('/')}/delete/{_q(request_id)}/completed"
    return url, [[TOKEN_HEADER, webhook_token(secret, "delete", request_id)]]
