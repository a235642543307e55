"""Publishing archives built for tests, in the sample archive's layout (dags/data/README)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "dags" / "data"


def copied_articles(folder: Path, count: int, day: str = "2026-11-19") -> list[dict[str, Any]]:
    """``count`` articles published on ``day``, each mostly a copy of one of the emulator's web
    pages: their texts in ``folder/articles``, their index entries returned."""
    corpus = json.loads((ROOT / "airflow_copyleaks/testing/emulator/data/corpus.json").read_text())
    (folder / "articles").mkdir(parents=True, exist_ok=True)
    index = []
    for n in range(1, count + 1):
        page = corpus[n % len(corpus)]
        key = f"c{n:02d}"
        text = f"Copied story {n}\n\nOur correspondent number {n} filed this on a Thursday. {page['text']}\n"
        (folder / "articles" / f"{key}.txt").write_text(text)
        index.append({"id": key, "title": f"Copied story {n}", "author": "Staff", "section": "city",
                      "published_at": f"{day}T{n % 24:02d}:{n % 60:02d}:00Z",
                      "url": f"https://news.test/{key}", "hero_image": "images/none.png",
                      "text": f"articles/{key}.txt"})  # fmt: skip
    return index


def archive_of_copies(folder: Path, count: int, day: str = "2026-11-19") -> Path:
    """An archive holding only ``count`` copied articles published on ``day`` (no comments)."""
    index = copied_articles(folder, count, day)
    (folder / "articles.json").write_text(json.dumps(index))
    (folder / "comments.jsonl").write_text("")
    return folder


def sample_with_copies(folder: Path, count: int, day: str) -> Path:
    """The sample archive plus ``count`` copied articles on ``day`` (a day the sample leaves empty)."""
    shutil.copytree(SAMPLE, folder)
    sample = json.loads((folder / "articles.json").read_text())
    assert not [a for a in sample if a["published_at"].startswith(day)], f"the sample archive has articles on {day}"
    (folder / "articles.json").write_text(json.dumps(sample + copied_articles(folder, count, day)))
    return folder
