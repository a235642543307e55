"""Which refused deliveries make a scan due for an early resend.

A delivery refused for a wrong credential is how a real Copyleaks delivery signed with an old
secret looks: its webhook is lost, so the waits resend it early. A request with no credential at
all proves nothing (anyone who knows a scan id can send one) and must not spend the account's
resend budget; nor may a burst of wrong-credential requests make a scan due again and again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.testing.serving import serve_in_thread
from airflow_copyleaks.waits.resend_policy import ResendPolicy
from airflow_copyleaks.webhooks.app import create_app
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token

SECRET = "the-current-webhook-secret-0123456789"
EXPECTED = 3600.0  # the scan's expected duration: silence alone makes it due for no resend here


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[tuple[str, ScanStore]]:
    store = ScanStore(store_url)
    store.register_scan("real-scan", kind="file", action="scan", sandbox=True)
    with serve_in_thread(create_app(store=store, secret=SECRET, artifacts_url=tmp_path.as_uri())) as url:
        yield url, store
    store.dispose()


def post(base: str, scan_id: str, token: str | None) -> int:
    headers = {"Content-Type": "application/json"} | ({TOKEN_HEADER: token} if token is not None else {})
    url = f"{base}/status/completed/{quote(scan_id, safe='')}"
    return requests.post(url, json={"status": 0}, headers=headers, timeout=30).status_code


def settle(base: str, n: int) -> None:
    """A genuine delivery for another scan: the receiver writes what refusals it noted with it."""
    scan_id = f"other-{n}"
    assert post(base, scan_id, webhook_token(SECRET, "scan", scan_id)) == 200


def test_a_request_without_credential_leaves_the_scan_not_due(served: tuple[str, ScanStore]) -> None:
    base, store = served
    for token in (None, ""):
        assert post(base, "real-scan", token) == 401
    settle(base, 0)
    assert store.delivery_failures(["real-scan"]) == {}
    policy = ResendPolicy()
    policy.watch("real-scan", time.time(), EXPECTED)
    assert not policy.delivery_failed(store.delivery_failures(["real-scan"]))
    assert policy.due(time.time() + 1) == []


def test_a_wrong_credential_makes_the_scan_due_once(served: tuple[str, ScanStore]) -> None:
    base, store = served
    stale = webhook_token("an-old-secret-no-longer-listed-0000", "scan", "real-scan")
    policy = ResendPolicy()
    policy.watch("real-scan", time.time(), EXPECTED)
    assert post(base, "real-scan", stale) == 401
    settle(base, 1)
    first = store.delivery_failures(["real-scan"])
    assert set(first) == {"real-scan"}
    assert policy.delivery_failed(first) and policy.due(time.time() + 1) == ["real-scan"]
    policy.resent("real-scan", time.time())
    # More refusals right after (Copyleaks' own retries, or someone replaying the stale one):
    # the first is still the latest recorded, so the scan is not due again.
    for n in range(3):
        time.sleep(1.1)  # the receiver writes its noted refusals at most once a second
        assert post(base, "real-scan", stale) == 401
        settle(base, 2 + n)
    assert store.delivery_failures(["real-scan"]) == first
    assert not policy.delivery_failed(store.delivery_failures(["real-scan"]))
