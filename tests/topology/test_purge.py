"""``airflow-copyleaks store purge``: old scans, events, exports, artifacts and check results go;
recent ones and the store's working state stay. On SQLite and PostgreSQL (``store_url``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from airflow_copyleaks.cli import main
from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.store import schema as t
from airflow_copyleaks.webhooks.artifacts import ArtifactWriter


def fill(store: ScanStore, artifacts: Path, name: str, age_days: float) -> Path:
    """One scan with an event, an export with a file, a check result, all ``age_days`` old."""
    store.register_scan(name, kind="text", action="scan", sandbox=True, meta={"document_key": name})
    store.record_event(name, "completed", {"status": 0, "scannedDocument": {"scanId": name}}, raw_body=name.encode())
    store.register_export(f"{name}-export", name, expected=["pdf"])
    written = ArtifactWriter(artifacts.as_uri()).write(name, f"{name}-export", "pdf", None, b"%PDF " + name.encode())
    store.record_artifact(
        f"{name}-export", "pdf", result_id=None, location=written.location, size=written.size, sha256=written.sha256
    )
    store.save_check_result(f"{name}-check", "moderation", {"flagged": False})
    when = datetime.now(timezone.utc) - timedelta(days=age_days)
    with store._write() as conn:
        conn.execute(sa.update(t.scan).where(t.scan.c.scan_id == name).values(created_at=when, updated_at=when))
        conn.execute(sa.update(t.event).where(t.event.c.scan_id == name).values(received_at=when))
        conn.execute(sa.update(t.export).where(t.export.c.scan_id == name).values(created_at=when))
        conn.execute(sa.update(t.artifact).where(t.artifact.c.export_id == f"{name}-export").values(created_at=when))
        conn.execute(
            sa.update(t.check_result).where(t.check_result.c.scan_id == f"{name}-check").values(created_at=when)
        )
    return Path(written.location.removeprefix("file://"))


def kept(store: ScanStore, name: str) -> dict[str, bool]:
    return {
        "scan": store.get_scan(name) is not None,
        "event": store.get_event_payload(name, "completed") is not None,
        "export": store.get_export(f"{name}-export") is not None,
        "check": store.get_check_result(f"{name}-check") is not None,
    }


def test_purge_removes_old_records_and_their_artifact_files(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ScanStore(store_url)
    old_file = fill(store, tmp_path, "af-old", age_days=40)
    new_file = fill(store, tmp_path, "af-new", age_days=2)
    newest_event = store.latest_event_id()
    assert old_file.exists() and new_file.exists()

    assert main(["store", "purge", "--older-than", "30d", "--store-url", store_url]) == 0

    assert kept(store, "af-old") == {"scan": False, "event": False, "export": False, "check": False}
    assert kept(store, "af-new") == {"scan": True, "event": True, "export": True, "check": True}
    assert not old_file.exists() and new_file.exists()
    assert store.latest_event_id() == newest_event  # the watchers' cursor never goes back
    assert "removed" in capsys.readouterr().out


def test_the_newest_event_stays_so_event_ids_never_go_back(store_url: str, tmp_path: Path) -> None:
    store = ScanStore(store_url)
    fill(store, tmp_path, "af-only", age_days=40)
    before = store.latest_event_id()
    assert main(["store", "purge", "--older-than", "30d", "--store-url", store_url]) == 0
    store.register_scan("af-later", kind="text", action="scan", sandbox=True, meta={})
    store.record_event("af-later", "completed", {"status": 0}, raw_body=b"later")
    assert store.latest_event_id() > before


def test_the_default_age_is_the_retention_setting_and_dry_run_changes_nothing(
    store_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ScanStore(store_file)
    old_file = fill(store, tmp_path, "af-twenty", age_days=20)
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__RETENTION_DAYS", "10")
    assert main(["store", "purge", "--dry-run"]) == 0
    assert "would remove" in capsys.readouterr().out
    assert kept(store, "af-twenty")["scan"] and old_file.exists()
    assert main(["store", "purge"]) == 0
    assert not kept(store, "af-twenty")["scan"] and not old_file.exists()


@pytest.mark.parametrize("age", ["0d", "-3d", "thirty", "30x"])
def test_a_bad_age_is_refused_naming_the_option_and_nothing_is_removed(
    age: str, store_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ScanStore(store_file)
    fill(store, tmp_path, "af-old", age_days=400)
    assert main(["store", "purge", f"--older-than={age}"]) == 2
    assert "--older-than" in capsys.readouterr().err
    assert kept(store, "af-old")["scan"]
