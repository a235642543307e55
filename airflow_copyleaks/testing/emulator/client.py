"""A thin ``requests`` client for the emulator's control API (``/_emulator/...``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from .config import DEFAULT_API_KEY, DEFAULT_EMAIL


class EmulatorClient:
    """Wraps every control endpoint. ``url``/``email``/``api_key`` describe the emulator and the
    account tests should log in with."""

    def __init__(self, url: str, email: str = DEFAULT_EMAIL, api_key: str = DEFAULT_API_KEY,
                 timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.email = email
        self.api_key = api_key
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # loopback: never through an environment proxy

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.session.request(method, f"{self.url}/_emulator/{path}", timeout=self.timeout, **kw)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    # ---- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget scans, tokens, calls, faults and corpus additions; restore the start config."""
        self._call("POST", "reset")

    def config(self) -> dict[str, Any]:
        return dict(self._call("GET", "config"))

    def set_config(self, **changes: Any) -> dict[str, Any]:
        """Change EmulatorConfig fields at run time; ``credits=n`` (optionally ``account=email``)
        sets the remaining credits."""
        return dict(self._call("PATCH", "config", json=changes))

    def calls(self) -> list[dict[str, Any]]:
        """Every API call: ``{"method", "path", "status", "time" (epoch seconds), "account"}``."""
        return list(self._call("GET", "calls"))

    def stats(self) -> dict[str, Any]:
        """``logins, login_failures, rate_limited, calls, credits_used, credits_remaining,
        webhooks_sent`` (HTTP attempts made) ``, webhook_failures`` (attempts without a 2xx)."""
        return dict(self._call("GET", "stats"))

    # ---- faults ---------------------------------------------------------------------------
    def add_fault(self, path_prefix: str, status: int = 503, count: int = 1, method: str | None = None,
                  kind: str = "status", body: Any = None, delay_seconds: float = 0.0,
                  code: int | None = None) -> None:
        """The next ``count`` calls under ``path_prefix`` answer ``status`` before any other
        processing; with ``kind="reset_connection"`` they lose their connection instead, and with
        ``kind="expire_tokens"`` every token expires just as such a call arrives (it then gets 401),
        with ``kind="drop_answer"`` the call is processed (and charged) but its answer is lost, and
        with ``kind="delay"`` it waits ``delay_seconds`` first (a slow Copyleaks), and with
        ``kind="scan_error"`` the next ``count`` submits under ``path_prefix`` (e.g.
        ``/v3/scans/submit/url/<scan id>``) are accepted, then their scans end with the error
        webhook of Copyleaks error ``code`` (5 download failed, 9 temporarily unavailable ...).
        ``body`` replaces the usual JSON answer for ``status`` (any error shape Copyleaks may send)."""
        self._call("POST", "faults", json={"path_prefix": path_prefix, "method": method, "status": status,
                                           "count": count, "kind": kind, "body": body,
                                           "delay_seconds": delay_seconds, "code": code})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def add_webhook_fault(self, mode: str, count: int = 1, delay_seconds: float = 0.0, status: int = 500) -> None:
        """mode: drop | delay | duplicate | fail_status (see ``webhooks.py``)."""
        self._call("POST", "webhook-faults", json={"mode": mode, "count": count, "delay_seconds": delay_seconds,
                                                   "status": status})

    def expire_tokens(self) -> int:
        return int(self._call("POST", "expire-tokens")["expired"])

    # ---- content --------------------------------------------------------------------------
    def add_document(self, url: str, text: str, title: str | None = None) -> dict[str, Any]:
        """Put a page on the emulator's "internet"."""
        return dict(self._call("POST", "corpus", json={"url": url, "title": title or url, "text": text}))

    def corpus(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "corpus"))

    def add_image(
        self, url: str, image: bytes, pages: Iterable[str] = (), filename: str = "image.png"
    ) -> dict[str, Any]:
        """Register an image as found on the internet at ``url`` (shown on ``pages``)."""
        data = [("url", url)] + [("pages", p) for p in pages]
        return dict(self._call("POST", "images", data=data, files={"image": (filename, image)}))

    # ---- inspection -----------------------------------------------------------------------
    def scan(self, scan_id: str, account: str | None = None) -> dict[str, Any] | None:
        params = {"account": account} if account else None
        resp = self.session.get(f"{self.url}/_emulator/scans/{scan_id}", params=params, timeout=self.timeout)
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return dict(resp.json())

    def scans(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "scans"))

    def webhooks(self) -> list[dict[str, Any]]:
        """Every delivery attempt: kind, url, method, headers, body, statusCode, error, attempt, ..."""
        return list(self._call("GET", "webhooks"))

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
        """Poll until ``predicate()`` is truthy and return its value (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            time.sleep(interval)

    def wait_for_status(
        self, scan_id: str, statuses: Iterable[str] = ("completed", "error", "creditsChecked", "indexed"),
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Wait until the scan reached one of ``statuses`` and its status webhook was attempted."""
        wanted = set(statuses)

        def ready() -> dict[str, Any] | None:
            scan = self.scan(scan_id)
            if scan and scan["status"] in wanted and any(w["kind"] == "status" for w in scan["webhooks"]):
                return scan
            return None

        return dict(self.wait_for(ready, timeout))

    # ---- convenience ----------------------------------------------------------------------
    def login(self) -> str:
        """A bearer token for this client's account (counts against the login limit)."""
        resp = self.session.post(f"{self.url}/v3/account/login/api", json={"email": self.email, "key": self.api_key},
                                 timeout=self.timeout)
        resp.raise_for_status()
        return str(resp.json()["access_token"])

    def close(self) -> None:
        self.session.close()
