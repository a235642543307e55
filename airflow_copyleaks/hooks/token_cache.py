"""One Copyleaks login per account per token lifetime, shared by every process (decision 3).

Copyleaks allows 12 logins per 15 minutes while a token lives 48 hours, and Airflow runs each
task in its own process. The token therefore lives in the ScanStore, which every component
opens, encrypted with a key derived from the API key: only holders of the key can read it.
A lease in the store makes sure that a cold cache under concurrency produces a single login;
the other processes wait for the winner's token instead of logging in themselves.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from airflow_copyleaks.exceptions import CopyleaksApiError
from airflow_copyleaks.hooks.login_block import LoginBlocks

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.backends import TokenBackend

log = logging.getLogger(__name__)

# Refresh this long before ``.expires``: a task that starts a long batch must not find its
# token expiring halfway (the SDKs use 5 minutes; a batch can run longer). Short-lived tokens
# (an emulator set up to expire them) are refreshed in the last quarter of their life instead.
REFRESH_MARGIN = timedelta(minutes=30)
REFRESH_FRACTION = 0.25
LOGIN_LEASE_SECONDS = 30.0
_WAIT_STEP_SECONDS = 0.05


@dataclass(frozen=True)
class Token:
    access_token: str = field(repr=False)
    expires_at: datetime
    issued_at: datetime

    def fresh(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        margin = min(REFRESH_MARGIN, (self.expires_at - self.issued_at) * REFRESH_FRACTION)
        return self.expires_at - margin > now


def parse_copyleaks_time(value: str) -> datetime:
    """Parse ``.issued``/``.expires`` (7 fraction digits and an offset or ``Z``)."""
    text = value.strip().replace("Z", "+00:00")
    if "." in text:
        head, _, rest = text.partition(".")
        # The fraction is the leading run of digits; the offset's digits (+02:00) are not part of it.
        digits = re.match(r"\d*", rest).group()  # type: ignore[union-attr]
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}" if digits else f"{head}{zone}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # an offset-less time is UTC by Copyleaks' examples
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


class TokenCache:
    """Encrypted cache of one account's token, shared by every process that uses ``store``
    (a ScanStore, or the process's :class:`~.backends.MemoryBackend`).

    :param store: where the encrypted token and its login lease are kept.
    :param identity_url: Copyleaks' identity server the token comes from.
    :param email: the account's email.
    :param api_key: the account's API key (also the encryption key's source; never stored).
    """

    # Tokens already decrypted in this process, keyed by account id: saves a store read and a
    # decryption per request. The store stays the source of truth across processes.
    _memory: dict[str, tuple[Token, bytes]] = {}
    _refused: dict[str, str] = {}  # the last token Copyleaks refused, per account
    _memory_lock = threading.Lock()
    # Threads of one process queue here before the store lease, so a batch on a thread pool
    # with a cold cache logs in once; the lease does the same across processes.
    _login_locks: dict[str, threading.Lock] = {}

    def __init__(self, store: TokenBackend, *, identity_url: str, email: str, api_key: str) -> None:
        self._store = store
        self.account_id = hashlib.sha256(f"{identity_url}\n{email.lower()}\n{api_key}".encode()).hexdigest()
        key = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"airflow-copyleaks/token-cache/v1",
            info=email.encode(),
        ).derive(api_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        with self._memory_lock:
            self._login_lock = self._login_locks.setdefault(self.account_id, threading.Lock())
        self.blocks = LoginBlocks(store, self.account_id)

    def get(self, login: Callable[[], Token], *, wait_seconds: float = 60.0) -> Token:
        """A fresh token: from memory, from the store, or from one login for all processes."""
        cached = self._cached()
        if cached is not None:
            return cached
        self.blocks.raise_if_blocked()
        with self._login_lock:
            return self._get_or_login(login, wait_seconds)

    def _get_or_login(self, login: Callable[[], Token], wait_seconds: float) -> Token:
        cached = self._cached()
        if cached is not None:
            return cached
        deadline = time.monotonic() + wait_seconds
        lease = f"login:{self.account_id}"
        holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        while True:
            if self._store.try_acquire_lease(lease, holder, LOGIN_LEASE_SECONDS):
                try:
                    # Another process may have logged in between our read and the lease.
                    cached = self._cached()
                    if cached is not None:
                        return cached
                    self.blocks.raise_if_blocked()  # refused while we waited for the lease
                    with self._lease_kept(lease, holder):  # a slow login must not lose it midway
                        token = self._login(login)
                    self._save(token)
                    return token
                finally:
                    self._store.release_lease(lease, holder)
            time.sleep(_WAIT_STEP_SECONDS)
            cached = self._cached()
            if cached is not None:
                return cached
            self.blocks.raise_if_blocked()
            if time.monotonic() > deadline:
                raise TimeoutError("timed out waiting for another process to log in to Copyleaks")

    def _login(self, login: Callable[[], Token]) -> Token:
        try:
            token = login()
        except CopyleaksApiError as err:
            self.blocks.record(err)
            raise
        self.blocks.clear()
        return token

    @contextlib.contextmanager
    def _lease_kept(self, lease: str, holder: str) -> Iterator[None]:
        """Renew ``lease`` while the block runs: a login that retries 5xx answers can outlast
        LOGIN_LEASE_SECONDS, and another process would then log in too."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(LOGIN_LEASE_SECONDS / 3):
                try:
                    self._store.try_acquire_lease(lease, holder, LOGIN_LEASE_SECONDS)
                except Exception as err:  # the store hiccuped: the next renewal may get through
                    log.warning("Could not renew the Copyleaks login lease: %s", type(err).__name__)

        keeper = threading.Thread(target=renew, name="copyleaks-login-lease", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()

    def invalidate(self, token: Token) -> None:
        """Forget ``token`` (Copyleaks answered 401), unless another process already replaced it.

        Raises :class:`CopyleaksAuthError` rather than forcing a second refresh within a minute.
        """
        with self._memory_lock:
            # Never handed out again by this process, even if a thread reads it back from the
            # store before the deletion below lands.
            self._refused[self.account_id] = token.access_token
            entry = self._memory.get(self.account_id)
            if entry and entry[0].access_token == token.access_token:
                del self._memory[self.account_id]
            else:
                entry = None
        if entry is None:
            row = self._store.get_token(self.account_id)
            if row is None or self._decrypt(row[0]) != token:
                return
            entry = (token, row[0])
        self.blocks.allow_forced_refresh(token.access_token)
        self._store.delete_token(self.account_id, only_if=entry[1])

    def _cached(self) -> Token | None:
        with self._memory_lock:
            entry = self._memory.get(self.account_id)
        if entry and entry[0].fresh():
            return entry[0]
        row = self._store.get_token(self.account_id)
        if row is None:
            return None
        token = self._decrypt(row[0])
        if token is None or not token.fresh():
            return None
        with self._memory_lock:
            if self._refused.get(self.account_id) == token.access_token:
                return None
            self._memory[self.account_id] = (token, row[0])
        return token

    def _save(self, token: Token) -> None:
        payload = json.dumps(
            {"t": token.access_token, "e": token.expires_at.isoformat(), "i": token.issued_at.isoformat()}
        ).encode()
        ciphertext = self._fernet.encrypt(payload)
        self._store.put_token(self.account_id, ciphertext, token.expires_at)
        with self._memory_lock:
            self._memory[self.account_id] = (token, ciphertext)

    def _decrypt(self, ciphertext: bytes) -> Token | None:
        try:
            data = json.loads(self._fernet.decrypt(ciphertext))
        except (InvalidToken, ValueError):
            return None  # written with another API key (the key was rotated): log in again
        return Token(data["t"], datetime.fromisoformat(data["e"]), datetime.fromisoformat(data["i"]))

    @classmethod
    def clear_memory(cls) -> None:
        with cls._memory_lock:
            cls._memory.clear()
            cls._refused.clear()
