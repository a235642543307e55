"""Held-back items are shared state: every machine that runs a report task sees the same holds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
sys.path.insert(0, str(DAGS))

from publishing.source import FolderSource  # noqa: E402


def _machine(monkeypatch: pytest.MonkeyPatch, home: Path, artifacts: Path) -> FolderSource:
    """A FolderSource as a worker with its own AIRFLOW_HOME (its own disk) builds it."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", artifacts.as_uri())
    return FolderSource()


def test_holds_recorded_on_one_machine_are_seen_on_another(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared-artifacts"
    first = _machine(monkeypatch, tmp_path / "worker-1", shared)
    assert first.hold("article", ["a05", "a12"], "plagiarism") == ["a05", "a12"]
    second = _machine(monkeypatch, tmp_path / "worker-2", shared)
    assert second.hold("comment", ["c03"], "moderation") == ["c03"]
    assert second.hold("article", ["a05"], "again") == []  # already held, seen across machines

    for source in (first, second):
        held = source.holds()
        assert set(held) == {"article:a05", "article:a12", "comment:c03"}
        assert held["comment:c03"]["reason"] == "moderation"
        assert held["article:a12"] == {**held["article:a12"], "kind": "article", "id": "a12"}
    # Nothing on either machine's own disk: the holds are one object per item in shared storage.
    assert not list((tmp_path / "worker-1").rglob("*.json"))
    assert not list((tmp_path / "worker-2").rglob("*.json"))
    assert (shared / "publishing" / "holds" / "article" / "a05.json").is_file()


def test_two_workers_holding_different_items_keep_both(tmp_path: Path) -> None:
    """No read-modify-write of one shared file: a stale reader cannot drop the other's hold."""
    url = (tmp_path / "holds").as_uri()
    one, two = FolderSource(holds_url=url), FolderSource(holds_url=url)
    assert one.holds() == two.holds() == {}  # both "read" before either writes
    one.hold("article", ["a01"], "first")
    two.hold("article", ["a02"], "second")
    assert set(one.holds()) == {"article:a01", "article:a02"}


@pytest.mark.parametrize(("kind", "item_id"), [("article", "../../etc/passwd"), ("../x", "a01"), ("article", "")])
def test_hold_refuses_ids_that_are_not_safe_object_names(tmp_path: Path, kind: str, item_id: str) -> None:
    source = FolderSource(holds_url=(tmp_path / "holds").as_uri())
    with pytest.raises(ValueError, match="1 to 64 letters"):
        source.hold(kind, ["a01", item_id], "test")
    assert source.holds() == {}  # checked before anything is written
