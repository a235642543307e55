"""A submit request's validation (REFERENCE §3): what the scan engine accepts, or the 400 errors."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from .validation import SUBMIT_ACTIONS, EnumError, get_path, parse_enum, parse_headers, valid_scan_id

OCR_LANGUAGES = [
    "af", "sq", "ar", "hy", "az", "eu", "be", "bn", "bs", "bg", "ca", "ceb", "zh", "zh-CN", "zh-TW", "co", "hr",
    "cs", "da", "nl", "en", "eo", "et", "fi", "fr", "fy", "gl", "ka", "de", "el", "gu", "ht", "ha", "haw", "iw",
    "he", "hi", "hmn", "hu", "is", "ig", "id", "ga", "it", "ja", "jw", "kn", "kk", "km", "ko", "ku", "ky", "lo",
    "la", "lv", "lt", "lb", "mk", "mg", "ms", "ml", "mt", "mi", "mr", "mn", "my", "ne", "no", "ny", "ps", "fa",
    "pl", "pt", "pa", "ro", "ru", "sm", "gd", "sr", "st", "sn", "sd", "si", "sk", "sl", "so", "es", "su", "sw",
    "sv", "tl", "tg", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "cy", "xh", "yi", "yo", "zu",
]


def valid_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _content(kind: str, body: dict[str, Any], errors: dict[str, list[str]]) -> tuple[bytes, str | None, str | None]:
    """The file's bytes and name, or the URL, of a submission; problems go to ``errors``."""
    raw = b""
    filename: str | None = None
    url: str | None = None
    if kind in ("file", "ocr"):
        b64 = body.get("base64")
        if not isinstance(b64, str) or not b64:
            errors["base64"] = ["The base64 field is required."]
        else:
            try:
                raw = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                errors["base64"] = ["The base64 field is not a valid Base-64 string."]
        fn = body.get("filename")
        if not isinstance(fn, str) or not fn:
            errors["filename"] = ["The filename field is required."]
        elif len(fn) > 255:
            errors["filename"] = ["The field filename must be a string with a maximum length of 255."]
        else:
            filename = fn
    else:
        u = body.get("url")
        if not isinstance(u, str) or not u:
            errors["url"] = ["The url field is required."]
        else:
            url = u
    return raw, filename, url


def _references_errors(refs: Any) -> dict[str, list[str]]:
    """``properties.references``: an object of booleans, as ASP.NET binds it (a string is refused)."""
    if refs is None:
        return {}
    if not isinstance(refs, dict):
        return {"properties.references": ["The references field must be an object."]}
    errors = {}
    for key, name in (("validate", "validate"), ("crosscheck", "crossCheck")):
        if refs.get(key) is not None and not isinstance(refs[key], bool):
            errors[f"properties.references.{name}"] = ["The JSON value could not be converted to System.Boolean."]
    return errors


@dataclass
class Submission:
    raw: bytes
    filename: str | None
    url: str | None
    properties: dict[str, Any]  # lower-cased keys
    action: int


def parse_submission(kind: str, scan_id: str, body: Any) -> Submission | dict[str, list[str]]:
    """The accepted request, or the errors by field. ``body`` has lower-cased keys."""
    if not isinstance(body, dict):
        return {"": ["A non-empty request body is required."]}
    errors: dict[str, list[str]] = {}
    if not valid_scan_id(scan_id):
        errors["scanId"] = ["The scanId must be 3-36 characters of [a-z0-9] and !@$^&-+%=_(){}<>';:/.\",~`|."]
    raw, filename, url = _content(kind, body, errors)
    props = body.get("properties")
    if not isinstance(props, dict):
        errors["properties"] = ["The properties field is required."]
        props = {}
    status_url = get_path(props, "webhooks", "status")
    if status_url is None or status_url == "":
        errors["properties.webhooks.status"] = ["The field is required."]
    elif not valid_url(status_url):
        errors["properties.webhooks.status"] = ["The field must be an absolute http(s) URL."]
    new_result = get_path(props, "webhooks", "newresult")
    if new_result not in (None, "") and not valid_url(new_result):
        errors["properties.webhooks.newResult"] = ["The field must be an absolute http(s) URL."]
    for key, name in (("statusheaders", "statusHeaders"), ("newresultheaders", "newResultHeaders")):
        if parse_headers(get_path(props, "webhooks", key)) is None:
            errors[f"properties.webhooks.{name}"] = ["Headers must be a list of [key, value] pairs."]
    payload = props.get("developerpayload")
    if payload is not None and (not isinstance(payload, str) or len(payload) > 512):
        errors["properties.developerPayload"] = ["The developerPayload must be a string of at most 512 characters."]
    try:
        action = parse_enum(props.get("action"), SUBMIT_ACTIONS, 0)
    except EnumError:
        errors["properties.action"] = ["The value is not valid for action."]
        action = 0
    expiration = props.get("expiration")
    if expiration is not None and (not isinstance(expiration, int) or not 1 <= expiration <= 2880):
        errors["properties.expiration"] = ["The field expiration must be between 1 and 2880."]
    level = props.get("sensitivitylevel")
    if level is not None and (not isinstance(level, int) or not 1 <= level <= 5):
        errors["properties.sensitivityLevel"] = ["The field sensitivityLevel must be between 1 and 5."]
    errors.update(_references_errors(props.get("references")))
    if errors:
        return errors
    return Submission(raw, filename, url, props, action)
