"""How webhook events move a scan's stored status, and the figures each one carries.

The ranks and final statuses are the wait domain's; this module applies them to deliveries.
"""

from __future__ import annotations

import math
from typing import Any

from airflow_copyleaks.store.schema import INTEGER_MAX
from airflow_copyleaks.waits.domain import FINAL_STATUSES, STATUS_RANK

# Events that set the scan's status; "newResult" only counts (the scan is still running).
STATUS_EVENTS = {"completed", "error", "creditsChecked", "indexed", "started", "deleted"}
EVENTS = STATUS_EVENTS | {"newResult"}
__all__ = ["EVENTS", "FINAL_STATUSES", "STATUS_EVENTS", "STATUS_RANK", "advances", "status_fields"]


def advances(current: str, new: str) -> bool:
    """Whether an event of status ``new`` may update a scan now at ``current``."""
    if new == "deleted":
        return True
    if current in FINAL_STATUSES:
        return False
    rank_new, rank_current = STATUS_RANK.get(new, 0), STATUS_RANK.get(current, 0)
    # The same status again (e.g. a resent creditsChecked) may refresh its figures.
    return rank_new > rank_current or new == current


def status_fields(event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The scan columns a status event sets."""
    fields: dict[str, Any] = {"status": event}
    document = payload.get("scannedDocument")
    document = document if isinstance(document, dict) else {}
    if event == "creditsChecked":
        credits = payload.get("credits")
        fields["credits"] = integer(credits if credits is not None else document.get("credits"))
        fields["total_words"] = integer(document.get("totalWords"))
    if event == "completed":
        fields["credits"] = integer(document.get("credits"))
        fields["total_words"] = integer(document.get("totalWords"))
        results = payload.get("results")
        score = results.get("score") if isinstance(results, dict) else None
        fields["score"] = number(score.get("aggregatedScore") if isinstance(score, dict) else score)
    if event == "error":
        fields["error_code"], fields["error_message"] = error_fields(payload)
    return fields


def error_fields(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """Copyleaks' error webhook: ``error`` is an object or a list of them, codes numbers or strings."""
    error: Any = payload.get("error")
    if isinstance(error, list):
        error = error[0] if error else None
    if isinstance(error, dict):
        code = error.get("code", error.get("id"))
        message = error.get("message")
        return (None if code is None else str(code)[:64]), (str(message) if message else None)
    if error is not None:
        return None, str(error)
    return None, None


def number(value: Any) -> float | None:
    """A number from a payload, or None: a malformed field must not fail the whole delivery."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    result = number(value)
    return int(result) if result is not None and abs(result) <= INTEGER_MAX else None
