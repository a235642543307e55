"""Copyleaks' error answers, in all their shapes (REFERENCE.md §12), as typed exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from airflow_copyleaks.exceptions import (
    CopyleaksApiError,
    CopyleaksAuthError,
    CopyleaksConflictError,
    CopyleaksNotFoundError,
    CopyleaksPaymentError,
    CopyleaksRateLimitError,
    CopyleaksUnavailableError,
)

_ERROR_CLASSES: dict[int, type[CopyleaksApiError]] = {
    401: CopyleaksAuthError,
    402: CopyleaksPaymentError,
    404: CopyleaksNotFoundError,
    409: CopyleaksConflictError,
    429: CopyleaksRateLimitError,
}


def strip_secrets(err: Exception) -> str:
    """requests puts the URL (never a key: keys travel in bodies and headers) in its messages."""
    return str(err).split("(Caused by")[0].strip()


def decode(response: requests.Response, raw: bool) -> Any:
    """A successful answer's body: bytes when ``raw``, else JSON (or text when it is not JSON)."""
    if raw:
        return response.content
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return response.text


def _field_problems(errors: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """``{"field": ["problem", ...]}`` as one line of text, and as ``details``."""
    text = "; ".join(
        f"{field}: {'; '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}" for field, msgs in errors.items()
    )
    return text, [{"param": field, "message": msgs} for field, msgs in errors.items()]


def _parse_body(body: Any, default: str) -> tuple[str, int | str | None, str | None, list[dict[str, Any]]]:
    """(message, code, error id, details) from any of Copyleaks' error bodies."""
    code: int | str | None = None
    error_id: str | None = None
    details: list[dict[str, Any]] = []
    message = default
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # the unified envelope
            code, error_id = error.get("code"), error.get("id")
            message = str(error.get("message") or message)
            details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        elif isinstance(error, str):  # login 429: {"error": "Rate limit exceeded"}
            message = error
        elif "title" in body and "status" in body:  # RFC 9110 problem details (the submit docs' 409)
            message = str(body.get("detail") or body["title"])
            errors = body.get("errors")  # ASP.NET validation problems, as in ModelState below
            if isinstance(errors, dict) and errors:
                problems, details = _field_problems(errors)
                message += f": {problems}"
        elif any(k in body for k in ("message", "Message")):
            message = str(body.get("message") or body.get("Message"))
        else:  # ASP.NET ModelState: {"field": ["problem", ...]}
            problems, details = _field_problems(body)
            message = problems or message
    elif isinstance(body, str) and body:
        message = body[:500]
    return message, code, error_id, details


def error_from_response(response: requests.Response, *, endpoint: str, scan_id: str | None) -> CopyleaksApiError:
    """Normalise an error answer into one exception, typed by its status and Copyleaks code."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text.strip()
    return error_from_answer(response.status_code, body, response.reason or "error", endpoint=endpoint, scan_id=scan_id)


def error_from_answer(status: int, body: Any, reason: str, *, endpoint: str, scan_id: str | None) -> CopyleaksApiError:
    """The same as :func:`error_from_response`, for an answer already read (the async path)."""
    message, code, error_id, details = _parse_body(body, reason)
    if status == 503:
        return CopyleaksUnavailableError(
            status, f"Copyleaks is under maintenance: {message}", code=code, scan_id=scan_id, endpoint=endpoint
        )
    cls = _ERROR_CLASSES.get(status)
    if cls is None:
        cls = CopyleaksUnavailableError if status >= 500 else CopyleaksApiError
    if code in (13, 17, "13", "17"):
        cls = CopyleaksPaymentError
    return cls(status, message, code=code, error_id=error_id, scan_id=scan_id, endpoint=endpoint, details=details)
