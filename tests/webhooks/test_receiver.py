"""The webhook receiver: what it stores, what it refuses, and where artifacts land."""

from __future__ import annotations

import json
import re
import time
import warnings
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
from airflow_copyleaks.webhooks.gate import StoreGate

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
    app = create_app(
        store=store,
        secret=SECRET,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        max_body_bytes=4096,
        expose_docs=True,
    )
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
    export_id = f"ex-{hostile}"
    body = urls.export_request_body(
        "http://testserver",
        hostile,
        export_id,
        SECRET,
        result_ids=[hostile],
        pdf=True,
        crawled=True,
        ai_detection=True,
        writing_feedback=True,
    )
    store.register_export(export_id, hostile, expected=[f"result:{hostile}", "pdf", "crawled", "ai", "writing"])
    headers = dict(body["completionWebhookHeaders"])
    tasks = [
        body["results"][0],
        body["pdfReport"],
        body["crawledVersion"],
        body["aiDetection"],
        body["writingFeedback"],
    ]
    for task in tasks:
        assert task["verb"] == "PUT" and dict(task["headers"]) == headers
        path = task["endpoint"].removeprefix("http://testserver")
        content = b"%PDF-1.4 fake" if path.endswith("/pdf-report") else json.dumps({"statistics": {}}).encode()
        response = client.put(path, content=content, headers=headers)
        assert response.status_code == 200 and response.json() == {"stored": True}, response.text
    root = tmp_path / "artifacts"
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 5
    for file in files:
        assert root in file.resolve().parents
        scan_folder, export_folder, name = file.relative_to(root).parts
        assert re.fullmatch(r"[0-9a-f]{16}-[a-z0-9-]+", scan_folder), scan_folder
        assert re.fullmatch(r"[0-9a-f]{16}-[a-z0-9-]+", export_folder), export_folder
        assert re.fullmatch(r"(result-[0-9a-f]{16}-[a-z0-9-]+|pdf|crawled|ai|writing)\.(json|pdf)", name), name
    assert not list(root.rglob("*.tmp"))
    assert not (tmp_path / "etc").exists() and not (tmp_path / "y").exists()
    export = store.get_export(export_id)
    assert export is not None
    assert {(a["kind"], a["result_id"]) for a in export.artifacts} == {
        ("result", hostile),
        ("pdf", None),
        ("crawled", None),
        ("ai", None),
        ("writing", None),
    }
    pdf = next(a for a in export.artifacts if a["kind"] == "pdf")
    assert pdf["size"] == len(b"%PDF-1.4 fake") and Path(pdf["location"].removeprefix("file://")).exists()
    # A re-delivery (Copyleaks retries a task) overwrites the file and is not a new artifact.
    again = client.put(
        body["pdfReport"]["endpoint"].removeprefix("http://testserver"), content=b"%PDF-1.4 fake", headers=headers
    )
    assert again.json() == {"stored": False}
    assert len([p for p in root.rglob("*") if p.is_file()]) == 5


def test_artifact_routes_accept_post_and_check_json(client: TestClient, store: ScanStore, tmp_path: Path) -> None:
    headers = export_headers("exp-p")
    assert client.post("/export/exp-p/crawled-version", json={"text": {}}, headers=headers).status_code == 200
    assert client.post("/export/exp-p/ai-detection", content=b"not json", headers=headers).status_code == 400
    assert client.post("/export/exp-p/writing-feedback", json=[1], headers=headers).status_code == 422
    assert client.put("/export/exp-p/results/r1", json={}, headers=scan_headers("exp-p")).status_code == 401
    # An export the store does not know: still filed, under a folder that names no id.
    files = [p.relative_to(tmp_path / "artifacts") for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    assert [f.parts[0] for f in files] == ["unregistered"]


def test_an_export_id_containing_results_still_reaches_its_route(client: TestClient, store: ScanStore) -> None:
    export_id = "team/results/7"
    body = urls.export_request_body("http://t", "s", export_id, SECRET, result_ids=["r/1"], pdf=True, crawled=False)
    headers = dict(body["completionWebhookHeaders"])
    store.register_export(export_id, "s", expected=["pdf", "result:r/1"])
    for task in (body["pdfReport"], body["results"][0]):
        assert client.put(task["endpoint"].removeprefix("http://t"), content=b"{}", headers=headers).status_code == 200
    done = {"completed": True, "tasks": []}
    response = client.post(body["completionWebhook"].removeprefix("http://t"), json=done, headers=headers)
    assert response.status_code == 200
    export = store.get_export(export_id)
    assert export is not None and export.status == "completed"
    assert {(a["kind"], a["result_id"]) for a in export.artifacts} == {("pdf", None), ("result", "r/1")}


def test_export_completion_with_an_unhealthy_task_fails_the_export(client: TestClient, store: ScanStore) -> None:
    store.register_export("exp-2", "s1", expected=["pdf"])
    payload = {"completed": True, "tasks": [{"endpoint": "e", "httpStatusCode": None, "isHealthy": False}]}
    assert client.post("/export/exp-2/completed", json=payload, headers=export_headers("exp-2")).status_code == 200
    export = store.get_export("exp-2")
    assert export is not None and export.status == "failed"
    wrong = client.post("/export/exp-2/completed", json=payload, headers=scan_headers("exp-2"))
    assert wrong.status_code == 401  # a scan credential is not an export credential


def test_export_completion_payload_variants(client: TestClient, store: ScanStore) -> None:
    headers = export_headers("exp-3")
    single = {"completed": True, "tasks": {"endpoint": "e", "httpStatusCode": 200, "isHealthy": True}}
    assert client.post("/export/exp-3/completed", json=single, headers=headers).json() == {"stored": True}
    assert client.post("/export/exp-3/completed", json=single, headers=headers).json() == {"stored": False}
    export = store.get_export("exp-3")
    assert export is not None and export.status == "completed"
    for bad in ({"completed": "yes"}, {"tasks": "all"}, {"tasks": [1]}, {"tasks": [{"httpStatusCode": "200"}]}):
        assert client.post("/export/exp-4/completed", json=bad, headers=export_headers("exp-4")).status_code == 422
    assert store.get_export("exp-4") is None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        ("error", {"status": 1, "error": {"code": 13, "message": "m"}}, 200),
        ("error", {"status": 1, "error": [{"code": "13", "message": "m"}, {"code": 1}]}, 200),
        ("error", {"status": 1, "error": {"code": [13]}}, 422),
        ("error", {"status": 1, "error": 5}, 422),
        ("completed", {"status": 0, "results": {"score": {"aggregatedScore": "high"}}}, 422),
        ("completed", {"status": 0, "scannedDocument": {"credits": "1"}}, 422),
        ("completed", {"status": 0, "results": {"internet": {}}}, 422),
        ("creditsChecked", {"status": 2, "credits": True}, 422),
        ("creditsChecked", {"status": "CreditsChecked", "credits": 2, "extra": {"kept": 1}}, 200),
    ],
)
def test_status_payload_shapes(
    client: TestClient, store: ScanStore, status: str, body: dict[str, Any], expected: int
) -> None:
    response = client.post(f"/status/{status}/shape", json=body, headers=scan_headers("shape"))
    assert response.status_code == expected, response.text
    assert store.count_events("shape") == (1 if expected == 200 else 0)


@pytest.mark.parametrize("score", ["37", [1], True])
def test_new_result_with_a_wrong_score_type_is_422(client: TestClient, store: ScanStore, score: Any) -> None:
    assert client.post("/new-result/s9", json={"score": score}, headers=scan_headers("s9")).status_code == 422
    assert store.count_events() == 0


def test_overlong_ids_are_refused(store: ScanStore, tmp_path: Path) -> None:
    app = create_app(store=store, secret="", allow_unauthenticated=True, artifacts_url=tmp_path.as_uri())
    with TestClient(app) as client:
        assert client.post(f"/status/indexed/{'a' * 65}", json={}).status_code == 422
        assert client.post("/status/indexed/open", json={"status": 3}).json() == {"stored": True}
    assert store.count_events() == 1


def test_delete_completion_has_no_body(client: TestClient, store: ScanStore) -> None:
    url, headers = urls.delete_webhook("http://testserver", "del-1", SECRET)
    response = client.post(url.removeprefix("http://testserver"), headers=dict(headers))
    assert response.json() == {"stored": True}


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. FastAPI's duplicate operation id warning
        schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/status/{status}/{scan_id}"]["post"]
    assert {"200", "400", "401", "404", "413", "422"} <= set(operation["responses"])
    assert "application/json" in operation["requestBody"]["content"]
    token = next(p for p in operation["parameters"] if p["name"] == TOKEN_HEADER)
    assert token["in"] == "header" and token["required"] is True
    pdf = schema["paths"]["/export/{export_id}/pdf-report"]
    assert set(pdf) == {"put", "post"} and "application/pdf" in pdf["put"]["requestBody"]["content"]
    for path in ("/new-result/{scan_id}", "/export/{export_id}/results/{result_id}", "/delete/{request_id}/completed"):
        assert path in schema["paths"]
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_health_reports_a_store_that_does_not_answer(tmp_path: Path) -> None:
    """Health opens the store once at most and then asks the database nothing (anonymous callers
    must not load it): a failed open is a 503, remembered, as for deliveries."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections are refused
    gate = StoreGate(opener=lambda: ScanStore(f"postgresql+psycopg2://nobody:x@127.0.0.1:{port}/none"))
    app = create_app(secret=SECRET, artifacts_url=tmp_path.as_uri(), gate=gate)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 503
        delivery = client.post("/status/completed/s1", json={"status": 0}, headers=scan_headers("s1"))
        assert delivery.status_code == 503
        response = client.get("/health")
    assert response.status_code == 503


def test_a_store_that_does_not_answer_gets_503_so_copyleaks_delivers_again(tmp_path: Path) -> None:
    """Over real HTTP: a clean 503 with Retry-After (never a 2xx that loses the webhook), and the
    keep-alive connection stays usable for the next delivery."""
    from airflow_copyleaks.testing.serving import serve_in_thread

    folder = tmp_path / "store"
    folder.mkdir()
    store = ScanStore(f"sqlite:///{folder / 'store.db'}")
    store.dispose()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()  # the database cannot be opened any more
    app = create_app(store=store, secret=SECRET, artifacts_url=(tmp_path / "artifacts").as_uri())
    with serve_in_thread(app) as url, requests.Session() as session:
        for _ in range(2):  # the same connection, twice
            delivery = {"json": {"status": 0}, "headers": scan_headers("outage")}
            response = session.post(f"{url}/status/completed/outage", **delivery)  # type: ignore[arg-type]
            assert response.status_code == 503 and response.headers["Retry-After"] == "30"
            assert response.json() == {"detail": "the store does not answer; deliver again later"}
        assert session.get(f"{url}/health").status_code == 503


def test_get_app_builds_from_configuration_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow_copyleaks.webhooks import app as app_module

    monkeypatch.setattr(app_module, "_app", None)
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__STORE_URL", f"sqlite:///{tmp_path / 'configured.db'}")
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", SECRET)
    assert app_module.get_app() is app_module.get_app()
    with TestClient(app_module.get_app()) as client:
        response = client.post("/status/indexed/cfg", json={"status": 3}, headers=scan_headers("cfg"))
    assert response.json() == {"stored": True}
    assert ScanStore(f"sqlite:///{tmp_path / 'configured.db'}").get_scan("cfg") is not None


def test_receiver_refuses_to_start_without_a_secret(store: ScanStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match=r"\[copyleaks\] webhook_secret.*AIRFLOW__COPYLEAKS__WEBHOOK_SECRET"):
        create_app(store=store, secret="", allow_unauthenticated=False)
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", "")
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ALLOW_UNAUTHENTICATED_WEBHOOKS", "False")
    with pytest.raises(RuntimeError, match="webhook_secret"):
        create_app(store=store)
    assert create_app(store=store, secret="", allow_unauthenticated=True)


def test_scan_ids_with_slashes_round_trip(client: TestClient, store: ScanStore) -> None:
    hooks = urls.status_webhook("http://testserver", "team/doc.1", SECRET)
    url = hooks["status"].replace("{STATUS}", "completed").removeprefix("http://testserver")
    assert "%2F" in url
    assert client.post(url, json=COMPLETED, headers=dict(hooks["statusHeaders"])).status_code == 200
    assert store.get_scan("team/doc.1") is not None


@pytest.fixture
def http_receiver(store: ScanStore, tmp_path: Path) -> Iterator[str]:
    """The receiver served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    from airflow_copyleaks.testing.serving import serve_in_thread

    app = create_app(store=store, secret=SECRET, artifacts_url=(tmp_path / "artifacts").as_uri(), max_body_bytes=4096)
    with serve_in_thread(app) as url:
        yield url


def _raw_request(base_url: str, head: str) -> tuple[int, float]:
    """Send only a request head (no body) and return the status code and how long it took."""
    import socket

    host, port = base_url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(head.encode())
        answer = conn.recv(4096).decode(errors="replace")
    return int(answer.split()[1]), time.monotonic() - started


def test_over_real_http(http_receiver: str, store: ScanStore, tmp_path: Path) -> None:
    hooks = urls.status_webhook(http_receiver, "team/doc.1", SECRET)
    for expected in (True, False):
        response = requests.post(
            hooks["status"].replace("{STATUS}", "completed"),
            data=json.dumps(COMPLETED),
            headers={**dict(hooks["statusHeaders"]), "Content-Type": "application/json"},
            timeout=5,
        )
        assert response.status_code == 200 and response.json() == {"stored": expected}
    assert store.get_scan("team/doc.1").status == "completed"  # type: ignore[union-attr]
    body = urls.export_request_body(http_receiver, "team/doc.1", "ex-1", SECRET, result_ids=[], pdf=True, crawled=False)
    store.register_export("ex-1", "team/doc.1", expected=["pdf"])
    task = body["pdfReport"]
    response = requests.request(task["verb"], task["endpoint"], data=b"%PDF", headers=dict(task["headers"]), timeout=5)
    assert response.status_code == 200
    done = {"completed": True, "tasks": [{"endpoint": task["endpoint"], "httpStatusCode": 200, "isHealthy": True}]}
    requests.post(body["completionWebhook"], json=done, headers=dict(body["completionWebhookHeaders"]), timeout=5)
    export = store.get_export("ex-1")
    assert export is not None and export.status == "completed" and len(export.artifacts) == 1


def test_over_real_http_refusals_read_no_body(http_receiver: str, store: ScanStore) -> None:
    # The heads promise bodies that never come: an answer proves the receiver did not wait for them.
    head = "POST /status/completed/s1 HTTP/1.1\r\nHost: x\r\n{header}: {token}\r\nContent-Length: {length}\r\n\r\n"
    token = webhook_token(SECRET, "scan", "s1")
    status, took = _raw_request(http_receiver, head.format(header=TOKEN_HEADER, token=token, length=10**9))
    assert status == 413 and took < 2
    status, took = _raw_request(http_receiver, head.format(header=TOKEN_HEADER, token="forged", length=5000))
    assert status == 401 and took < 2
    assert store.count_events() == 0


def test_truncated_deliveries_store_nothing(http_receiver: str, store: ScanStore) -> None:
    """A body cut short, in its content or in transit, leaves no event; the full one is stored."""
    import socket

    token = webhook_token(SECRET, "scan", "s1")
    whole = json.dumps(COMPLETED).encode()
    cut = whole[: len(whole) // 2]
    head = (
        f"POST /status/completed/s1 HTTP/1.1\r\nHost: x\r\n{TOKEN_HEADER}: {token}\r\n"
        "Content-Type: application/json\r\n"
    )

    # Cut in its content: the length is honest, the JSON is not whole.
    status, _ = _raw_request(http_receiver, head + f"Content-Length: {len(cut)}\r\n\r\n" + cut.decode())
    assert status == 400

    # Cut in transit: the sender promises the whole body, sends half and hangs up.
    host, port = http_receiver.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall((head + f"Content-Length: {len(whole)}\r\n\r\n").encode() + cut)
        conn.shutdown(socket.SHUT_WR)
        answer = conn.recv(4096)
    assert not answer.startswith(b"HTTP/1.1 2"), answer  # never "stored" for half a body
    assert store.count_events() == 0

    # Copyleaks delivers again, whole this time.
    response = requests.post(
        f"{http_receiver}/status/completed/s1",
        data=whole,
        headers={TOKEN_HEADER: token, "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 200 and response.json() == {"stored": True}
    assert store.count_events() == 1


@pytest.mark.parametrize(
    "raw", [b'{"scannedDocument": {"totalWords": 1e999}}', b'{"credits": NaN}', b'{"credits": 100000000000000000000}']
)
def test_numbers_no_column_can_hold_are_422_not_500(client: TestClient, store: ScanStore, raw: bytes) -> None:
    response = client.post("/status/completed/s1", content=raw, headers=scan_headers("s1"))
    assert response.status_code == 422 and "finite number" in response.json()["detail"], response.text
    assert store.count_events() == 0


def test_a_credential_with_non_ascii_characters_is_a_401(client: TestClient, store: ScanStore) -> None:
    headers = [(TOKEN_HEADER.encode(), b"caf\xe9"), (b"content-type", b"application/json")]
    response = client.post("/status/completed/s1", content=b"{}", headers=headers)
    assert response.status_code == 401 and store.count_events() == 0


def test_delete_ids_are_limited_to_what_the_store_can_hold(client: TestClient, store: ScanStore) -> None:
    for length, expected in ((57, 200), (58, 422)):
        url, headers = urls.delete_webhook("http://testserver", "d" * length, SECRET)
        response = client.post(url.removeprefix("http://testserver"), headers=dict(headers))
        assert response.status_code == expected, (length, response.text)
    assert store.count_events() == 1  # on PostgreSQL the 58-character one would not fit: never tried
