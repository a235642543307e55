"""A login Copyleaks refused, shared by every process of the account until it lifts.

Copyleaks blocks an account's logins for five minutes after too many (429), and every further
try during the block extends it. So the first refusal is written to the store with its cause and
the time it lifts, and every other process fails fast with that message instead of trying. A
refused key (401) or maintenance (503) is recorded the same way, for as long as a retry is
pointless.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta, timezone
from typing import TYPE_CHECKING

from airflow_copyleaks import config
from airflow_copyleaks.exceptions import (
    CopyleaksApiError,
    CopyleaksAuthError,
    CopyleaksRateLimitError,
    CopyleaksUnavailableError,
)

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.backends import TokenBackend

# How long each refusal holds: Copyleaks' documented login block; a key that stays wrong until
# someone changes it (a new key is another account id, so the change lifts it at once); the
# minute Copyleaks asks for after maintenance.
BLOCK_SECONDS = {429: 300.0, 401: 900.0, 503: 60.0}
FORCED_REFRESH_SECONDS = 60.0
_ERRORS: dict[int, type[CopyleaksApiError]] = {
    429: CopyleaksRateLimitError,
    401: CopyleaksAuthError,
    503: CopyleaksUnavailableError,
}


class LoginBlocks:
    """The account's shared login refusals, read before any login and written after one fails.

    :param backend: where refusals are shared (the ScanStore, or the process's memory backend).
    :param account_id: the account's derived id (never its email or key).
    """

    def __init__(self, backend: TokenBackend, account_id: str) -> None:
        self._backend = backend
        self._account_id = account_id
        self.shared = config.get_bool("shared_login_block")

    def raise_if_blocked(self) -> None:
        """Fail fast with the recorded refusal while it holds."""
        if not self.shared:
            return
        block = self._backend.get_login_block(self._account_id)
        if block is None:
            return
        status, cause, lifts_at = block
        message = (
            f"Copyleaks refused a login of this account ({cause}); not logging in again until "
            f"{lifts_at.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC, when the refusal lifts"
        )
        raise _ERRORS.get(status, CopyleaksApiError)(status, message, endpoint="login")

    def record(self, err: CopyleaksApiError) -> None:
        """Remember a refused login for everyone, if it is a refusal that a retry would not fix."""
        seconds = BLOCK_SECONDS.get(err.status)
        if not self.shared or seconds is None:
            return
        # On the database's clock, which every process compares with: a host whose clock is
        # behind would otherwise write a block that the others already read as lifted.
        lifts_at = self._backend.db_now() + timedelta(seconds=seconds)
        self._backend.record_login_block(self._account_id, err.status, f"{err.status}: {err.message}", lifts_at)

    def clear(self) -> None:
        if self.shared:
            self._backend.clear_login_block(self._account_id)

    def allow_forced_refresh(self, refused_token: str) -> None:
        """At most one forced refresh (a token Copyleaks refused) per account per minute.

        The lease is held in the refused token's name: every process refusing the same token
        shares the one refresh; a token refused within a minute of the last refresh is not.
        """
        holder = hashlib.sha256(refused_token.encode()).hexdigest()[:40]
        if not self._backend.try_acquire_lease(f"refresh:{self._account_id}", holder, FORCED_REFRESH_SECONDS):
            raise CopyleaksAuthError(
                401,
                "Copyleaks refused a token renewed less than a minute ago; not logging in again "
                "(at most one forced refresh per account per minute)",
                endpoint="login",
            )
