"""Request parsing and the error shapes Copyleaks answers with (REFERENCE §1.3, §1.4, §12)."""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

# [a-z0-9] plus the documented symbols !@$^&-+%=_(){}<>';:/.",~`| (REFERENCE §1.4). Upper case is
# rejected: the current docs say [a-z0-9] (older pages allowed A-Z; UNCONFIRMED for the live API).
# Matched with fullmatch: ``$`` would also match before a final newline and take "abc\n" for "abc".
_SCAN_ID = re.compile(r"""[a-z0-9!@$^&\-+%=_(){}<>';:/.",~`|]{3,36}""")

# Known error codes -> (type, id, message) [DOC-err, DOC-wh-error]. Ids marked "guess" are not
# in the stored docs; the codes and messages are.
ERRORS: dict[int, tuple[str, str, str]] = {
    1: ("invalid_request_error", "missing_parameter",
        "Bad request. One or several required parameters are missing or incorrect."),
    2: ("authentication_error", "invalid_credentials", "Invalid login credentials."),
    5: ("api_error", "download_failed", "Failed to download the requested URL."),
    6: ("invalid_request_error", "file_too_large", "Cannot complete the scan request because the file is too large."),
    7: ("invalid_request_error", "text_read_failed", "Failed reading the submitted text."),
    8: ("invalid_request_error", "image_quality_too_low", "The image quality is too low to scan."),  # id: guess
    9: ("api_error", "temporarily_unavailable", "Temporarily unavailable. Please try again later."),  # id: guess
    10: ("invalid_request_error", "file_type_not_supported", "This file type is not supported."),  # id: guess
    11: ("invalid_request_error", "not_enough_text",  # id: guess
         "Not enough text to scan. The minimum text length is 30 characters and at least 6 words."),
    13: ("payment_error", "insufficient_credits",
         "You don't have enough credits to complete the request (required {required} credits)!"),
    14: ("invalid_request_error", "invalid_file", "The submitted file is invalid."),  # id: guess
    15: ("invalid_request_error", "invalid_url", "The submitted URL is invalid!"),  # id: guess
    16: ("api_error", "internal_error",  # id: guess
         "The server encountered an internal error or misconfiguration and was unable to complete your request."),
    24: ("invalid_request_error", "bad_filename", "Bad filename!"),  # id: guess
    25: ("invalid_request_error", "undefined_language", "Undefined language!"),  # id: guess
    26: ("invalid_request_error", "scan_still_running",  # id: guess
         "The request cannot be completed because the process is still running."),
    27: ("invalid_request_error", "unknown_scan", "Unknown process id!"),  # id: guess
}


def error_body(code: int, details: list[dict[str, str]] | None = None, **fmt: Any) -> dict[str, Any]:
    """The unified envelope ``{"error": {type, id, code, message[, details]}}`` [DOC-err]."""
    etype, eid, message = ERRORS[code]
    err: dict[str, Any] = {"type": etype, "id": eid, "code": code, "message": message.format(**fmt) if fmt else message}
    err["url"] = "https://docs.copyleaks.com/using-the-apis/api-errors/#error-reference"
    if details:
        err["details"] = details
    return {"error": err}


# A duplicate scan/export id in the error envelope the other errors use (the emulator's older
# answer, kept as conflict_body_format "envelope").
DUPLICATE_ID_BODY: dict[str, Any] = {
    "error": {
        "type": "invalid_request_error",
        "id": "duplicate_scan_id",
        "code": 1,
        "message": "A scan with this id already exists. Use a new scan id.",
    }
}


def conflict_body(body_format: str) -> dict[str, Any]:
    """The 409 for a duplicate id: the problem-details "Conflict" the submit and export docs show."""
    if body_format == "envelope":
        return DUPLICATE_ID_BODY
    trace = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
    return {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.10", "title": "Conflict", "status": 409,
            "traceId": trace}


def problem_401() -> dict[str, Any]:
    """ASP.NET problem details, as api.copyleaks.com answers a bad token [DOC-start, DOC-usage]."""
    trace = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
    return {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.2", "title": "Unauthorized",
            "status": 401, "traceId": trace}


def lower_keys(value: Any) -> Any:
    """Lower-case every object key: ASP.NET binds JSON property names case-insensitively."""
    if isinstance(value, dict):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


def get_path(body: dict[str, Any], *keys: str) -> Any:
    """``body[k1][k2]...`` with lower-cased keys, or None where anything is missing."""
    cur: Any = body
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k.lower())
    return cur


class EnumError(ValueError):
    pass


def parse_enum(value: Any, names: dict[str, int], default: int) -> int:
    """An enum sent as an int or as a case-insensitive name (Java SDK sends names, REFERENCE §1.3)."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise EnumError(str(value))
    if isinstance(value, int):
        if value in names.values():
            return value
        raise EnumError(str(value))
    if isinstance(value, str):
        key = value.strip().lower()
        if key.lstrip("-").isdigit() and int(key) in names.values():
            return int(key)
        if key in names:
            return names[key]
    raise EnumError(str(value))


SUBMIT_ACTIONS = {"scan": 0, "checkcredits": 1, "indexonly": 2, "index": 2}
ERROR_HANDLING = {"cancel": 0, "ignore": 1}


def parse_bool(value: Any, default: bool = False) -> bool:
    """Booleans from JSON or form fields ("true"/"false")."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    if isinstance(value, int):
        return value != 0
    return default


def valid_scan_id(scan_id: str) -> bool:
    return bool(_SCAN_ID.fullmatch(scan_id))


def parse_headers(value: Any) -> list[tuple[str, str]] | None:
    """``[["k","v"], ...]`` header lists (REFERENCE §1.3); None when malformed."""
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    out: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item):
            out.append((item[0], item[1]))
        elif isinstance(item, dict) and "key" in item and "value" in item:  # tolerate {key, value}
            out.append((str(item["key"]), str(item["value"])))
        else:
            return None
    return out


def iso_now(ts: float | None = None, offset_minutes: int = 0) -> str:
    """ISO-8601 with 7 fraction digits and ``Z`` like the identity server [DOC-login], or with an
    offset (``+02:00``) like the docs' older example, when ``offset_minutes`` is given."""
    zone = timezone(timedelta(minutes=offset_minutes)) if offset_minutes else timezone.utc
    dt = datetime.fromtimestamp(ts if ts is not None else time.time(), tz=zone)
    suffix = dt.strftime("%z") if offset_minutes else "Z"
    if offset_minutes:
        suffix = f"{suffix[:3]}:{suffix[3:]}"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0{suffix}"


def substitute_status(url: str, status: str) -> str:
    """Replace ``{STATUS}`` (any case, also the old ``{{STATUS}}`` form) in a status webhook URL."""
    url = re.sub(r"\{\{\s*status\s*\}\}", status, url, flags=re.IGNORECASE)
    return re.sub(r"\{\s*status\s*\}", status, url, flags=re.IGNORECASE)
