"""Exceptions raised by the provider.

Copyleaks answers errors in several shapes (REFERENCE.md §12): the unified ``error`` envelope,
ASP.NET ModelState dictionaries, RFC 9110 problem details, plain text. :class:`CopyleaksApiError`
normalises all of them into a status, a Copyleaks code and a message, and never carries the
request's credentials.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class CopyleaksError(AirflowException):
    """Base class of every error this provider raises."""


class CopyleaksValidationError(CopyleaksError, ValueError):
    """Input Copyleaks would refuse, caught before any call (nothing is sent, nothing is paid).

    ``field`` names the offending input and ``limit`` states the rule it broke.
    """

    def __init__(self, field: str, message: str, *, limit: str | None = None) -> None:
        self.field = field
        self.limit = limit
        text = f"{field}: {message}"
        if limit:
            text += f" (limit: {limit})"
        super().__init__(text)


class CopyleaksApiError(CopyleaksError):
    """Copyleaks answered with an error status."""

    retryable = False

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | str | None = None,
        error_id: str | None = None,
        scan_id: str | None = None,
        endpoint: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.error_id = error_id
        self.message = message
        self.scan_id = scan_id
        self.endpoint = endpoint
        self.details = details or []
        parts = [f"Copyleaks answered {status}"]
        if endpoint:
            parts.append(f"on {endpoint}")
        if scan_id:
            parts.append(f"for scan {scan_id!r}")
        text = " ".join(parts) + f": {message}"
        if code is not None:
            text += f" (code {code})"
        super().__init__(text)


class CopyleaksAuthError(CopyleaksApiError):
    """Login refused or the token was not accepted (401)."""


class CopyleaksPaymentError(CopyleaksApiError):
    """Not enough credits (402, or Copyleaks codes 13 and 17)."""


class CopyleaksNotFoundError(CopyleaksApiError):
    """Unknown scan or resource (404)."""


class CopyleaksConflictError(CopyleaksApiError):
    """The id is taken (409): for a deterministic scan id this means "already submitted"."""


class CopyleaksRateLimitError(CopyleaksApiError):
    """Too many requests (429), still failing after the hook's retries."""

    retryable = True


class CopyleaksUnavailableError(CopyleaksApiError):
    """Maintenance (503) or a server error (5xx), still failing after the hook's retries."""

    retryable = True


class CopyleaksConnectionError(CopyleaksError):
    """Copyleaks could not be reached (connection refused, reset or timed out) after retries."""

    retryable = True


class CopyleaksScanFailed(CopyleaksError, AirflowFailException):
    """A scan ended with Copyleaks' ``error`` webhook.

    Retrying the task would change nothing (the scan id is spent and its error is stored), so it
    fails without retrying; ``force_new_scan`` in a new run scans again.
    """

    def __init__(self, scan_id: str, code: int | str | None, message: str) -> None:
        self.scan_id = scan_id
        self.code = code
        self.message = message
        super().__init__(f"Copyleaks scan {scan_id!r} failed with code {code}: {message}")


class CopyleaksPolicyViolation(CopyleaksError, AirflowFailException):
    """An editorial policy (moderation, image, AI, writing) failed the task on purpose.

    A verdict does not change on retry, so the task fails without retrying.
    """


# The checks' first name for the same error; kept so that existing ``except`` clauses still match.
CheckPolicyViolation = CopyleaksPolicyViolation


class CheckItemsFailed(CopyleaksError):
    """Some items of a synchronous check could not be checked; a retry may help (rate limits,
    outages) and pays nothing twice, since the items already checked answer 409 and come from the
    store."""


class CheckItemsInvalid(CheckItemsFailed, AirflowFailException):
    """Every failed item failed for a reason a retry cannot fix (bad input, refused request)."""
