"""The webhook receiver: what it stores, what it refuses, and where artifacts land."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.webhooks import urls
from airflow_copyleaks.webhooks.app import create_app
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token

SECRET = "receiver-test-secret"
COMPLETED = {
    "status": 0,
    "scannedDocument": {"scanId": "s1", "totalWords": 80, "credits": 1},
    "results": {"score": {"aggregatedScore": 12.0}, "internet": []},
}


@pytest.fixture
def store(store_url: str) -> ScanStore:
    return ScanStore(store_url)


@pytest.fixture
def client(store: ScanStore, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(store=store, secret=SECRET, artifacts_url=(tmp_path / "artifacts").as_uri(), max_body_bytes=4096)
    with TestClient(app) as test_client:
        yield test_client


def scan_headers(scan_id: str) -> dict[str, str]:
    return {TOKEN_HEADER: webhook_token(SECRET, "scan", scan_id)}


def export_headers(export_id: str) -> dict[str, str]:
    return {TOKEN_HEADER: webhook_token(SECRET, "export", export_id)}


def test_status_webhook_is_stored_once(client: TestClient, store: ScanStore) -> None:
    for expected in (True, False):
        response = client.post("/status/completed/s1", json=COMPLETED, headers=scan_headers("s1"))
        assert response.status_code == 200 and response.json() == {"stored": expected}
    scan = store.get_scan("s1")
    assert scan is not None and scan.status == "completed" and scan.score == 12.0


@pytest.mark.parametrize("status", ["completed", "error", "creditsChecked", "CREDITSCHECKED", "indexed"])
def test_every_status_route(client: TestClient, store: ScanStore, status: str) -> None:
    body = {"status": 1, "error": [{"code": "13", "message": "no credits"}]} if status == "error" else {"status": 2}
    assert client.post(f"/status/{status}/sx", json=body, headers=scan_headers("sx")).status_code == 200
    assert store.get_scan("sx").status.lower() == status.lower()  # type: ignore[union-attr]


def test_unknown_status_is_404(client: TestClient) -> None:
    assert client.post("/status/finished/s1", json={}, headers=scan_headers("s1")).status_code == 404


@pytest.mark.parametrize("token", [None, "0" * 64, webhook_token(SECRET, "scan", "another-scan")])
def test_forged_or_replayed_credentials_are_refused(client: TestClient, store: ScanStore, token: str | None) -> None:
    headers = {TOKEN_HEADER: token} if token else {}
    response = client.post("/status/completed/s1", json=COMPLETED, headers=headers)
    assert response.status_code == 401
    assert store.get_scan("s1") is None and store.count_events() == 0


def test_body_limits_and_bad_json(client: TestClient, store: ScanStore) -> None:
    huge = {"status": 0, "padding": "x" * 10_000}
    assert client.post("/status/completed/s1", json=huge, headers=scan_headers("s1")).status_code == 413
    bad = client.post("/status/completed/s1", content=b"{not json", headers=scan_headers("s1"))
    assert bad.status_code == 400
    wrong_shape = client.post("/status/completed/s1", json=[1, 2], headers=scan_headers("s1"))
    assert wrong_shape.status_code == 422
    wrong_type = client.post("/status/completed/s1", json={"results": "all"}, headers=scan_headers("s1"))
    assert wrong_type.status_code == 422
    assert store.count_events() == 0


def test_streamed_body_over_the_limit_is_cut_off(client: TestClient, store: ScanStore) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1024

    response = client.post("/status/completed/s1", content=chunks(), headers=scan_headers("s1"))
    assert response.status_code == 413 and store.count_events() == 0


@pytest.mark.parametrize("score", [37.5, {"aggregatedScore": 37.5}])
def test_new_result_accepts_both_score_shapes(client: TestClient, store: ScanStore, score: Any) -> None:
    body = {"score": score, "internet": [{"id": "r1", "url": "https://example.test"}]}
    assert client.post("/new-result/s9", json=body, headers=scan_headers("s9")).json() == {"stored": True}
    assert store.get_event_payload("s9", "newResult") == body


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "a'; drop table x;--", "x/../y"])
def test_artifacts_land_under_safe_keys(client: TestClient, store: ScanStore, tmp_path: Path, hostile: str) -> None:
    body = urls.export_request_body(
        "http://testserver", hostile, "exp-1", SECRET, result_ids=[hostile], pdf=True, crawled=True
    )
    store.register_export("exp-1", hostile, expected=["result", "pdf"])
    result_url = body["results"][0]["endpoint"].removeprefix("http://testserver")
    response = client.put(result_url, json={"statistics": {}}, headers=export_headers("exp-1"))
    assert response.status_code == 200, response.text
    pdf = client.put("/export/exp-1/pdf-report", content=b"%PDF-1.4 fake", headers=export_headers("exp-1"))
    assert pdf.status_code == 200
    root = tmp_path / "artifacts"
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 2
    assert all(root in p.resolve().parents for p in files)
    assert not any(".." in p.name or "etc" in str(p.relative_to(root)) for p in files)
    assert not [p for p in root.rglob("*.tmp")]
    export = store.get_export("exp-1")
    assert export is not None and {a["kind"] for a in export.artifacts} == {"result", "pdf"}


def test_export_completion_with_an_unhealthy_task_fails_the_export(client: TestClient, store: ScanStore) -> None:
    store.register_export("exp-2", "s1", expected=["pdf"])
    payload = {"completed": True, "tasks": [{"endpoint": "e", "httpStatusCode": None, "isHealthy": False}]}
    assert client.post("/export/exp-2/completed", json=payload, headers=export_headers("exp-2")).status_code == 200
    export = store.get_export("exp-2")
    assert export is not None and export.status == "failed"
    wrong = client.post("/export/exp-2/completed", json=payload, headers=scan_headers("exp-2"))
    assert wrong.status_code == 401  # a scan credential is not an export credential


def test_delete_completion_has_no_body(client: TestClient, store: ScanStore) -> None:
    url, headers = urls.delete_webhook("http://testserver", "del-1", SECRET)
    response = client.post(url.removeprefix("http://testserver"), headers=dict(headers))
    assert response.json() == {"stored": True}


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/status/{status}/{scan_id}"]["post"]
    assert {"401", "413", "422"} <= set(operation["responses"])
    assert any(p["name"] == TOKEN_HEADER for p in operation["parameters"])


def test_receiver_refuses_to_start_without_a_secret(store: ScanStore) -> None:
    with pytest.raises(RuntimeError, match="webhook_secret"):
        create_app(store=store, secret="", allow_unauthenticated=False)
    assert create_app(store=store, secret="", allow_unauthenticated=True)


def test_scan_ids_with_slashes_round_trip(client: TestClient, store: ScanStore) -> None:
    hooks = urls.status_webhook("http://testserver", "team/doc.1", SECRET)
    url = hooks["status"].replace("{STATUS}", "completed").removeprefix("http://testserver")
    assert "%2F" in url
    assert client.post(url, json=COMPLETED, headers=dict(hooks["statusHeaders"])).status_code == 200
    assert store.get_scan("team/doc.1") is not None


def test_over_real_http(tmp_path: Path) -> None:
    import uvicorn

    from airflow_copyleaks.testing.postgres import free_port

    store = ScanStore(f"sqlite:///{tmp_path / 'store.db'}")
    app = create_app(store=store, secret=SECRET, artifacts_url=tmp_path.as_uri())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        response = requests.post(
            f"http://127.0.0.1:{port}/status/completed/real-1",
            data=json.dumps(COMPLETED),
            headers={**scan_headers("real-1"), "Content-Type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 200 and response.json() == {"stored": True}
        assert store.get_scan("real-1").status == "completed"  # type: ignore[union-attr]
    finally:
        server.should_exit = True
        thread.join(10)
