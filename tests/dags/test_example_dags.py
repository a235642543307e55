"""The example DAGs parse, their Params explain themselves, and their helpers behave."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
sys.path.insert(0, str(DAGS))

from publishing.report import RunInfo, write_report  # noqa: E402
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
    timetable = dag.timetable
    # Airflow 3.1 (the floor) keeps the cron expression only as _expression.
    assert getattr(timetable, "expression", getattr(timetable, "_expression", None)) == cron
    for name, param in dag.params.items():
        assert param.description, f"{dag_id}: Param {name!r} has no description for the trigger form"
    assert {"sandbox", "force"} <= set(dag.params)


def test_source_selects_by_interval_and_holds_atomically(tmp_path: Path) -> None:
    source = FolderSource(holds_url=(tmp_path / "holds").as_uri())
    day = source.articles_published_between(
        datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 20, tzinfo=timezone.utc)
    )
    assert [a.id for a in day] == ["a14", "a15"]
    everything = source.articles([f"a{n:02d}" for n in range(1, 17)])
    assert len(everything) == 16
    for article in everything:  # whole paragraphs under a real title, not cut-off sentences
        text = source.read_text(article)
        assert text.startswith(article.title + "\n\n") and text.rstrip().endswith((".", '"', "”"))
        assert len(text.split()) >= 120 and text.count("\n\n") >= 3
        assert Path(source.text_location(article)).read_text() == text
    assert source.hold("article", ["a05", "a12"], "test") == ["a05", "a12"]
    assert source.hold("article", ["a05"], "again") == []
    held = source.holds()
    assert set(held) == {"article:a05", "article:a12"}
    assert held["article:a05"]["reason"] == "again"  # the latest reason, as before
    assert not list(tmp_path.rglob("*.partial"))  # each object written whole, no leftovers
    with pytest.raises(ValueError, match="outside"):
        source.image_path("../../etc/passwd")


def test_planted_cases_are_in_the_data_as_its_readme_says() -> None:
    """dags/data/README.md lists the planted copies and comments; the data holds them."""
    source = FolderSource()
    corpus = {
        d["url"]: d["text"]
        for d in json.loads((DAGS.parent / "airflow_copyleaks/testing/emulator/data/corpus.json").read_text())
    }
    text = {a.id: source.read_text(a) for a in source.articles([f"a{n:02d}" for n in range(1, 17)])}
    sentences = {url: body.split(". ") for url, body in corpus.items()}
    tidal, shop, bikes = (
        sentences[f"https://example-news.test/{p}"]
        for p in ("science/tidal-pools", "economy/village-shop", "technology/bicycle-sharing")
    )
    assert tidal[0] in text["a05"] and tidal[1] in text["a05"]
    assert shop[0] in text["a10"]
    assert bikes[0] in text["a12"] and bikes[1] in text["a12"]
    a02 = text["a02"].split("\n\n")
    assert a02[1] in text["a15"] and a02[2] in text["a15"]
    comments = {
        c.id: c.text
        for c in source.comments_posted_between(
            datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
        )
    }
    assert len(comments) == 24
    assert "idiot" in comments["c003"] and "cocaine" in comments["c017"] and "punch you" in comments["c013"]
    readme = (DAGS / "data" / "README.md").read_text()
    for planted in ("a05", "a10", "a12", "a15", "c003", "c008", "c013", "c017", "c021", "a07", "a14", "a16"):
        assert planted in readme, planted


RUN = RunInfo(
    dag_id="copyleaks_plagiarism_sweep",
    run_id="manual__2026-11-20T06:00:00+00:00",
    title="Plagiarism sweep",
    window_start="2026-11-19T06:00:00+00:00",
    window_end="2026-11-20T06:00:00+00:00",
    generated_at="2026-11-20T06:03:00+00:00",
    threshold=30.0,
)
PASSAGE = {"before": "the council. ", "match": "The first attempt <failed>", "after": " and so on."}


def _plagiarism_rows() -> list[dict]:
    source = {
        "kind": "web page",
        "title": "Bicycle <sharing>",
        "url": "https://example-news.test/b",
        "share": 31.4,
        "identical": 48,
        "minor_changes": 0,
        "paraphrased": 0,
        "result_id": "r1",
        "matched_words": 48,
    }
    own = {
        "kind": "our article",
        "key": "a02",
        "title": "Parents want a say",
        "url": "https://news.test/a02",
        "share": 12.0,
        "identical": 20,
        "minor_changes": 0,
        "paraphrased": 0,
        "result_id": "r2",
        "matched_words": 20,
    }
    base = {"url": "https://news.test/x", "published_at": "2026-11-18T07:30:00+00:00", "sandbox": False, "files": []}
    return [
        {**base, "key": "a12", "title": "Bicycle hire", "scan_id": "s1", "score": 31.4, "verdict": "flagged",
         "action": "held back", "words": {"total": 153, "identical": 48, "minor_changes": 0, "paraphrased": 0},
         "sources": [source, own], "passages": [{"kind": "identical", "source_title": "Bicycle <sharing>",
                                                 "ours": PASSAGE, "theirs": PASSAGE}],
         "files": [{"label": "PDF report", "href": "/copyleaks/ui/exports/d/e/pdf"}]},
        {**base, "key": "a03", "title": "Lantern walk", "scan_id": "s2", "score": 0.0, "verdict": "clean",
         "action": "passed", "words": {"total": 158, "identical": 0, "minor_changes": 0, "paraphrased": 0},
         "sources": [], "passages": []},
    ]  # fmt: skip


def test_plagiarism_report_names_the_run_sources_shares_and_copied_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", tmp_path.as_uri())
    paths = write_report(RUN, "plagiarism", _plagiarism_rows(), {"scanned": 2, "flagged": 1})
    folder = tmp_path / "reports" / "copyleaks_plagiarism_sweep" / "manual__2026-11-20T06_00_00_00_00"
    page = (folder / "report.html").read_text()
    assert paths["html"].endswith("report.html") and (folder / "report.csv").exists()
    for shown in ("manual__2026-11-20T06:00:00+00:00", "19 Nov 2026, 06:00 UTC to 20 Nov 2026, 06:00 UTC",
                  "20 Nov 2026, 06:03 UTC", "flag at 30% or more", "held back", "31.4%", "12.0%"):  # fmt: skip
        assert shown in page, shown
    # The copied words are highlighted, escaped, in both columns of the passage.
    assert page.count('<mark class="identical">The first attempt &lt;failed&gt;</mark>') == 2
    assert "Bicycle &lt;sharing&gt;" in page and "<sharing>" not in page
    # Our own earlier article is named by title with its link; the flagged article comes first.
    assert '<a href="https://news.test/a02">Parents want a say</a>' in page
    assert page.index('id="a12"') < page.index('id="a03"')
    assert 'name="viewport"' in page and "@media print" in page and "@media (max-width" in page
    assert "<script" not in page and 'src="http' not in page  # self-contained
    data = json.loads((folder / "report.json").read_text())
    assert data["run_id"] == RUN.run_id and data["threshold"] == 30.0 and data["window_start"] == RUN.window_start
    lines = list(csv.DictReader(io.StringIO((folder / "report.csv").read_text())))
    assert [(r["article"], r["source"], r["source_share"]) for r in lines] == [
        ("a12", "Bicycle <sharing>", "31.4"),
        ("a12", "Parents want a say", "12.0"),
        ("a03", "", ""),
    ]


def test_a_sandbox_report_says_its_results_are_mock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", tmp_path.as_uri())
    rows = [{**row, "sandbox": True, "action": "unchanged: sandbox result"} for row in _plagiarism_rows()]
    write_report(RUN, "plagiarism", rows, {"scanned": 2})
    page = next(tmp_path.rglob("report.html")).read_text()
    assert "Sandbox run." in page and "sandbox (mock results)" in page and "sandbox mock" in page
    assert "held back" not in page


def test_moderation_report_highlights_each_label_span_and_has_no_empty_column(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", tmp_path.as_uri())
    text = "Only an idiot would <vote> for this. Pathetic."
    rows = [
        {"item": "comment:c003", "kind": "comment", "title": "Comment by parkrunner", "url": "", "context": "on a02",
         "verdict": "flagged", "action": "held back", "sandbox": False, "breaches": ["toxic-v1 2 > 0"],
         "labels": {"toxic-v1": 2}, "text": text, "ai_share": None, "image": None,
         "spans": [{"label": "toxic-v1", "start": 8, "length": 5, "excerpt": "idiot"},
                   {"label": "toxic-v1", "start": 37, "length": 8, "excerpt": "Pathetic"}]},
        {"item": "article:a07", "kind": "article", "title": "The old cinema reopens", "url": "https://news.test/a07",
         "context": "", "verdict": "flagged", "action": "held back", "sandbox": False,
         "breaches": ["hero image: full_matches 1 > 0"], "labels": {}, "spans": [], "text": "", "ai_share": 12.0,
         "image": {"file": "images/hero_a07.png", "full_matches": 1, "partial_matches": 0, "thumbnail": "",
                   "matches": [{"url": "https://photos.test/01.png", "type": "full", "pages": ["https://news.test/g"]}]}},
    ]  # fmt: skip
    run = RunInfo(**{**RUN.__dict__, "dag_id": "copyleaks_content_moderation", "threshold": None})
    write_report(run, "moderation", rows, {"checked": 2, "flagged": 2})
    page = next(tmp_path.rglob("report.html")).read_text()
    assert '<mark class="label">idiot<sup>toxic-v1</sup></mark>' in page
    assert '<mark class="label">Pathetic<sup>toxic-v1</sup></mark>' in page and "&lt;vote&gt;" in page
    assert "AI-generated text:</b> 12%" in page
    assert '<a href="https://photos.test/01.png">https://photos.test/01.png</a>' in page
    assert "Threshold" not in page and "<table" not in page  # no score table with empty columns
    lines = list(csv.DictReader(io.StringIO(next(tmp_path.rglob("report.csv")).read_text())))
    assert lines[0]["excerpts"] == "toxic-v1: idiot | toxic-v1: Pathetic" and lines[1]["image_matches"]
