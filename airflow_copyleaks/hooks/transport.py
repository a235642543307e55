"""HTTP to Copyleaks: sessions from the HTTP provider, tries bounded and chosen by tenacity.

The sync path sends through :class:`CopyleaksHttpHook`, an ``HttpHook`` whose session takes
proxies, TLS options (``verify``, ``cert``) and TCP keep-alive from the connection, as any HTTP
connection's would. The async path (for code on the triggerer's event loop) uses aiohttp, which
the HTTP provider's async hook is built on. Both apply the same per-endpoint rule from
:mod:`.retry`, the same rate limit and the same error mapping.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from airflow_copyleaks.exceptions import CopyleaksApiError, CopyleaksConnectionError, CopyleaksError
from airflow_copyleaks.hooks.errors import decode, error_from_answer, error_from_response, strip_secrets
from airflow_copyleaks.hooks.retry import NotSentConnectionError, RetryRule
from airflow_copyleaks.hooks.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = "airflow-provider-copyleaks"


class CopyleaksHttpHook(HttpHook):
    """An ``HttpHook`` for the connection's transport options only.

    Copyleaks' credentials travel in the login body and a bearer header, so the session carries
    no basic auth; the Copyleaks fields of the connection's extra are not sent as headers.

    :param conn_id: the Copyleaks connection.
    :param transport: the connection's transport options (proxies, TLS, timeouts).
    """

    def __init__(self, conn_id: str, transport: Mapping[str, Any]) -> None:
        super().__init__(method="GET", http_conn_id=conn_id)
        from airflow.sdk import Connection

        self._transport_conn = Connection(conn_id=conn_id, conn_type="http", extra=json.dumps(dict(transport)))

    def get_connection(self, conn_id: str) -> Any:  # type: ignore[override]
        # The Copyleaks connection was read once already (on the async path, in a triggerer).
        return self._transport_conn


@dataclass
class Call:
    """One logical request, before it is tried."""

    method: str
    url: str
    endpoint: str  # how errors name it: "login" or "METHOD /path"
    rule: RetryRule
    token: str | None = None
    json_body: Any = None
    files: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    params: Mapping[str, str] | None = None
    scan_id: str | None = None
    raw: bool = False
    # A second schedule this call keeps (exports: 10 per minute), taken just before each send so
    # that the time spent fetching a token cannot bunch two sends together.
    pacer: Callable[[], float] | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


class Transport:
    """Sends :class:`Call` s: rate-limited, timed out, retried as their rule allows.

    :param conn_id: the Copyleaks connection.
    :param settings: the connection's settings (base URLs, timeouts, retries, transport options).
    :param acquire: waits for the account's rate limit; returns the seconds waited.
    :param count: counts what happened by name (``requests``, ``retries``, ``rate_limited``).
    """

    def __init__(
        self, conn_id: str, settings: Settings, acquire: Callable[[], float], count: Callable[[str], None]
    ) -> None:
        self.settings = settings
        self._acquire = acquire
        self._count = count
        self._http = CopyleaksHttpHook(conn_id, settings.transport)
        self._local = threading.local()
        self._async_sessions: dict[int, Any] = {}

    def session(self) -> requests.Session:
        """The calling thread's session (requests sessions are not shared across threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._http.get_conn(headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
            self._local.session = session
        return session

    def send(self, call: Call) -> Any:
        retrying = self.settings.retry_policy.retrying(call.rule, before_sleep=self._before_sleep)
        return retrying(self._attempt, call)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self._count("retries")
        failure = state.outcome.exception() if state.outcome else None
        wait = state.upcoming_sleep
        log.warning("%s; retry %d/%d in %.1fs", failure, state.attempt_number, self.settings.retry_policy.max_retries,
                    wait)  # fmt: skip

    def _attempt(self, call: Call) -> Any:
        session = self.session()
        request = requests.Request(
            call.method, call.url, json=call.json_body, files=call.files, data=call.data, params=call.params,
            headers=call.headers,
        )  # fmt: skip
        try:
            prepared = session.prepare_request(request)
        except (requests.RequestException, ValueError) as err:
            # A request that cannot be made (a bad URL or header): its message may quote a
            # header value, so only its kind is told. Not transient: no retry.
            raise CopyleaksError(f"{call.endpoint}: the request could not be made ({type(err).__name__})") from None
        # The slots are taken last, so that nothing slow stands between a slot and its send.
        self._acquire()
        if call.pacer is not None:
            call.pacer()
        self._count("requests")
        try:
            timeout = (min(10.0, self.settings.timeout_seconds), self.settings.timeout_seconds)
            # A redirect would carry the login body (the API key) to another location.
            options = {"timeout": timeout, "allow_redirects": False, "check_response": False}
            response = self._http.run_and_check(session, prepared, options)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
            kind = NotSentConnectionError if _never_connected(err) else CopyleaksConnectionError
            raise kind(f"{call.endpoint}: {type(err).__name__}: {strip_secrets(err)}") from None
        except (requests.RequestException, ValueError) as err:
            # A request that cannot be made (a bad URL or header): its message may quote a
            # header value, so only its kind is told. Not transient: no retry.
            raise CopyleaksError(f"{call.endpoint}: the request could not be made ({type(err).__name__})") from None
        return self._answer(call, response.status_code, response)

    def _answer(self, call: Call, status: int, response: requests.Response) -> Any:
        if 300 <= status < 400:
            raise CopyleaksApiError(status, "answered with a redirect, which is not followed", endpoint=call.endpoint)
        if response.ok:
            return decode(response, call.raw)
        if status == 429:
            self._count("rate_limited")
        raise error_from_response(response, endpoint=call.endpoint, scan_id=call.scan_id)

    # ----------------------------------------------------------------------------- async

    async def asend(self, call: Call) -> Any:
        """:meth:`send` for an event loop: waits and the rate limit never block the loop."""
        retrying = self.settings.retry_policy.async_retrying(call.rule, before_sleep=self._before_sleep)
        return await retrying(self._aattempt, call)

    async def _aattempt(self, call: Call) -> Any:
        import aiohttp

        await asyncio.to_thread(self._acquire)
        self._count("requests")
        session = self._async_session()
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds, connect=10.0)
        proxy = _proxy_for(self.settings.transport, call.url)
        try:
            async with session.request(
                call.method, call.url, json=call.json_body, params=call.params, headers=call.headers,
                timeout=timeout, allow_redirects=False, proxy=proxy,
            ) as response:  # fmt: skip
                status, body = response.status, await response.read()
                reason = response.reason or "error"
        except aiohttp.ClientConnectorError as err:
            raise NotSentConnectionError(f"{call.endpoint}: {type(err).__name__}") from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            raise CopyleaksConnectionError(f"{call.endpoint}: {type(err).__name__}") from None
        return self._async_answer(call, status, body, reason)

    def _async_answer(self, call: Call, status: int, body: bytes, reason: str) -> Any:
        if 300 <= status < 400:
            raise CopyleaksApiError(status, "answered with a redirect, which is not followed", endpoint=call.endpoint)
        try:
            parsed: Any = json.loads(body) if body else {}
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        if 200 <= status < 300:
            return body if call.raw else parsed
        if status == 429:
            self._count("rate_limited")
        raise error_from_answer(status, parsed, reason, endpoint=call.endpoint, scan_id=call.scan_id)

    def _async_session(self) -> Any:
        """One aiohttp session per event loop, reused by every call made on it."""
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self._async_sessions.get(id(loop))
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(ssl=_ssl_for(self.settings.transport))
            session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                trust_env=bool(self.settings.transport.get("trust_env", True)),
            )
            self._async_sessions[id(loop)] = session
        return session

    async def aclose(self) -> None:
        """Close the calling event loop's session (the sync sessions close with the process)."""
        session = self._async_sessions.pop(id(asyncio.get_running_loop()), None)
        if session is not None:
            await session.close()


def _never_connected(err: Exception) -> bool:
    """Whether requests failed before a connection was established: nothing reached the server."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(err, requests.ConnectionError) or isinstance(err, requests.exceptions.ProxyError):
        return False
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _proxy_for(transport: Mapping[str, Any], url: str) -> str | None:
    proxies = transport.get("proxies", transport.get("proxy"))
    if isinstance(proxies, str):
        return proxies
    if isinstance(proxies, Mapping):
        return proxies.get(url.split(":", 1)[0]) or proxies.get("all")
    return None


def _ssl_for(transport: Mapping[str, Any]) -> ssl.SSLContext | bool:
    verify = transport.get("verify", transport.get("verify_ssl", True))
    if verify is False or str(verify).lower() == "false":
        return False
    context = ssl.create_default_context(cafile=verify) if isinstance(verify, str) and verify != "true" else None
    cert = transport.get("cert")
    if cert:
        context = context or ssl.create_default_context()
        if isinstance(cert, (list, tuple)):
            context.load_cert_chain(*cert)
        else:
            context.load_cert_chain(cert)
    return context if context is not None else True
