"""CopyleaksHook: the only code that speaks HTTP to Copyleaks.

It owns login and the shared token (:mod:`.token_cache`), the request-rate limit
(:mod:`.rate_limit`), and sends through :mod:`.transport` (the HTTP provider's session, tenacity
retries under the per-endpoint rules of :mod:`.retry`, errors typed by :mod:`.errors`). The
endpoints themselves live by product in :mod:`.scans`, :mod:`.sync_checks` and :mod:`.account`.
Operators never build Copyleaks URLs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import requests
from airflow.sdk import BaseHook

from airflow_copyleaks import config
from airflow_copyleaks import validation as v
from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksAuthError
from airflow_copyleaks.hooks.account import AccountEndpoints
from airflow_copyleaks.hooks.backends import MemoryBackend, RequestLimiter, open_backend
from airflow_copyleaks.hooks.endpoints import chunked, dumps_small, quote_id
from airflow_copyleaks.hooks.rate_limit import RateLimiter, SharedRateLimiter, WindowLimiter
from airflow_copyleaks.hooks.retry import ENDPOINTS, RetryPolicy, RetryRule, rule_for
from airflow_copyleaks.hooks.scans import ERROR_HANDLING, SUBMIT_ACTIONS, ScanEndpoints
from airflow_copyleaks.hooks.settings import DEFAULT_API_URL, DEFAULT_IDENTITY_URL, Settings
from airflow_copyleaks.hooks.sync_checks import SyncCheckEndpoints
from airflow_copyleaks.hooks.token_cache import Token, TokenCache, parse_copyleaks_time
from airflow_copyleaks.hooks.transport import USER_AGENT, Call, Transport
from airflow_copyleaks.masking import mask

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_IDENTITY_URL",
    "ERROR_HANDLING",
    "SUBMIT_ACTIONS",
    "USER_AGENT",
    "CopyleaksHook",
    "RetryPolicy",
    "chunked",
    "dumps_small",
]

_Settings = Settings  # the name this record had before the hook was split


class CopyleaksHook(ScanEndpoints, SyncCheckEndpoints, AccountEndpoints, BaseHook):
    """Talk to the Copyleaks API with a connection of type ``copyleaks``.

    :param copyleaks_conn_id: Connection with Login = account email, Password = API key and the
        fields ``api_base_url``, ``identity_base_url``, ``sandbox``, ``webhook_base_url``,
        ``requests_per_second``, ``timeout_seconds`` and ``max_retries``; ``proxies``, ``verify``,
        ``cert`` and ``trust_env`` shape the HTTP session as on an HTTP connection.
    :param store: What the account's processes share (token, leases, rate slots): a ScanStore
        (default: the configured one) or a :class:`~.backends.MemoryBackend`.
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
        self._settings: Settings | None = None
        self._transport: Transport | None = None
        self._token_cache: TokenCache | None = None
        self._limiter: RequestLimiter | None = None
        self._export_pacer: RequestLimiter | None = None
        self._masked_token: str | None = None
        self.stats = {"requests": 0, "retries": 0, "rate_limited": 0, "logins": 0}
        self._stats_lock = threading.Lock()
        self._settings_lock = threading.RLock()

    # ----------------------------------------------------------------------------- connection

    @classmethod
    def from_connection(cls, conn: Any, *, store: Any | None = None) -> CopyleaksHook:
        """A hook for a connection already read (e.g. on the triggerer's async path)."""
        hook = cls(conn.conn_id or cls.default_conn_name, store=store)
        hook._settings = Settings.from_connection(conn, None)
        mask(hook._settings.api_key)
        return hook

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        from airflow_copyleaks.get_provider_info import hook_ui_field_behaviour

        return hook_ui_field_behaviour()

    @property
    def settings(self) -> Settings:
        with self._settings_lock:  # batches share one hook across threads
            if self._settings is None:
                conn = self.get_connection(self.copyleaks_conn_id)
                self._settings = Settings.from_connection(conn, self._retry_override)
                self._transport = None
                mask(self._settings.api_key)
            return self._settings

    @property
    def sandbox(self) -> bool:
        """The connection's default for ``sandbox`` (operators may override it per call)."""
        return self.settings.sandbox

    @property
    def webhook_base_url(self) -> str | None:
        return self.settings.webhook_base_url

    @property
    def transport(self) -> Transport:
        settings = self.settings
        with self._settings_lock:
            if self._transport is None or self._transport.settings is not settings:
                self._transport = Transport(
                    self.copyleaks_conn_id, settings, lambda: self.rate_limiter.acquire(), self._count
                )
            return self._transport

    def get_conn(self) -> requests.Session:
        """A requests session for the calling thread (sessions are not shared across threads)."""
        return self.transport.session()

    def test_connection(self) -> tuple[bool, str]:
        """Read the credit balance with the shared token: logins are scarce (12 per 15 minutes),
        so a click logs in only when no process holds a token, and not while logins are refused."""
        try:
            amount = self.get_credits()
        except CopyleaksAuthError as err:
            return False, f"Copyleaks refused the email and API key (401). Check Login and Password. {err.message}"
        except Exception as err:
            return False, f"Could not log in to Copyleaks: {err}"
        return True, f"Logged in to Copyleaks as {self.settings.email}; {amount} credits left."

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    # ----------------------------------------------------------------------------- token

    @property
    def backend(self) -> Any:
        """What the account's processes share: the given store, the configured one, or (when
        that cannot be opened) this process's memory, so that calls still work without a database."""
        with self._settings_lock:
            if self._store is None:
                self._store = open_backend()
            return self._store

    @property
    def token_cache(self) -> TokenCache:
        s = self.settings
        backend = self.backend
        with self._settings_lock:
            if self._token_cache is None:
                self._token_cache = TokenCache(backend, identity_url=s.identity_url, email=s.email, api_key=s.api_key)
            return self._token_cache

    @property
    def rate_limiter(self) -> RequestLimiter:
        """The account's request-rate limit: shared through the store unless configured off."""
        s = self.settings
        backend = self.backend
        with self._settings_lock:
            if self._limiter is None:
                if config.get_bool("shared_rate_limit") and not isinstance(backend, MemoryBackend):
                    self._limiter = SharedRateLimiter(backend, s.account, s.requests_per_second)
                else:
                    self._limiter = RateLimiter.for_account(s.account, s.requests_per_second)
            return self._limiter

    @property
    def export_pacer(self) -> RequestLimiter:
        """The account's export limit (10 in any minute), shared like the request rate."""
        s = self.settings
        backend = self.backend
        with self._settings_lock:
            if self._export_pacer is None:
                limit, window = int(s.exports_per_minute), s.export_window_seconds
                self._export_pacer = WindowLimiter(backend, f"{s.account}\nexports", limit, window)
            return self._export_pacer

    def resend_limiter(self, per_minute: float) -> WindowLimiter:
        """The account's budget of "resend webhook" requests a minute, shared like the request rate.

        :param per_minute: Most resend requests a minute, whichever process of the account asks.
        """
        # Never rounded up to 1: a budget of 0 or 0.5 is a mistake to say, not one resend a minute.
        limit = int(
            config.number(f"[{config.SECTION}] resend_budget_per_minute", str(per_minute), minimum=1, whole=True)
        )
        return WindowLimiter(self.backend, f"{self.settings.account}\nresends", limit, 60.0, what="resend")

    def get_token(self) -> Token:
        token = self.token_cache.get(self._login)
        if token.access_token != self._masked_token:
            # Most processes read the token from the shared cache without logging in: mask it here.
            mask(token.access_token)
            self._masked_token = token.access_token
        return token

    def _login(self) -> Token:
        s = self.settings
        login = ENDPOINTS["login"]
        body = self.transport.send(
            Call(login.method, s.identity_url + login.path, "login", login.rule,
                 json_body={"email": s.email, "key": s.api_key})
        )  # fmt: skip
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

    # ----------------------------------------------------------------------------- requests

    def _call(
        self,
        name: str,
        *,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        scan_id: str | None = None,
        raw: bool = False,
        pacer: Callable[[], float] | None = None,
        **path_args: str,
    ) -> Any:
        """Call the endpoint ``name`` of :data:`~.retry.ENDPOINTS` under its retry rule."""
        endpoint = ENDPOINTS[name]
        if scan_id is not None:
            path_args["scan_id"] = scan_id
        path = endpoint.path.format(**{key: quote_id(value) for key, value in path_args.items()})
        return self._request(
            endpoint.method, path, json_body=json_body, files=files, data=data, params=params, scan_id=scan_id,
            authenticated=endpoint.authenticated, raw=raw, rule=endpoint.rule, pacer=pacer,
        )  # fmt: skip

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
        rule: RetryRule | None = None,
        pacer: Callable[[], float] | None = None,
    ) -> Any:
        """Call the API host; on a 401 drop the cached token and try once more with a new one."""
        call = Call(
            method, self.settings.api_url + path, f"{method} {path.split('?')[0]}", rule or rule_for(method),
            json_body=json_body, files=files, data=data, params=params, scan_id=scan_id, raw=raw, pacer=pacer,
        )  # fmt: skip
        for attempt in range(2):
            current: Token | None = None
            if authenticated and token is None:
                current = self.get_token()
            call.token = token or (current.access_token if current else None)
            try:
                return self.transport.send(call)
            except CopyleaksAuthError:
                if current is None or attempt == 1:
                    raise
                self.log.info("Copyleaks did not accept the cached token (401); logging in again")
                self.token_cache.invalidate(current)
        raise AssertionError("unreachable")

    # ----------------------------------------------------------------------------- async

    async def aresend_webhook(self, scan_id: str) -> None:
        """:meth:`resend_webhook` for an event loop (the triggerer's): never blocks the loop."""
        v.validate_scan_id(scan_id)
        endpoint = ENDPOINTS["resend_webhook"]
        path = endpoint.path.format(scan_id=quote_id(scan_id))
        call = Call(endpoint.method, self.settings.api_url + path, f"{endpoint.method} {path}", endpoint.rule,
                    scan_id=scan_id)  # fmt: skip
        for attempt in range(2):
            current = await asyncio.to_thread(self.get_token)
            call.token = current.access_token
            try:
                await self.transport.asend(call)
                return
            except CopyleaksAuthError:
                if attempt == 1:
                    raise
                await asyncio.to_thread(self.token_cache.invalidate, current)

    async def aclose(self) -> None:
        """Close the async HTTP session of the running event loop."""
        if self._transport is not None:
            await self._transport.aclose()
