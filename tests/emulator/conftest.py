"""Fixtures for the emulator's own tests: a fast emulator, a webhook receiver and an API helper."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from airflow_copyleaks.testing.emulator import EmulatorClient


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A tiny HTTP server that records every request and answers the queued status codes (200 after)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_PATCH = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def matching(self, prefix: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def wait(self, prefix: str, count: int = 1, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.matching(prefix)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {count} request(s) under {prefix}, got {len(self.matching(prefix))}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Api:
    """Calls the emulator the way a Copyleaks client would."""

    def __init__(self, emu: EmulatorClient) -> None:
        self.emu = emu
        self.url = emu.url
        self.session = requests.Session()
        self.session.trust_env = False
        self._token: str | None = None

    def login(self) -> str:
        resp = self.session.post(
            f"{self.url}/v3/account/login/api", json={"email": self.emu.email, "key": self.emu.api_key}
        )
        assert resp.status_code == 200, resp.text
        self._token = resp.json()["access_token"]
        return self._token

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token or self.login()}"}

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.session.request(
            method, f"{self.url}{path}", headers={**self.headers(), **kw.pop("headers", {})}, timeout=10, **kw
        )

    def submit_text(
        self, scan_id: str, text: str, status_url: str, filename: str = "doc.txt", **properties: Any
    ) -> requests.Response:
        props: dict[str, Any] = {"webhooks": {"status": status_url}}
        props.update(properties)
        body = {"base64": base64.b64encode(text.encode()).decode(), "filename": filename, "properties": props}
        return self.call("PUT", f"/v3/scans/submit/file/{scan_id}", json=body)


@pytest.fixture
def emu(copyleaks_emulator: EmulatorClient) -> EmulatorClient:
    """The plugin's emulator, made fast: short processing time and retry back-off."""
    copyleaks_emulator.set_config(scan_duration_seconds=0.05, webhook_retry_delays=[0.05, 0.1, 0.2])
    return copyleaks_emulator


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def api(emu: EmulatorClient) -> Api:
    return Api(emu)


@pytest.fixture
def corpus_text(emu: EmulatorClient) -> Callable[[int], dict[str, Any]]:
    """The n-th built-in corpus document (url, title, text)."""
    docs = [d for d in emu.corpus() if d["builtin"]]
    return lambda n: docs[n]
