"""The Copyleaks connection's fields, read once into a typed, immutable record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_copyleaks import config
from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.hooks.retry import RetryPolicy

DEFAULT_API_URL = "https://api.copyleaks.com"
DEFAULT_IDENTITY_URL = "https://id.copyleaks.com"

# Connection extras that shape the HTTP session (as for an HTTP connection), never sent as headers.
TRANSPORT_EXTRAS = ("proxies", "proxy", "verify", "verify_ssl", "cert", "trust_env")


@dataclass(frozen=True)
class Settings:
    email: str
    api_key: str = field(repr=False)
    api_url: str
    identity_url: str
    sandbox: bool
    webhook_base_url: str | None
    requests_per_second: float
    timeout_seconds: float
    retry_policy: RetryPolicy
    transport: dict[str, Any] = field(default_factory=dict)
    exports_per_minute: int = 10  # Copyleaks' limit per account
    export_window_seconds: float = 60.0  # the window that limit counts in (an emulator may run faster)
    export_max_wait_seconds: float = 900.0  # how long one export waits for a slot before it fails

    @classmethod
    def from_connection(cls, conn: Any, override: RetryPolicy | None) -> Settings:
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
            identity_url=identity_url(extra),
            sandbox=config.as_bool(extra.get("sandbox", True)),
            webhook_base_url=(str(extra["webhook_base_url"]).rstrip("/") if extra.get("webhook_base_url") else None),
            requests_per_second=float(extra.get("requests_per_second", 10)),
            # Longer than Copyleaks' own 110 s, so a slow but successful check is not cut short.
            timeout_seconds=float(extra.get("timeout_seconds", 120)),
            retry_policy=policy,
            transport={k: extra[k] for k in TRANSPORT_EXTRAS if k in extra},
            exports_per_minute=int(extra.get("exports_per_minute", 10)),
            export_window_seconds=float(extra.get("export_window_seconds", 60)),
            export_max_wait_seconds=float(extra.get("export_max_wait_seconds", 900)),
        )

    @property
    def account(self) -> str:
        """The key of the account's shared limits (one per API host and email)."""
        return f"{self.api_url}\n{self.email.lower()}"


def identity_url(extra: dict[str, Any]) -> str:
    """Where the API key is posted to log in.

    Copyleaks logs in on its own host, so a custom ``api_base_url`` does not move the login with
    it: the API key would be posted to that host instead. Only the emulator answers both on one
    host, and says so with ``emulator: true``.
    """
    api = str(extra.get("api_base_url") or "").rstrip("/")
    if extra.get("identity_base_url"):
        return str(extra["identity_base_url"]).rstrip("/")
    if config.as_bool(extra.get("emulator", False)):
        return api or DEFAULT_IDENTITY_URL
    if api and api != DEFAULT_API_URL:
        raise CopyleaksValidationError(
            "identity_base_url",
            f"is not set while api_base_url is {api}: the API key would be posted to that host's login. "
            f"Set identity_base_url ({DEFAULT_IDENTITY_URL} for Copyleaks), or emulator: true when "
            "api_base_url is the Copyleaks emulator, which answers logins on the same host",
        )
    return DEFAULT_IDENTITY_URL
