"""The checks of ``airflow-copyleaks doctor`` besides the receiver's: connection, store, secret,
executor against store. None of them logs in to Copyleaks or prints a secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_copyleaks import config
from airflow_copyleaks.doctor import Finding
from airflow_copyleaks.topology import SETTING, display_url, distributed_executors

MIN_SECRET_LENGTH = 24
MIN_SECRET_DISTINCT = 10  # "aaaa..." or "1234512345..." is long but guessable


class _NoCachedToken(Exception):
    """Raised instead of logging in: the doctor never spends one of the account's logins."""


def _refuse_login() -> Any:
    raise _NoCachedToken


def check_connection(hook: Any) -> Finding:
    """The connection's credentials, through the cached token and one credits call, never a login."""
    from airflow_copyleaks.exceptions import CopyleaksError

    try:
        token = hook.token_cache.get(_refuse_login, wait_seconds=0)
    except _NoCachedToken:
        return Finding(True, "no cached token: credentials not checked (that would spend a login)")
    except CopyleaksError as err:  # a login block recorded by another process, a missing field
        return Finding(False, str(err))
    except Exception as err:
        return Finding(False, f"cannot read the connection or its cached token: {type(err).__name__}: {err}")
    try:
        # The token given explicitly: on a 401 the hook would otherwise log in again.
        body = hook._request("GET", "/v3/scans/credits", token=token.access_token)
    except CopyleaksError as err:
        return Finding(False, f"Copyleaks refused the cached token or did not answer: {err}")
    amount = body.get("Amount", body.get("amount")) if isinstance(body, dict) else None
    return Finding(True, f"the cached token works; {amount} credits left")


def check_store(url: str) -> tuple[Finding, str | None]:
    """Whether the store opens, and its identity."""
    from airflow_copyleaks.store import get_store

    try:
        store = get_store(url)
        store_id, version = store.store_id(), store.schema_version()
    except Exception as err:
        message = f"{display_url(url)} ({SETTING}) cannot be opened: {type(err).__name__}"
        return Finding(False, message), None
    return Finding(True, f"{display_url(url)}: schema version {version}, store id {store_id}"), store_id


def check_secret(secret: str, *, unauthenticated: bool = False) -> Finding:
    """The webhook secret's strength (its length and variety; never its value)."""
    if not secret:
        if unauthenticated:
            return Finding(False, "no webhook_secret: the receiver accepts anyone's webhooks (local testing only)")
        return Finding(False, "[copyleaks] webhook_secret is not set: the receiver refuses to start")
    if len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < MIN_SECRET_DISTINCT:
        return Finding(
            False,
            f"[copyleaks] webhook_secret is {len(secret)} characters with {len(set(secret))} distinct: use at "
            f"least {MIN_SECRET_LENGTH} random characters, e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'",
        )
    return Finding(True, f"[copyleaks] webhook_secret: {len(secret)} characters")


def check_executor(store_url_setting: str, executors: list[str] | None = None) -> Finding:
    """A distributed executor needs a store every machine reaches: set, and not an SQLite file."""
    remote = distributed_executors(executors)
    if not remote:
        return Finding(True, "the executor runs tasks on this machine: any store works")
    if not store_url_setting:
        return Finding(False, f"{', '.join(remote)} runs tasks on other machines but {SETTING} is not set")
    if store_url_setting.startswith("sqlite"):
        return Finding(
            False,
            f"{', '.join(remote)} runs tasks on other machines but {SETTING} is an SQLite file, which only "
            "this machine reads: use a database every machine reaches (PostgreSQL)",
        )
    return Finding(True, f"{', '.join(remote)} with a shared store")


def all_findings(conn_id: str, check_receiver: Callable[..., Finding]) -> list[tuple[str, Finding]]:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

    findings: list[tuple[str, Finding]] = []
    setting = config.get_setting("store_url")
    findings.append(("executor", check_executor(setting)))
    store_id = None
    try:
        url = config.store_url()
    except Exception as err:  # refused: the executor finding above says why
        findings.append(("store", Finding(False, str(err))))
        url = None
    if url is not None:
        store_finding, store_id = check_store(url)
        findings.append(("store", store_finding))
    hook = CopyleaksHook(conn_id, store=None if store_id is None else _store(url))
    try:
        base_url = hook.webhook_base_url
    except Exception as err:  # no such connection, or one that cannot be read
        findings.append(("connection", Finding(False, f"{conn_id!r} cannot be read: {type(err).__name__}: {err}")))
        base_url = None
    else:
        findings.append(("connection", check_connection(hook)))
    findings.append(("", check_receiver(base_url, store_id=store_id)))
    secret = config.webhook_secret()
    findings.append(("secret", check_secret(secret, unauthenticated=config.get_bool("allow_unauthenticated_webhooks"))))
    return findings


def _store(url: str | None) -> Any:
    from airflow_copyleaks.store import get_store

    return get_store(url)
