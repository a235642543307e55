"""A publishing archive of any size, in the layout of dags/data (read by the sweep's FolderSource).

Texts are made of generated words, so no two articles share a run of eight words (what the emulator
counts as copying) except the planted ones: the first articles reuse texts of the sample archive
that copy a web page of the emulator's corpus, so the sweep flags and exports them.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "dags" / "data"
PLANTED = ["a05", "a10"]  # sample articles that copy a web page (dags/data/README.md)
PUBLISHED = datetime(2026, 11, 25, 6, 0, tzinfo=timezone.utc)
ARCHIVED = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)


def _words(rng: random.Random, count: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "po", "ga", "fe", "zu", "ri", "ba", "no"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def write_archive(root: Path, articles: int, archived: int = 3, words: int = 90, seed: int = 12) -> list[str]:
    """Write ``articles`` new articles (and ``archived`` older ones); return the new ones' ids."""
    rng = random.Random(seed)
    (root / "articles").mkdir(parents=True, exist_ok=True)
    entries, new_ids = [], []
    for n in range(archived + articles):
        is_new = n >= archived
        key = f"n{n - archived:03d}" if is_new else f"old{n}"
        planted = PLANTED[n - archived] if is_new and n - archived < len(PLANTED) else None
        if planted:
            text = (SAMPLE / "articles" / f"{planted}.txt").read_text()
        else:
            text = f"Article {key} " + " ".join(_words(rng, 4)) + "\n\n" + " ".join(_words(rng, words)) + ".\n"
        (root / "articles" / f"{key}.txt").write_text(text)
        when = (PUBLISHED + timedelta(minutes=n)) if is_new else (ARCHIVED + timedelta(hours=n))
        entries.append(
            {
                "id": key,
                "title": text.splitlines()[0],
                "author": "Test Desk",
                "section": "city",
                "published_at": when.isoformat().replace("+00:00", "Z"),
                "url": f"https://news.example-town.test/{key}",
                "hero_image": "images/none.png",
                "text": f"articles/{key}.txt",
            }
        )
        if is_new:
            new_ids.append(key)
    (root / "articles.json").write_text(json.dumps(entries, indent=1))
    (root / "comments.jsonl").write_text("")
    return new_ids
