"""Which failures are safe to retry, per Copyleaks endpoint, and how long to wait between tries.

:data:`ENDPOINTS` is the one table of every call the hook makes: its method, its path and its
retry rule. The rule depends on what a repeat would cost:

* an idempotent call (a submit PUT with a deterministic scan id, a read, a delete) is retried on
  every transient failure: if the first try reached Copyleaks, the repeat is answered 409 or
  changes nothing;
* a paid synchronous check (moderation, image check, AI detection, writing feedback) is charged
  when Copyleaks receives it, so it is retried only when the request provably did not reach
  Copyleaks: 429 (refused by the rate limit), 503 (maintenance) or a connection that was never
  established. A read timeout or another 5xx may follow a charged check: those fail at once;
* a login is never retried on 429, because Copyleaks blocks logins for five minutes after one and
  every further try prolongs the block.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import Any

import tenacity

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksConnectionError


class NotSentConnectionError(CopyleaksConnectionError):
    """The connection was never established (refused, DNS, connect timeout): nothing was sent."""


class RetryRule(enum.Enum):
    """What a failed call may be retried on."""

    IDEMPOTENT = "every transient failure: 429, 5xx, connection errors and timeouts"
    NOT_REACHED = "only failures that provably did not reach Copyleaks: 429, 503, connection not established"
    LOGIN = "5xx and connection errors, never 429 (a retry prolongs Copyleaks' login block)"
    PACED = "5xx and connection errors; a 429 is left to the caller, who waits for the account's next slot"

    def allows(self, failure: BaseException) -> bool:
        """Whether ``failure`` (raised by one try) may be tried again under this rule."""
        if isinstance(failure, CopyleaksConnectionError):
            return self is not RetryRule.NOT_REACHED or isinstance(failure, NotSentConnectionError)
        if not isinstance(failure, CopyleaksApiError):
            return False
        status = failure.status
        if self is RetryRule.NOT_REACHED:
            return status in (429, 503)
        if self in (RetryRule.LOGIN, RetryRule.PACED):
            return status >= 500
        return status == 429 or status >= 500


@dataclass(frozen=True)
class Endpoint:
    """One Copyleaks call: ``path`` is a template whose ``{names}`` are URL-quoted arguments."""

    method: str
    path: str
    rule: RetryRule
    identity: bool = False  # on the identity host, not the API host
    authenticated: bool = True


_I, _N = RetryRule.IDEMPOTENT, RetryRule.NOT_REACHED

ENDPOINTS: dict[str, Endpoint] = {
    "login": Endpoint("POST", "/v3/account/login/api", RetryRule.LOGIN, identity=True, authenticated=False),
    # 409 answers a repeat, so a submit is safe to send again whatever happened to the first try.
    "submit_file": Endpoint("PUT", "/v3/scans/submit/file/{scan_id}", _I),
    "submit_ocr": Endpoint("PUT", "/v3/scans/submit/ocr/{scan_id}", _I),
    "submit_url": Endpoint("PUT", "/v3/scans/submit/url/{scan_id}", _I),
    # Starting a started scan lists it as failed and charges nothing more.
    "start": Endpoint("PATCH", "/v3/scans/start", _I),
    "delete": Endpoint("PATCH", "/v3.1/scans/delete", _I),
    "resend_webhook": Endpoint("POST", "/v3/scans/{scan_id}/webhooks/resend", _I),
    # An export id is unique per scan: a repeat is refused, never a second export. Exports are
    # limited to 10 per minute per account: a 429 waits for the next export slot (hooks/scans.py).
    "export": Endpoint("POST", "/v3/downloads/{scan_id}/export/{export_id}", RetryRule.PACED),
    "credits": Endpoint("GET", "/v3/scans/credits", _I),
    "usage_history": Endpoint("GET", "/v3/scans/usages/history", _I),
    "supported_file_types": Endpoint("GET", "/v3/miscellaneous/supported-file-types", _I, authenticated=False),
    "ocr_languages": Endpoint("GET", "/v3/miscellaneous/ocr-languages-list", _I, authenticated=False),
    "ai_text_file_types": Endpoint(
        "GET", "/v3/miscellaneous/supported-ai-text-detection-file-types", _I, authenticated=False
    ),
    "correction_types": Endpoint("GET", "/v1/writing-feedback/correction-types/{language}", _I, authenticated=False),
    # Paid when received: only what never reached Copyleaks is sent again.
    "ai_text": Endpoint("POST", "/v2/writer-detector/{scan_id}/check", _N),
    "writing_feedback": Endpoint("POST", "/v1/writing-feedback/{scan_id}/check", _N),
    "moderation": Endpoint("POST", "/v1/text-moderation/{scan_id}/check", _N),
    "image_plagiarism": Endpoint("POST", "/v1/image-plagiarism-detector/{scan_id}/check", _N),
    "ai_image": Endpoint("POST", "/v1/ai-image-detector/{scan_id}/check", _N),
}


def rule_for(method: str) -> RetryRule:
    """The rule of a call outside the table (a raw ``_request``): reads are idempotent, writes
    are assumed to cost something."""
    return RetryRule.IDEMPOTENT if method.upper() in ("GET", "HEAD", "PUT", "DELETE") else RetryRule.NOT_REACHED


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are waited on and bounded (which ones: :class:`RetryRule`)."""

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

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        status = failure.status if isinstance(failure, CopyleaksApiError) else None
        return self.wait_before(state.attempt_number - 1, status)

    def retrying(self, rule: RetryRule, before_sleep: Any = None) -> tenacity.Retrying:
        """A tenacity ``Retrying`` that applies ``rule`` within this policy's bounds."""
        return tenacity.Retrying(**self._arguments(rule, before_sleep))

    def async_retrying(self, rule: RetryRule, before_sleep: Any = None) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(**self._arguments(rule, before_sleep))

    def _arguments(self, rule: RetryRule, before_sleep: Any) -> dict[str, Any]:
        return {
            "retry": tenacity.retry_if_exception(rule.allows),
            "wait": self._wait,
            "stop": tenacity.stop_after_attempt(self.max_retries + 1)
            | tenacity.stop_before_delay(self.max_total_seconds),
            "before_sleep": before_sleep,
            "reraise": True,
        }
