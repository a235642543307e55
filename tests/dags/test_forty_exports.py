"""A sweep with 40 flagged articles exports all 40 with no failed task.

Copyleaks allows 10 exports a minute per account, shared by every process: the 40 mapped export
tasks must wait for their slot (the hook's shared pacing) rather than fail on 429 after their
retries. The emulator enforces the limit as Copyleaks does, so this run takes at least four
minutes of the emulator's clock.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.dags.conftest import DAGS, ExampleDags, output

FLAGGED = 40


def _archive_of_copies(folder: Path) -> Path:
    """A publishing archive of 40 articles published on 19 Nov, each mostly a copy of a web page."""
    corpus = json.loads((DAGS.parent / "airflow_copyleaks/testing/emulator/data/corpus.json").read_text())
    (folder / "articles").mkdir(parents=True)
    index = []
    for n in range(1, FLAGGED + 1):
        page = corpus[n % len(corpus)]
        key = f"c{n:02d}"
        text = f"Copied story {n}\n\nOur correspondent number {n} filed this on a Thursday. {page['text']}\n"
        (folder / "articles" / f"{key}.txt").write_text(text)
        index.append({"id": key, "title": f"Copied story {n}", "author": "Staff", "section": "city",
                      "published_at": f"2026-11-19T{n % 24:02d}:{n % 60:02d}:00Z",
                      "url": f"https://news.test/{key}", "hero_image": "images/none.png",
                      "text": f"articles/{key}.txt"})  # fmt: skip
    (folder / "articles.json").write_text(json.dumps(index))
    (folder / "comments.jsonl").write_text("")
    return folder


@pytest.mark.timeout(1800)  # 40 exports at Copyleaks' 10 a minute: four minutes at the very least
def test_forty_flagged_articles_are_all_exported_with_no_failed_task(
    example_dags: ExampleDags, copyleaks_emulator: Any, tmp_path: Path
) -> None:
    assert copyleaks_emulator.stats()  # the emulator keeps Copyleaks' 10 exports per minute
    example_dags.env["COPYLEAKS_EXAMPLE_DATA"] = str(_archive_of_copies(tmp_path / "archive"))
    result = example_dags.run(SWEEP_ID, logical_date="2026-11-20T00:00:00+00:00", timeout=1200)
    assert result.returncode == 0, output(result)
    exports = re.findall(r"^TASK export_flagged (\d+) (\S+)$", result.stdout, re.M)
    assert len(exports) == FLAGGED and {state for _, state in exports} == {"success"}, exports
    assert "failed" not in re.findall(r"^TASK \S+ -?\d+ (\S+)$", result.stdout, re.M)
    accepted = [c for c in copyleaks_emulator.calls() if "/export/" in c["path"] and c["status"] < 300]
    assert len({c["path"] for c in accepted if c["method"] == "POST"}) == FLAGGED
    report = example_dags.report(SWEEP_ID, result)
    assert sum(1 for row in report["rows"] if row["verdict"] == "flagged") == FLAGGED


SWEEP_ID = "copyleaks_plagiarism_sweep"
