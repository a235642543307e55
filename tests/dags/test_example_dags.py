"""The example DAGs parse, their Params explain themselves, and their helpers behave."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from airflow.sdk import ObjectStoragePath

DAGS = Path(__file__).resolve().parents[2] / "dags"
sys.path.insert(0, str(DAGS))

from publishing.report import write_report  # noqa: E402
from publishing.source import FolderSource  # noqa: E402


@pytest.fixture(scope="module")
def dagbag() -> object:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1 (the floor) keeps it in airflow.models
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    return DagBag(str(DAGS))


def test_both_dags_parse_without_errors(dagbag: object) -> None:
    assert dagbag.import_errors == {}  # type: ignore[attr-defined]
    assert {"copyleaks_plagiarism_sweep", "copyleaks_content_moderation"} <= set(dagbag.dags)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("dag_id", "cron"), [("copyleaks_plagiarism_sweep", "0 0 * * *"), ("copyleaks_content_moderation", "0 * * * *")]
)
def test_schedules_and_params(dagbag: object, dag_id: str, cron: str) -> None:
    dag = dagbag.dags[dag_id]  # type: ignore[attr-defined]
    assert dag.timetable.expression == cron
    for name, param in dag.params.items():
        assert param.description, f"{dag_id}: Param {name!r} has no description for the trigger form"
    assert {"sandbox", "force"} <= set(dag.params)


def test_source_selects_by_interval_and_holds_atomically(tmp_path: Path) -> None:
    source = FolderSource(holds_file=tmp_path / "holds.json")
    day = source.articles_published_between(
        datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc)
    )
    assert day and all(a.published_at.day == 19 for a in day)
    assert all(len(a.body.split()) >= 60 for a in source.articles([f"a{n:02d}" for n in range(1, 31)]))
    assert source.hold("article", ["a05", "a12"], "test") == ["a05", "a12"]
    assert source.hold("article", ["a05"], "again") == []
    held = json.loads((tmp_path / "holds.json").read_text())
    assert set(held) == {"article:a05", "article:a12"}
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValueError, match="outside"):
        source.image_path("../../etc/passwd")


def test_planted_copies_are_in_the_data() -> None:
    source = FolderSource()
    corpus = json.loads((DAGS.parent / "airflow_copyleaks/testing/emulator/data/corpus.json").read_text())
    a05 = source.articles(["a05"])[0].body
    assert corpus[0]["text"].split(". ")[0] in a05
    a15, a02 = (a.body for a in source.articles(["a15", "a02"]))  # ordered by id: a02 first
    assert a15 in a02 or a02 in a15


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.bars: list[dict[str, str | None]] = []
        self._in_td = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self._in_td = True
            self.rows[-1].append("")
        if tag == "rect":
            self.bars.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_td = False

    def handle_data(self, data: str) -> None:
        if self._in_td:
            self.rows[-1][-1] += data


def test_report_table_and_chart_match_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    rows = [
        {"key": "a01", "title": "Clean <b>story</b>", "score": 3.5, "verdict": "clean", "sources": []},
        {
            "key": "a02",
            "title": "Copied",
            "score": 64.0,
            "verdict": "flagged",
            "sources": [{"title": "Tidal pools", "url": "https://example-news.test/x"}],
        },
    ]
    paths = write_report("dag", "manual__2026/x", "Sweep", rows, threshold=20, totals={"scanned": 2})
    assert "manual__2026_x" in paths["html"]
    parser = _Cells()
    parser.feed(ObjectStoragePath(paths["html"]).read_text())
    cells = [r for r in parser.rows if r]
    assert [c[0] for c in cells] == ["a01", "a02"]
    assert cells[0][1] == "Clean <b>story</b>"  # escaped, shown as text
    assert cells[1][2] == "64.0%" and cells[1][3] == "flagged" and cells[1][4] == "Tidal pools"
    assert [(b["data-key"], float(b["data-score"] or 0)) for b in parser.bars] == [("a01", 3.5), ("a02", 64.0)]
    assert json.loads(ObjectStoragePath(paths["json"]).read_text())["rows"][1]["score"] == 64.0
    assert ObjectStoragePath(paths["csv"]).read_text().splitlines()[2].startswith("a02,Copied,64.0,flagged")


def test_a_report_without_scores_has_no_chart_and_no_threshold() -> None:
    rows = [{"key": "comment:c001 (text)", "title": "toxic-v1 3 > 0", "score": None, "verdict": "flagged"}]
    paths = write_report("dag", "run", "Moderation", rows, threshold=None, totals={"checked": 1}, title_heading="Why")
    page = ObjectStoragePath(paths["html"]).read_text()
    assert "<svg" not in page and "threshold" not in page
    assert "<th>Why</th>" in page and "toxic-v1 3 &gt; 0" in page
