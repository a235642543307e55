"""Rotating the webhook secret in the middle of a sweep loses no webhook: scans submitted before
the change keep working credentials (webhook_previous_secrets), new URLs carry the new secret,
and a credential under a secret no longer listed is refused."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_copyleaks import config
from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.testing.serving import serve_in_thread
from airflow_copyleaks.webhooks import urls
from airflow_copyleaks.webhooks.app import create_app
from airflow_copyleaks.webhooks.auth import webhook_token

OLD, NEW = "old-secret-before-rotation-0123", "new-secret-after-rotation-4567"
SCANS = 40


def issued(scan_id: str) -> dict[str, Any]:
    """The status webhook a submit hands Copyleaks now: signed with the configured secret."""
    return urls.status_webhook("BASE", scan_id, config.webhook_secret())


def deliver(base: str, hooks: dict[str, Any]) -> int:
    url = hooks["status"].replace("BASE", base).replace("{STATUS}", "completed")
    return requests.post(url, json={"status": 0}, headers=dict(hooks["statusHeaders"]), timeout=30).status_code


def test_a_rotation_in_the_middle_of_a_sweep_loses_no_webhook(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ScanStore(store_url)
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", OLD)
    first_half = [issued(f"sweep-{i}") for i in range(SCANS // 2)]
    with serve_in_thread(create_app(store=store, artifacts_url=tmp_path.as_uri())) as base:
        early = [deliver(base, hooks) for hooks in first_half[:5]]  # some scans finish before the change

    # The rotation: new secret, the old one kept as previous; the receiver restarts with it.
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", NEW)
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_PREVIOUS_SECRETS", OLD)
    second_half = [issued(f"sweep-{i}") for i in range(SCANS // 2, SCANS)]
    assert all(
        h["statusHeaders"][0][1] == webhook_token(NEW, "scan", f"sweep-{i + SCANS // 2}")
        for i, h in enumerate(second_half)
    )
    with serve_in_thread(create_app(store=store, artifacts_url=tmp_path.as_uri())) as base:
        # Scans issued before the rotation and after it, delivered interleaved.
        late = [
            deliver(base, hooks)
            for pair in itertools.zip_longest(first_half[5:], second_half)
            for hooks in pair
            if hooks is not None
        ]
        forged = deliver(base, urls.status_webhook("BASE", "sweep-0", "some-other-secret-0000000"))

    assert early == [200] * 5
    assert late == [200] * (SCANS - 5)
    assert forged == 401
    completed = store.get_scans([f"sweep-{i}" for i in range(SCANS)])
    assert sorted(s.status for s in completed.values()) == ["completed"] * SCANS
    store.dispose()


def test_a_secret_no_longer_listed_is_refused(store_url: str, tmp_path: Path) -> None:
    store = ScanStore(store_url)
    hooks = urls.status_webhook("BASE", "retired", OLD)
    with serve_in_thread(
        create_app(store=store, secret=NEW, previous_secrets=[], artifacts_url=tmp_path.as_uri())
    ) as base:
        assert deliver(base, hooks) == 401
    assert store.count_events() == 0
    store.dispose()
