"""CopyleaksHook: the only code that speaks HTTP to Copyleaks.

It owns login and the shared token (:mod:`.token_cache`), the request-rate limit
(:mod:`.rate_limit`), retries with backoff, timeouts, input validation before each call, and the
mapping of Copyleaks' error shapes to typed exceptions. Operators never build Copyleaks URLs.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

import requests
from airflow.sdk import BaseHook

from airflow_copyleaks import config
from airflow_copyleaks import validation as v
from airflow_copyleaks.exceptions import (
    CopyleaksApiError,
    CopyleaksAuthError,
    CopyleaksConflictError,
    CopyleaksConnectionError,
    CopyleaksError,
    CopyleaksNotFoundError,
    CopyleaksPaymentError,
    CopyleaksRateLimitError,
    CopyleaksUnavailableError,
    CopyleaksValidationError,
)
from airflow_copyleaks.hooks.rate_limit import RateLimiter, SharedRateLimiter
from airflow_copyleaks.hooks.token_cache import Token, TokenCache, parse_copyleaks_time
from airflow_copyleaks.masking import mask

DEFAULT_API_URL = "https://api.copyleaks.com"
DEFAULT_IDENTITY_URL = "https://id.copyleaks.com"
USER_AGENT = "airflow-provider-copyleaks"

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


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures (429, 503, 5xx, connection errors) are retried."""

    max_retries: int = 5
    base_seconds: float = 1.0  # waits base * 2**n plus jitter: 1+r, 2+r, 4+r ... as Copyleaks advises
    jitter_seconds: float = 1.0
    max_wait_seconds: float = 60.0
    max_total_seconds: float = 600.0
    maintenance_wait_seconds: float = 60.0  # "wait a full minute" after a 503

    def wait_before(self, attempt: int, status: int | None) -> float:
        if status == 503:
            return self.maintenance_wait_seconds + random.uniform(0, self.jitter_seconds)
        backoff = self.base_seconds * (2**attempt) + random.uniform(0, self.jitter_seconds)
        return min(backoff, self.max_wait_seconds)


def _is_retryable(status: int) -> bool:
    return status == 429 or status >= 500


class CopyleaksHook(BaseHook):
    """Talk to the Copyleaks API with a connection of type ``copyleaks``.

    :param copyleaks_conn_id: Connection with Login = account email, Password = API key and the
        fields ``api_base_url``, ``identity_base_url``, ``sandbox``, ``webhook_base_url``,
        ``requests_per_second``, ``timeout_seconds`` and ``max_retries``.
    :param store: The ScanStore that holds the shared token cache (default: the configured one).
    :param retry_policy: Override the connection's retry settings (tests use short waits).
    """

    conn_name_attr = "copyleaks_conn_id"
    default_conn_name = "copyleaks_default"
    conn_type = "copyleaks"
    hook_name = "Copyleaks"

    def __init__(
        self,
        copyleaks_conn_id: str = default_conn_name,
        *,
        store: Any | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.copyleaks_conn_id = copyleaks_conn_id
        self._store = store
        self._retry_override = retry_policy
        self._settings: _Settings | None = None
        self._token_cache: TokenCache | None = None
        self._limiter: RateLimiter | SharedRateLimiter | None = None
        self._masked_token: str | None = None
        self._local = threading.local()
        self.stats = {"requests": 0, "retries": 0, "rate_limited": 0, "logins": 0}
        self._stats_lock = threading.Lock()
        self._settings_lock = threading.Lock()

    # ----------------------------------------------------------------------------- connection

    @classmethod
    def from_connection(cls, conn: Any, *, store: Any | None = None) -> CopyleaksHook:
        """A hook for a connection already read (e.g. on the triggerer's async path)."""
        hook = cls(conn.conn_id or cls.default_conn_name, store=store)
        hook._settings = _Settings.from_connection(conn, None)
        mask(hook._settings.api_key)
        return hook

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_copyleaks.get_provider_info import get_provider_info

        return get_provider_info()["connection-types"][0]["ui-field-behaviour"]

    @property
    def settings(self) -> _Settings:
        with self._settings_lock:  # batches share one hook across threads
            if self._settings is None:
                conn = self.get_connection(self.copyleaks_conn_id)
                self._settings = _Settings.from_connection(conn, self._retry_override)
                mask(self._settings.api_key)
            return self._settings

    @property
    def sandbox(self) -> bool:
        """The connection's default for ``sandbox`` (operators may override it per call)."""
        return self.settings.sandbox

    @property
    def webhook_base_url(self) -> str | None:
        return self.settings.webhook_base_url

    def get_conn(self) -> requests.Session:
        """A requests session for the calling thread (sessions are not shared across threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
            self._local.session = session
        return session

    def test_connection(self) -> tuple[bool, str]:
        """Log in (fresh, not from the cache) and read the credit balance."""
        try:
            token = self._login()
            credits = self._request("GET", "/v3/scans/credits", token=token.access_token)
        except CopyleaksAuthError:
            return False, "Copyleaks refused the email and API key (401). Check Login and Password."
        except Exception as err:
            return False, f"Could not log in to Copyleaks: {err}"
        amount = credits.get("Amount", credits.get("amount")) if isinstance(credits, dict) else None
        return True, f"Logged in to Copyleaks as {self.settings.email}; {amount} credits left."

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    # ----------------------------------------------------------------------------- token

    @property
    def token_cache(self) -> TokenCache:
        s = self.settings
        with self._settings_lock:
            if self._token_cache is None:
                from airflow_copyleaks.store import get_store

                self._token_cache = TokenCache(
                    self._store or get_store(), identity_url=s.identity_url, email=s.email, api_key=s.api_key
                )
            return self._token_cache

    @property
    def rate_limiter(self) -> RateLimiter | SharedRateLimiter:
        """The account's request-rate limit: shared through the store unless configured off."""
        s = self.settings
        with self._settings_lock:
            if self._limiter is None:
                account = f"{s.api_url}\n{s.email.lower()}"
                if config.get_bool("shared_rate_limit"):
                    from airflow_copyleaks.store import get_store

                    self._limiter = SharedRateLimiter(self._store or get_store(), account, s.requests_per_second)
                else:
                    self._limiter = RateLimiter.for_account(account, s.requests_per_second)
            return self._limiter

    def get_token(self) -> Token:
        token = self.token_cache.get(self._login)
        if token.access_token != self._masked_token:
            # Most processes read the token from the shared cache without logging in: mask it here.
            mask(token.access_token)
            self._masked_token = token.access_token
        return token

    def _login(self) -> Token:
        s = self.settings
        body = self._send(
            "POST",
            f"{s.identity_url}/v3/account/login/api",
            json_body={"email": s.email, "key": s.api_key},
            endpoint="login",
            token=None,
        )
        if not isinstance(body, dict) or "access_token" not in body:
            raise CopyleaksApiError(200, "login answered without an access_token", endpoint="login")
        self._count("logins")
        self.log.info("Logged in to Copyleaks as %s", s.email)
        expires = parse_copyleaks_time(body[".expires"])
        issued = parse_copyleaks_time(body[".issued"]) if body.get(".issued") else datetime.now(timezone.utc)
        # The old docs' example shows .issued == .expires; never let that make every token stale.
        if issued >= expires:
            issued = min(datetime.now(timezone.utc), expires)
        return Token(body["access_token"], expires, issued)

    # ----------------------------------------------------------------------------- HTTP core

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        scan_id: str | None = None,
        authenticated: bool = True,
        token: str | None = None,
        raw: bool = False,
    ) -> Any:
        """Call the API host; on a 401 drop the cached token and try once more with a new one."""
        url = self.settings.api_url + path
        endpoint = f"{method} {path.split('?')[0]}"
        for attempt in range(2):
            current: Token | None = None
            if authenticated and token is None:
                current = self.get_token()
            try:
                return self._send(
                    method,
                    url,
                    json_body=json_body,
                    files=files,
                    data=data,
                    params=params,
                    endpoint=endpoint,
                    scan_id=scan_id,
                    token=token or (current.access_token if current else None),
                    raw=raw,
                )
            except CopyleaksAuthError:
                if current is None or attempt == 1:
                    raise
                self.log.info("Copyleaks did not accept the cached token (401); logging in again")
                self.token_cache.invalidate(current)
        raise AssertionError("unreachable")

    def _send(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        token: str | None,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        scan_id: str | None = None,
        raw: bool = False,
    ) -> Any:
        """One logical request: rate-limited, timed out, retried on transient failures."""
        s = self.settings
        policy = s.retry_policy
        limiter = self.rate_limiter
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        attempt = 0
        while True:
            limiter.acquire()
            self._count("requests")
            status: int | None = None
            failure: Exception
            try:
                response = self.get_conn().request(
                    method,
                    url,
                    json=json_body,
                    files=files,
                    data=data,
                    params=params,
                    headers=headers,
                    timeout=(min(10.0, s.timeout_seconds), s.timeout_seconds),
                    # A redirect would carry the login body (the API key) to another location.
                    allow_redirects=False,
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
                failure = CopyleaksConnectionError(f"{endpoint}: {type(err).__name__}: {_strip_secrets(err)}")
            except requests.RequestException as err:
                # A request that cannot be made (a bad URL or header): its message may quote a
                # header value, so only its kind is told. Not transient: no retry.
                raise CopyleaksError(f"{endpoint}: the request could not be made ({type(err).__name__})") from None
            else:
                if 300 <= response.status_code < 400:
                    raise CopyleaksApiError(
                        response.status_code, "answered with a redirect, which is not followed", endpoint=endpoint
                    )
                if response.ok:
                    return _decode(response, raw)
                status = response.status_code
                failure = _error_from_response(response, endpoint=endpoint, scan_id=scan_id)
                # After a login 429 Copyleaks blocks the account's logins for 5 minutes: retrying
                # within seconds would only prolong the block. The task's own retry comes later.
                if not _is_retryable(status) or (status == 429 and endpoint == "login"):
                    raise failure
                if status == 429:
                    self._count("rate_limited")
            wait = policy.wait_before(attempt, status)
            elapsed = time.monotonic() - started
            if attempt >= policy.max_retries or elapsed + wait > policy.max_total_seconds:
                raise failure
            attempt += 1
            self._count("retries")
            self.log.warning("%s; retry %d/%d in %.1fs", failure, attempt, policy.max_retries, wait)
            time.sleep(wait)

    # ----------------------------------------------------------------------------- scans

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
            path = f"/v3/scans/submit/ocr/{_quote(scan_id)}"
        elif kind == "file":
            path = f"/v3/scans/submit/file/{_quote(scan_id)}"
        else:
            raise CopyleaksValidationError("kind", f"unknown submission kind {kind!r}", limit="file or ocr")
        self._request("PUT", path, json_body=body, scan_id=scan_id)

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
        self._request("PUT", f"/v3/scans/submit/url/{_quote(scan_id)}", json_body=body, scan_id=scan_id)

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
        action = props.get("action", 0)
        if isinstance(action, str):
            key = action.lower()
            if key not in SUBMIT_ACTIONS:
                raise CopyleaksValidationError(
                    "properties.action", f"unknown action {action!r}", limit="scan, check-credits, index-only"
                )
            props["action"] = SUBMIT_ACTIONS[key]
        elif action not in (0, 1, 2):
            raise CopyleaksValidationError("properties.action", f"is {action!r}", limit="0, 1 or 2")
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
        body = self._request("PATCH", "/v3/scans/start", json_body={"trigger": ids, "errorHandling": mode})
        body = body if isinstance(body, dict) else {}
        # The Java SDK models entries as {"id": ...}; the docs show plain strings. Accept both.
        return {key: [_id_of(item) for item in body.get(key) or []] for key in ("success", "failed")}

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
        self._request("PATCH", "/v3.1/scans/delete", json_body=body)

    def resend_webhook(self, scan_id: str) -> None:
        """Ask Copyleaks to send the scan's last status webhook again."""
        v.validate_scan_id(scan_id)
        self._request("POST", f"/v3/scans/{_quote(scan_id)}/webhooks/resend", scan_id=scan_id)

    def export(self, scan_id: str, export_id: str, body: Mapping[str, Any]) -> None:
        """Ask Copyleaks to push results, the PDF report and the crawled version to ``body``'s endpoints."""
        v.validate_scan_id(scan_id)
        v.validate_scan_id(export_id, field="export_id")
        if not body.get("completionWebhook"):
            raise CopyleaksValidationError("completionWebhook", "is required")
        v.validate_max_retries(body.get("maxRetries", 3), field="maxRetries")
        v.validate_developer_payload(body.get("developerPayload"), field="developerPayload")
        path = f"/v3/downloads/{_quote(scan_id)}/export/{_quote(export_id)}"
        self._request("POST", path, json_body=dict(body), scan_id=scan_id)

    # ----------------------------------------------------------------------------- account

    def get_credits(self) -> int:
        body = self._request("GET", "/v3/scans/credits")
        return int(body.get("Amount", body.get("amount", 0)))

    def get_usage_history(self, start: date, end: date) -> str:
        """The account's usage between two dates, as the CSV Copyleaks returns."""
        if end < start:
            raise CopyleaksValidationError("end", f"{end} is before start {start}")
        params = {"start": start.strftime("%d-%m-%Y"), "end": end.strftime("%d-%m-%Y")}
        raw = self._request("GET", "/v3/scans/usages/history", params=params, raw=True)
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)

    def get_supported_file_types(self) -> dict[str, list[str]]:
        return self._request("GET", "/v3/miscellaneous/supported-file-types", authenticated=False)

    def get_ocr_languages(self) -> list[str]:
        return self._request("GET", "/v3/miscellaneous/ocr-languages-list", authenticated=False)

    def get_ai_text_file_types(self) -> dict[str, list[str]]:
        return self._request("GET", "/v3/miscellaneous/supported-ai-text-detection-file-types", authenticated=False)

    def get_correction_types(self, language: str = "en") -> dict[str, Any]:
        return self._request("GET", f"/v1/writing-feedback/correction-types/{_quote(language)}", authenticated=False)

    # ----------------------------------------------------------------------------- sync checks

    def detect_ai_text(
        self,
        scan_id: str,
        text: str,
        *,
        sandbox: bool | None = None,
        language: str | None = None,
        explain: bool = False,
        sensitivity: int | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_text_length(text, minimum=v.AI_DETECTION_TEXT_MIN, maximum=v.AI_DETECTION_TEXT_MAX)
        if sensitivity is not None and sensitivity not in (1, 2, 3):
            raise CopyleaksValidationError("sensitivity", f"is {sensitivity!r}", limit="1 to 3")
        body = _without_none(
            {"text": text, "sandbox": self._sandbox(sandbox), "language": language, "explain": explain or None,
             "sensitivity": sensitivity}
        )  # fmt: skip
        return self._request("POST", f"/v2/writer-detector/{_quote(scan_id)}/check", json_body=body, scan_id=scan_id)

    def writing_feedback(
        self,
        scan_id: str,
        text: str,
        *,
        sandbox: bool | None = None,
        language: str | None = None,
        score_weights: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_text_length(text, minimum=1, maximum=v.WRITING_FEEDBACK_TEXT_MAX)
        for name, weight in (score_weights or {}).items():
            if not 0.0 <= float(weight) <= 1.0:
                raise CopyleaksValidationError(f"score_weights.{name}", f"is {weight}", limit="0.0 to 1.0")
        body = _without_none(
            {"text": text, "sandbox": self._sandbox(sandbox), "language": language,
             "score": dict(score_weights) if score_weights else None}
        )  # fmt: skip
        return self._request("POST", f"/v1/writing-feedback/{_quote(scan_id)}/check", json_body=body, scan_id=scan_id)

    def moderate_text(
        self,
        scan_id: str,
        text: str,
        *,
        labels: Sequence[str] | None = None,
        sandbox: bool | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_text_length(text, minimum=1, maximum=v.MODERATION_TEXT_MAX)
        chosen = v.validate_moderation_labels(labels)
        body = _without_none(
            {"text": text, "sandbox": self._sandbox(sandbox), "language": language,
             "labels": [{"id": label} for label in chosen]}
        )  # fmt: skip
        return self._request("POST", f"/v1/text-moderation/{_quote(scan_id)}/check", json_body=body, scan_id=scan_id)

    def check_image_plagiarism(
        self,
        scan_id: str,
        image: bytes,
        filename: str,
        *,
        sandbox: bool | None = None,
        developer_payload: str | None = None,
    ) -> dict[str, Any]:
        """Image plagiarism check (multipart upload); validated from the image header first."""
        v.validate_scan_id(scan_id)
        v.validate_image_for_check(image, filename)
        v.validate_developer_payload(developer_payload)
        form = _without_none(
            {"filename": filename, "sandbox": "true" if self._sandbox(sandbox) else "false",
             "developerPayload": developer_payload}
        )  # fmt: skip
        return self._request(
            "POST",
            f"/v1/image-plagiarism-detector/{_quote(scan_id)}/check",
            files={"image": (filename, image, "application/octet-stream")},
            data=form,
            scan_id=scan_id,
        )

    def detect_ai_image(
        self,
        scan_id: str,
        image: bytes,
        filename: str,
        *,
        model: str = "ai-image-1-ultra",
        sandbox: bool | None = None,
    ) -> dict[str, Any]:
        v.validate_scan_id(scan_id)
        v.validate_filename(filename, allowed={"png", "bmp", "jpg", "jpeg", "webp", "heic", "heif"})
        if len(image) >= 32 * v.MB:
            raise CopyleaksValidationError("image", f"is {len(image) / v.MB:.1f} MB", limit="less than 32 MB")
        info = v.read_image_header(image)
        if info is not None and (info.width < 512 or info.height < 512):
            raise CopyleaksValidationError("image", f"is {info.width}x{info.height}", limit="at least 512x512 pixels")
        if info is not None and info.width * info.height > v.AI_IMAGE_MAX_PIXELS:
            raise CopyleaksValidationError(
                "image", f"has {info.width * info.height / 1e6:.1f} megapixels", limit="27 megapixels (6000x4500)"
            )
        form = {
            "filename": filename,
            "model": model,
            "sandbox": "true" if self._sandbox(sandbox) else "false",
        }
        return self._request(
            "POST",
            f"/v1/ai-image-detector/{_quote(scan_id)}/check",
            files={"image": (filename, image, "application/octet-stream")},
            data=form,
            scan_id=scan_id,
        )

    def _sandbox(self, override: bool | None) -> bool:
        return self.settings.sandbox if override is None else bool(override)


# --------------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Settings:
    email: str
    api_key: str = field(repr=False)
    api_url: str
    identity_url: str
    sandbox: bool
    webhook_base_url: str | None
    requests_per_second: float
    timeout_seconds: float
    retry_policy: RetryPolicy

    @classmethod
    def from_connection(cls, conn: Any, override: RetryPolicy | None) -> _Settings:
        extra = conn.extra_dejson or {}
        if not conn.login or not conn.password:
            raise CopyleaksValidationError(
                "connection", f"{conn.conn_id!r} needs Login (account email) and Password (API key)"
            )
        policy = override or RetryPolicy(
            max_retries=int(extra.get("max_retries", 5)),
            base_seconds=float(extra.get("retry_base_seconds", 1.0)),
            jitter_seconds=float(extra.get("retry_jitter_seconds", 1.0)),
            maintenance_wait_seconds=float(extra.get("maintenance_wait_seconds", 60.0)),
        )
        return cls(
            email=conn.login,
            api_key=conn.password,
            api_url=str(extra.get("api_base_url") or DEFAULT_API_URL).rstrip("/"),
            identity_url=str(
                extra.get("identity_base_url") or extra.get("api_base_url") or DEFAULT_IDENTITY_URL
            ).rstrip("/"),
            sandbox=config.as_bool(extra.get("sandbox", True)),
            webhook_base_url=(str(extra["webhook_base_url"]).rstrip("/") if extra.get("webhook_base_url") else None),
            requests_per_second=float(extra.get("requests_per_second", 10)),
            # Longer than Copyleaks' own 110 s, so a slow but successful check is not cut short.
            timeout_seconds=float(extra.get("timeout_seconds", 120)),
            retry_policy=policy,
        )


def _quote(ident: str) -> str:
    return quote(ident, safe="")


def _id_of(item: Any) -> str:
    return str(item.get("id")) if isinstance(item, dict) else str(item)


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: val for k, val in values.items() if val is not None}


def _strip_secrets(err: Exception) -> str:
    # requests puts the URL (never a key: keys travel in bodies and headers) in its messages.
    return str(err).split("(Caused by")[0].strip()


def _decode(response: requests.Response, raw: bool) -> Any:
    if raw:
        return response.content
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return response.text


_ERROR_CLASSES: dict[int, type[CopyleaksApiError]] = {
    401: CopyleaksAuthError,
    402: CopyleaksPaymentError,
    404: CopyleaksNotFoundError,
    409: CopyleaksConflictError,
    429: CopyleaksRateLimitError,
}


def _field_problems(errors: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """``{"field": ["problem", ...]}`` as one line of text, and as ``details``."""
    text = "; ".join(
        f"{field}: {'; '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}" for field, msgs in errors.items()
    )
    return text, [{"param": field, "message": msgs} for field, msgs in errors.items()]


def _error_from_response(response: requests.Response, *, endpoint: str, scan_id: str | None) -> CopyleaksApiError:
    """Normalise the error shapes of REFERENCE.md §12 into one exception."""
    status = response.status_code
    code: int | str | None = None
    error_id: str | None = None
    details: list[dict[str, Any]] = []
    message = response.reason or "error"
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text.strip()
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # the unified envelope
            code, error_id = error.get("code"), error.get("id")
            message = str(error.get("message") or message)
            details = [d for d in error.get("details") or [] if isinstance(d, dict)]
        elif isinstance(error, str):  # login 429: {"error": "Rate limit exceeded"}
            message = error
        elif "title" in body and "status" in body:  # RFC 9110 problem details
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
    if status == 503:
        return CopyleaksUnavailableError(
            status,
            f"Copyleaks is under maintenance: {message}",
            code=code,
            scan_id=scan_id,
            endpoint=endpoint,
        )
    cls = _ERROR_CLASSES.get(status)
    if cls is None:
        cls = CopyleaksUnavailableError if status >= 500 else CopyleaksApiError
    if code in (13, 17, "13", "17"):
        cls = CopyleaksPaymentError
    return cls(status, message, code=code, error_id=error_id, scan_id=scan_id, endpoint=endpoint, details=details)


def chunked(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def dumps_small(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
