"""The receiver never holds its host hostage: mounted in an app (as in Airflow's api-server), an
unreachable store stalls only deliveries, never the event loop or the host's own thread pool."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.testing.serving import serve_in_thread
from airflow_copyleaks.webhooks.app import create_app
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token
from tests.fixtures import WEBHOOK_SECRET

DELIVERIES = 60  # more than anyio's default pool of 40 threads


class Blackhole:
    """A 'database' that accepts TCP connections and never says a word (a hung server, a
    firewall that drops replies): every connection attempt waits."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.connected = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)
            self.connected.set()

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


class SlamsTheDoor(Blackhole):
    """A 'database' that accepts and closes at once: every attempt fails fast, and is counted."""

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()
            self.accepted.append(conn)


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


def host_app(receiver: FastAPI) -> FastAPI:
    """An api-server in miniature: a plain sync endpoint (run in anyio's default thread pool, as
    FastAPI runs every sync endpoint) beside the mounted receiver."""
    host = FastAPI()

    @host.get("/heartbeat")
    def heartbeat() -> dict[str, bool]:
        return {"ok": True}

    host.mount("/copyleaks", receiver)
    return host


def deliver(url: str, scan_id: str) -> int:
    headers = {TOKEN_HEADER: webhook_token(WEBHOOK_SECRET, "scan", scan_id)}
    try:
        return requests.post(
            f"{url}/copyleaks/status/completed/{scan_id}", json={"status": 0}, headers=headers, timeout=120
        ).status_code
    except requests.RequestException:
        return 0


def test_a_sync_endpoint_answers_while_deliveries_wait_for_an_unreachable_store(
    blackhole: Blackhole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__STORE_URL", f"postgresql+psycopg2://u:p@127.0.0.1:{blackhole.port}/db")
    receiver = create_app(secret=WEBHOOK_SECRET, artifacts_url=tmp_path.as_uri())
    with serve_in_thread(host_app(receiver)) as url, ThreadPoolExecutor(DELIVERIES) as pool:
        deliveries = [pool.submit(deliver, url, f"scan-{i}") for i in range(DELIVERIES)]
        assert blackhole.connected.wait(60), "no delivery tried to open the store"
        answers = [requests.get(f"{url}/heartbeat", timeout=30).json() for _ in range(3)]
        still_waiting = sum(not d.done() for d in deliveries)
        blackhole.close()  # the store's connection attempts fail now; deliveries get 503
        statuses = [d.result() for d in deliveries]
    assert answers == [{"ok": True}] * 3
    assert still_waiting > 0  # the heartbeats were answered while deliveries were blocked
    assert set(statuses) == {503}, statuses  # never a 2xx that loses a webhook


def test_a_failed_open_is_remembered_and_answered_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    door = SlamsTheDoor()
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__STORE_URL", f"postgresql+psycopg2://u:p@127.0.0.1:{door.port}/db")
    try:
        app = create_app(secret=WEBHOOK_SECRET, artifacts_url=tmp_path.as_uri())
        headers = {TOKEN_HEADER: webhook_token(WEBHOOK_SECRET, "scan", "s1")}
        with TestClient(app) as client:
            first = client.post("/status/completed/s1", json={"status": 0}, headers=headers)
            attempts = len(door.accepted)
            again = [client.post("/status/completed/s1", json={"status": 0}, headers=headers) for _ in range(5)]
    finally:
        door.close()
    assert attempts >= 1
    assert [r.status_code for r in (first, *again)] == [503] * 6
    assert all(r.headers["Retry-After"] for r in (first, *again))
    assert len(door.accepted) == attempts  # no new connection attempt while the failure is remembered


def test_deliveries_resume_once_the_store_answers(store_url: str, tmp_path: Path) -> None:
    from airflow_copyleaks.webhooks.gate import StoreGate

    calls = {"n": 0}

    def flaky_open() -> ScanStore:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("not yet")
        return ScanStore(store_url)

    gate = StoreGate(opener=flaky_open, retry_after=0)
    app = create_app(secret=WEBHOOK_SECRET, artifacts_url=tmp_path.as_uri(), gate=gate)
    headers = {TOKEN_HEADER: webhook_token(WEBHOOK_SECRET, "scan", "s1")}
    with TestClient(app) as client:
        assert client.post("/status/completed/s1", json={"status": 0}, headers=headers).status_code == 503
        assert client.post("/status/completed/s1", json={"status": 0}, headers=headers).json() == {"stored": True}
        assert client.get("/health").status_code == 200
