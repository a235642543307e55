"""The gate's staging and in-review markers, in object storage below a real artifacts folder."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from publishing import gate_drafts
from publishing.source_drafts import Draft

PNG = b"\x89PNG\r\n\x1a\n" + b"hero" * 10


@pytest.fixture
def artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", tmp_path.as_uri())
    return tmp_path


class _OneImage:
    def read_hero_image(self, draft: Draft) -> bytes | None:
        return PNG


def test_a_marker_cleared_while_listing_is_skipped(artifacts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate_drafts.mark_in_review("d01", "First", "flagged", "r1")
    gate_drafts.mark_in_review("d02", "Second", "flagged", "r1")
    listed = gate_drafts.in_review_ids

    def listed_then_decided() -> set[str]:
        ids = listed()
        gate_drafts.clear_in_review("d01")  # an editor's decision lands right after the listing
        return ids

    monkeypatch.setattr(gate_drafts, "in_review_ids", listed_then_decided)

    assert [d["id"] for d in gate_drafts.unreviewed()] == ["d02"]


def test_a_staged_image_takes_the_suffix_of_the_url_path(artifacts: Path) -> None:
    draft = Draft(
        "7", "Title", "Body.", "https://cms.example/wp-content/uploads/a.PNG?ver=2#top",
        datetime(2026, 12, 1, tzinfo=timezone.utc), "draft",
    )  # fmt: skip

    (staged,) = gate_drafts.stage(_OneImage(), [draft], "gate", "run 1")

    assert staged["image"].endswith("/7.png")
    assert next((artifacts / "inputs").rglob("7.png")).read_bytes() == PNG
