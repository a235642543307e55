"""Hostile bodies and probes against the receiver: each answered with a 4xx (never a 5xx, which
Copyleaks retries for hours), the same on SQLite and PostgreSQL, and nothing stored for a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.webhooks.app import create_app
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token

SECRET = "hostile-input-test-secret"


def scan_headers(scan_id: str) -> dict[str, str]:
    return {TOKEN_HEADER: webhook_token(SECRET, "scan", scan_id), "Content-Type": "application/json"}


@pytest.fixture
def store(store_url: str) -> Iterator[ScanStore]:
    store = ScanStore(store_url)
    yield store
    store.dispose()


@pytest.fixture
def client(store: ScanStore, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(store=store, secret=SECRET, artifacts_url=(tmp_path / "artifacts").as_uri())
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("route", ["/status/completed/deep", "/new-result/deep"])
def test_a_body_nested_a_thousand_levels_is_a_400(client: TestClient, store: ScanStore, route: str) -> None:
    body = b'{"a":' * 1000 + b"1" + b"}" * 1000  # about 6 KB
    response = client.post(route, content=body, headers=scan_headers("deep"))
    assert response.status_code == 400 and "nested deeper" in response.json()["detail"], response.text
    assert store.count_events() == 0


def test_a_body_nested_past_the_limit_but_within_pythons_is_a_400(client: TestClient, store: ScanStore) -> None:
    body = b'{"a":' + b"[" * 100 + b"1" + b"]" * 100 + b"}"
    response = client.post("/status/completed/deep", content=body, headers=scan_headers("deep"))
    assert response.status_code == 400, response.text
    assert store.count_events() == 0


def test_a_status_delivery_with_a_million_keys_is_refused_unread(client: TestClient, store: ScanStore) -> None:
    body = b"{" + b",".join(b'"k%d":0' % i for i in range(1_000_000)) + b"}"  # about 11 MB
    response = client.post("/status/completed/keys", content=body, headers=scan_headers("keys"))
    assert response.status_code == 413, response.text
    assert store.count_events() == 0


def test_many_values_within_the_size_limit_are_a_413(store: ScanStore, tmp_path: Path) -> None:
    app = create_app(store=store, secret=SECRET, artifacts_url=tmp_path.as_uri())
    body = b'{"results": {"internet": [' + b",".join([b"0"] * 300_000) + b"]}}"  # 600 KB
    with TestClient(app) as client:
        response = client.post("/status/completed/many", content=body, headers=scan_headers("many"))
    assert response.status_code == 413 and "JSON values" in response.json()["detail"], response.text
    assert store.count_events() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"status": 0, "results": {"internet": [{"id": "r1", "title": "nul \u0000 in a title"}]}},
        {"status": 0, "developerPayload": "a\u0000b"},
        {"status": 0, "note\u0000key": 1},
    ],
)
def test_nul_characters_in_a_webhook_are_stored_alike_on_both_stores(
    client: TestClient, store: ScanStore, payload: dict[str, Any]
) -> None:
    response = client.post("/status/completed/nul", json=payload, headers=scan_headers("nul"))
    assert response.status_code == 200 and response.json() == {"stored": True}, response.text
    stored = store.get_event_payload("nul", "completed")
    assert stored is not None and "\u0000" not in repr(stored) and "\ufffd" in repr(stored)
    assert store.get_scan("nul").status == "completed"  # type: ignore[union-attr]


def test_a_nul_in_an_error_message_is_stored_alike(client: TestClient, store: ScanStore) -> None:
    body = {"status": 1, "error": {"code": 5, "message": "download\u0000failed"}}
    response = client.post("/status/error/nul-error", json=body, headers=scan_headers("nul-error"))
    assert response.status_code == 200, response.text
    scan = store.get_scan("nul-error")
    assert scan is not None and scan.error_message == "download\ufffdfailed"


def test_a_nul_in_an_id_is_a_422_on_both_stores(store: ScanStore, tmp_path: Path) -> None:
    app = create_app(store=store, secret="", allow_unauthenticated=True, artifacts_url=tmp_path.as_uri())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/status/completed/a%00b", json={"status": 0})
    assert response.status_code == 422, response.text
    assert store.count_events() == 0


def test_docs_and_schema_are_off_unless_enabled(store: ScanStore, tmp_path: Path) -> None:
    """Airflow does not authenticate a plugin's app: the schema is not published by default."""
    app = create_app(store=store, secret=SECRET, artifacts_url=tmp_path.as_uri())
    with TestClient(app) as client:
        assert [client.get(path).status_code for path in ("/docs", "/redoc", "/openapi.json")] == [404] * 3
    enabled = create_app(store=store, secret=SECRET, artifacts_url=tmp_path.as_uri(), expose_docs=True)
    with TestClient(enabled) as client:
        assert [client.get(path).status_code for path in ("/docs", "/redoc", "/openapi.json")] == [200] * 3


def test_docs_follow_the_setting(store: ScanStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__EXPOSE_RECEIVER_DOCS", "True")
    app = create_app(store=store, secret=SECRET, artifacts_url=tmp_path.as_uri())
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 200


def test_health_asks_the_database_nothing(client: TestClient, store: ScanStore) -> None:
    """Anyone can call /health on the api-server: it must not cost a query each time."""
    assert client.post("/status/indexed/h1", json={"status": 3}, headers=scan_headers("h1")).status_code == 200
    before = store.query_count
    answers = [client.get("/health") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert answers[0].json()["status"] == "ok"
    assert store.query_count == before
