"""The sample-folder draft source: the shipped drafts, and decisions kept in object storage (below
``artifacts_url``), where every machine sees them, never in the DAGs folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from publishing.source_drafts import Decision, draft_source
from publishing.source_folder import DATA, FolderDraftSource

from airflow_copyleaks.testing.emulator.moderation import LEXICON


def _snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")}


def test_the_sample_drafts_are_listed_with_text_and_images(tmp_path: Path) -> None:
    source = FolderDraftSource(state_url=tmp_path.as_uri())

    drafts = source.list_drafts()

    assert [d.id for d in drafts] == ["d01", "d02", "d03"]
    assert {d.status for d in drafts} == {"draft"} and all(d.body and d.title for d in drafts)
    d01, d02, _ = drafts
    assert d01.hero_image_url == (DATA / "images" / "hero_d01.png").as_uri()
    assert source.read_hero_image(d01) == (DATA / "images" / "hero_d01.png").read_bytes()
    assert d02.hero_image_url is None and source.read_hero_image(d02) is None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _shares_a_run(text: str, other: str, run: int = 8) -> bool:
    def runs(words: list[str]) -> set[tuple[str, ...]]:
        return {tuple(words[i : i + run]) for i in range(len(words) - run + 1)}

    return bool(runs(_words(text)) & runs(_words(other)))


def test_the_planted_cases_are_where_the_data_readme_says(tmp_path: Path) -> None:
    drafts = {d.id: d for d in FolderDraftSource(state_url=tmp_path.as_uri()).list_drafts()}
    articles = {p.stem: p.read_text() for p in (DATA / "articles").glob("*.txt")}
    terms = [t for label_terms in LEXICON.values() for t in label_terms]

    def offending(text: str) -> list[str]:
        return [t for t in terms if re.search(rf"\b{re.escape(t)}\b", text, re.IGNORECASE)]

    copied = {d: sorted(a for a, text in articles.items() if _shares_a_run(drafts[d].text(), text)) for d in drafts}
    assert copied == {"d01": [], "d02": ["a03"], "d03": []}
    assert offending(drafts["d01"].text()) == [] and offending(drafts["d02"].text()) == []
    assert sorted(offending(drafts["d03"].text())) == ["idiot", "pathetic", "punch you"]


def test_decisions_are_kept_below_the_artifacts_url_not_in_the_dags_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", artifacts.as_uri())
    before = _snapshot(DATA)
    source = draft_source("folder")

    results = [
        source.apply_decision("d01", Decision.PUBLISH),
        source.apply_decision("d02", "reject", "A copy of a03."),
        source.apply_decision("d03", "request_edits", "Take out the quoted insults."),
    ]

    assert [(r.outcome, r.status) for r in results] == [
        ("updated", "publish"),
        ("updated", "trash"),
        ("updated", "pending"),
    ]
    record = json.loads((artifacts / "publishing" / "drafts" / "d03.json").read_text())
    assert (record["status"], record["decision"], record["note"]) == (
        "pending",
        "request_edits",
        "Take out the quoted insults.",
    )
    # Another machine (a new source over the same object storage) sees the same state.
    again = FolderDraftSource()
    assert again.list_drafts() == []
    assert again.get_draft("d03").note == "Take out the quoted insults."  # type: ignore[union-attr]
    assert _snapshot(DATA) == before  # nothing written next to the DAGs


def test_a_sample_draft_removed_meanwhile_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(DATA, archive)
    source = FolderDraftSource(root=archive, state_url=(tmp_path / "state").as_uri())
    assert len(source.list_drafts()) == 3
    entries = json.loads((archive / "drafts.json").read_text())
    (archive / "drafts.json").write_text(json.dumps([e for e in entries if e["id"] != "d02"]))

    result = source.apply_decision("d02", "publish")

    assert (result.outcome, result.status) == ("missing", None)
    assert not (tmp_path / "state").exists()  # no record written for a draft that is gone


def test_a_decided_draft_is_not_decided_again(tmp_path: Path) -> None:
    source = FolderDraftSource(state_url=tmp_path.as_uri())
    source.apply_decision("d01", "reject")

    again = source.apply_decision("d01", "publish")

    assert (again.outcome, again.status) == ("missing", None)  # in the bin: never published from there
    assert source.get_draft("d01").status == "trash"  # type: ignore[union-attr]


def test_a_draft_id_cannot_name_another_object(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(DATA, archive)
    entries = json.loads((archive / "drafts.json").read_text())
    (archive / "drafts.json").write_text(json.dumps([*entries, {**entries[0], "id": "../escape"}]))
    source = FolderDraftSource(root=archive, state_url=(tmp_path / "state").as_uri())

    with pytest.raises(ValueError, match="draft id '../escape' must be"):
        source.apply_decision("../escape", "publish")
    assert not (tmp_path / "escape.json").exists()


def test_the_default_source_is_the_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COPYLEAKS_DRAFT_SOURCE", raising=False)
    assert isinstance(draft_source(), FolderDraftSource)
    monkeypatch.setenv("COPYLEAKS_DRAFT_SOURCE", "ghost")
    with pytest.raises(ValueError, match="draft source must be 'folder' or 'wordpress'"):
        draft_source()


def test_a_draft_published_by_someone_else_is_moved_and_a_new_note_is_written(tmp_path: Path) -> None:
    source = FolderDraftSource(state_url=tmp_path.as_uri())
    # Someone else published d01 (no gate note); d02 was sent back for edits once already.
    (tmp_path / "d01.json").write_text(json.dumps({"status": "publish", "modified_at": "2026-12-01T09:00:00+00:00"}))
    source.apply_decision("d02", "request_edits", "Request edits by ann")

    published = source.apply_decision("d01", "publish", "every Copyleaks check passed")
    edits = source.apply_decision("d02", "request_edits", "Request edits by bob")
    retried = source.apply_decision("d02", "request_edits", "Request edits by bob")

    assert (published.outcome, published.status) == ("moved", "publish")
    assert (edits.outcome, edits.status) == ("updated", "pending") and "already" not in edits.message
    assert source.get_draft("d02").note == "Request edits by bob"  # type: ignore[union-attr]
    assert (retried.outcome, retried.status) == ("updated", "pending") and "already" in retried.message
