"""Identity, auth, rate limits, gzip, faults and the control API."""

from __future__ import annotations

import gzip
import json
import re
import time

import pytest
import requests

from airflow_copyleaks.testing.emulator import EmulatorClient

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def login(emu: EmulatorClient, **body: str) -> requests.Response:
    return requests.post(f"{emu.url}/v3/account/login/api", json=body, timeout=5)


def test_login_issues_token_with_copyleaks_timestamps(emu: EmulatorClient) -> None:
    resp = login(emu, email=emu.email, key=emu.api_key)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"access_token", ".issued", ".expires"}
    assert ISO.match(body[".issued"]) and ISO.match(body[".expires"])
    assert body[".expires"][:10] > body[".issued"][:10]  # 48 h later


def test_login_validation_and_bad_credentials(emu: EmulatorClient) -> None:
    resp = login(emu, email=emu.email)
    assert resp.status_code == 400 and resp.json() == {"Key": ["The key field is required."]}
    resp = login(emu, email=emu.email, key="11111111-1111-1111-1111-111111111111")
    assert resp.status_code == 401 and resp.json() == {"message": "Invalid login credentials."}
    # JSON property names bind case-insensitively.
    assert (
        requests.post(
            f"{emu.url}/v3/account/login/api", json={"EMAIL": emu.email, "Key": emu.api_key}, timeout=5
        ).status_code
        == 200
    )
    assert emu.stats()["login_failures"] == 1


def test_login_limit_blocks(emu: EmulatorClient) -> None:
    emu.set_config(login_limit=3, login_block_seconds=0.5)
    assert [login(emu, email=emu.email, key=emu.api_key).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert login(emu, email=emu.email, key=emu.api_key).json() == {"error": "Rate limit exceeded"}


def test_bearer_auth(emu: EmulatorClient) -> None:
    token = emu.login()
    url = f"{emu.url}/v3/scans/credits"
    for header in (f"Bearer {token}", f"bearer {token}", f"BEARER {token}"):
        resp = requests.get(url, headers={"Authorization": header}, timeout=5)
        assert resp.status_code == 200 and resp.json() == {"Amount": 1000}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {token}"}):
        resp = requests.get(url, headers=headers, timeout=5)
        assert resp.status_code == 401
        body = resp.json()
        assert body["status"] == 401 and body["title"] == "Unauthorized" and body["traceId"].startswith("00-")


def test_expire_tokens_and_short_lifetime(emu: EmulatorClient) -> None:
    token = emu.login()
    url = f"{emu.url}/v3/scans/credits"
    assert emu.expire_tokens() == 1
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401
    emu.set_config(token_lifetime_seconds=0.3)
    token = emu.login()
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 200
    time.sleep(0.4)
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401


def test_expire_tokens_fault_expires_every_token_as_the_call_arrives(emu: EmulatorClient) -> None:
    token = emu.login()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{emu.url}/v3/scans/credits"
    emu.add_fault("/v3/scans/credits", kind="expire_tokens", method="GET")
    codes = [requests.get(url, headers=headers, timeout=5).status_code for _ in range(2)]
    assert codes == [401, 401]  # the token is gone for good, not only for the faulted call
    fresh = {"Authorization": f"Bearer {emu.login()}"}
    assert requests.get(url, headers=fresh, timeout=5).status_code == 200  # the fault was used up
    assert [c["status"] for c in emu.calls() if c["path"] == "/v3/scans/credits"] == [401, 401, 200]
    with pytest.raises(requests.HTTPError):
        emu.add_fault("/v3/scans/credits", kind="expire_everything")


def test_drop_answer_fault_processes_the_call_then_loses_its_answer(emu: EmulatorClient) -> None:
    headers = {"Authorization": f"Bearer {emu.login()}"}
    body = {"base64": "VGhlIGhhcmJvdXIgdHJ1c3QgcHVibGlzaGVkIGl0cyBzdXJ2ZXkgdG9kYXkgaW4gZnVsbA==",
            "filename": "a.txt", "properties": {"sandbox": True, "webhooks": {"status": "http://127.0.0.1:9/{STATUS}"}}}
    emu.add_fault("/v3/scans/submit/file/lost-1", kind="drop_answer", method="PUT")
    with pytest.raises(requests.ConnectionError):
        requests.put(f"{emu.url}/v3/scans/submit/file/lost-1", json=body, headers=headers, timeout=5)
    assert emu.scan("lost-1") is not None  # Copyleaks has it, though the client never heard so
    again = requests.put(f"{emu.url}/v3/scans/submit/file/lost-1", json=body, headers=headers, timeout=5)
    assert again.status_code == 409
    log = [(c["status"], c["answer_dropped"]) for c in emu.calls() if c["path"].endswith("/lost-1")]
    assert log == [(201, True), (409, False)]


def test_rate_limit_per_account(emu: EmulatorClient) -> None:
    emu.set_config(requests_per_second=10)
    headers = {"Authorization": f"Bearer {emu.login()}"}
    with requests.Session() as s:
        codes = [s.get(f"{emu.url}/v3/scans/credits", headers=headers, timeout=5).status_code for _ in range(25)]
    assert codes[:10] == [200] * 10
    assert 429 in codes
    assert emu.stats()["rate_limited"] == codes.count(429)
    time.sleep(0.3)  # the bucket refills at 10/s
    assert requests.get(f"{emu.url}/v3/scans/credits", headers=headers, timeout=5).status_code == 200


def test_gzip_request_body(emu: EmulatorClient) -> None:
    raw = gzip.compress(json.dumps({"email": emu.email, "key": emu.api_key}).encode())
    resp = requests.post(
        f"{emu.url}/v3/account/login/api",
        data=raw,
        timeout=5,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert resp.status_code == 200
    resp = requests.post(
        f"{emu.url}/v3/account/login/api",
        data=b"not gzip",
        timeout=5,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert resp.status_code == 400


def test_faults_answer_before_processing(emu: EmulatorClient) -> None:
    headers = {"Authorization": f"Bearer {emu.login()}"}
    emu.add_fault("/v3/scans/credits", status=503, count=2, method="GET")
    codes = [requests.get(f"{emu.url}/v3/scans/credits", headers=headers, timeout=5).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    emu.add_fault("/v3/scans/submit", status=429, count=1)
    resp = requests.put(f"{emu.url}/v3/scans/submit/file/x-1", json={}, headers=headers, timeout=5)
    assert resp.status_code == 429 and resp.json() == {"error": "Rate limit exceeded"}
    emu.add_fault("/v3/scans/credits", kind="reset_connection")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{emu.url}/v3/scans/credits", headers=headers, timeout=5)
    calls = emu.calls()
    assert [c["status"] for c in calls[-5:]] == [503, 503, 200, 429, 0]  # 0: connection reset
    assert emu.stats()["credits_used"] == 0


def test_config_patch_and_reset(emu: EmulatorClient) -> None:
    emu.set_config(credits=7)
    token = emu.login()
    assert requests.get(
        f"{emu.url}/v3/scans/credits", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json() == {"Amount": 7}
    with pytest.raises(requests.HTTPError):
        emu.set_config(no_such_field=1)
    emu.reset()
    assert emu.config()["scan_duration_seconds"] == 0.3  # back to how the server started
    assert emu.calls() == [] and emu.stats()["logins"] == 0
    assert (
        requests.get(f"{emu.url}/v3/scans/credits", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code
        == 401
    )


def test_misc_endpoints_need_no_auth(emu: EmulatorClient) -> None:
    base = emu.url
    types = requests.get(f"{base}/v3/miscellaneous/supported-file-types", timeout=5).json()
    assert "pdf" in types["textual"] and "png" in types["ocr"]
    assert requests.get(f"{base}/v3/miscellaneous/supported-plagiarism-file-types", timeout=5).json() == types
    assert "en" in requests.get(f"{base}/v3/miscellaneous/ocr-languages-list", timeout=5).json()
    assert (
        "supportedAiFileTypes"
        in requests.get(f"{base}/v3/miscellaneous/supported-ai-text-detection-file-types", timeout=5).json()
    )
    ct = requests.get(f"{base}/v1/writing-feedback/correction-types/en", timeout=5).json()
    assert ct["correctionTypes"][0]["title"] == "General"
    assert "updates" in requests.get(f"{base}/v3/release-logs.json", timeout=5).json()


def test_usage_history_csv(emu: EmulatorClient) -> None:
    headers = {"Authorization": f"Bearer {emu.login()}"}
    resp = requests.get(f"{emu.url}/v3/scans/usages/history?start=01-01-2020", headers=headers, timeout=5)
    assert resp.status_code == 400 and "'end' time is missing" in resp.text
    resp = requests.get(
        f"{emu.url}/v3/scans/usages/history?start=01-01-2020&end=31-12-2099", headers=headers, timeout=5
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.text.splitlines()[0] == "Date,Scan Id,Credits,Type"
