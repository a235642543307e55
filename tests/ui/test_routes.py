"""The authenticated routes: reports and export artifacts behind Airflow's login and DAG access."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.ui import locations
from airflow_copyleaks.webhooks.artifacts import ArtifactWriter
from tests.ui.conftest import NEWS_DAG, RUN_ID, SPORT_DAG, Auth, write_report


def report_url(dag_id: str, run_id: str, name: str = "report.html") -> str:
    return locations.report_url(dag_id, run_id, name)


def test_report_is_served_to_a_user_who_may_read_the_dag(client: TestClient, airflow_auth: Auth, artifacts: Path):
    write_report(artifacts, NEWS_DAG, RUN_ID)
    answer = client.get(report_url(NEWS_DAG, RUN_ID), headers=airflow_auth.headers("alice"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Plagiarism sweep</h1>" in answer.text
    assert "script-src 'none'" in answer.headers["content-security-policy"]
    csv = client.get(report_url(NEWS_DAG, RUN_ID, "report.csv"), headers=airflow_auth.headers("admin"))
    assert csv.status_code == 200 and csv.text.startswith("key,score")
    # The Airflow UI's session cookie is a login too (what a browser following an extra link sends).
    client.cookies.set("_token", airflow_auth.tokens["alice"])
    assert client.get(report_url(NEWS_DAG, RUN_ID, "report.json")).json()["run_id"] == RUN_ID


def test_no_login_is_401_and_no_access_to_the_dag_is_403(client: TestClient, airflow_auth: Auth, artifacts: Path):
    write_report(artifacts, NEWS_DAG, RUN_ID)
    assert client.get(report_url(NEWS_DAG, RUN_ID)).status_code == 401
    refused = client.get(report_url(NEWS_DAG, RUN_ID), headers=airflow_auth.headers("bob"))
    assert refused.status_code == 403
    assert "Plagiarism" not in refused.text
    assert client.get(locations.page_url()).status_code == 401


def test_a_browser_refused_gets_a_page_that_says_why(client: TestClient, airflow_auth: Auth, artifacts: Path):
    """An editor following a report link from a review gets a readable page, not bare JSON; API
    clients keep the JSON."""
    write_report(artifacts, NEWS_DAG, RUN_ID)
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    refused = client.get(report_url(NEWS_DAG, RUN_ID), headers={**airflow_auth.headers("bob"), **browser})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "cannot read the runs of" in refused.text and NEWS_DAG in refused.text
    assert "script-src 'none'" in refused.headers["content-security-policy"]
    unknown = client.get(report_url(NEWS_DAG, "no-such-run"), headers={**airflow_auth.headers("alice"), **browser})
    assert unknown.status_code == 404 and "<h1>Not found</h1>" in unknown.text
    anonymous = client.get(report_url(NEWS_DAG, RUN_ID), headers=browser)
    assert anonymous.status_code == 401 and "Sign in to Airflow" in anonymous.text
    hostile = client.get(report_url("<i>x<i>", RUN_ID), headers={**airflow_auth.headers("bob"), **browser})
    assert hostile.status_code == 404 and "&lt;i&gt;x&lt;i&gt;" in hostile.text and "<i>x" not in hostile.text
    api = client.get(report_url(NEWS_DAG, RUN_ID), headers=airflow_auth.headers("bob"))
    assert api.status_code == 403 and "detail" in api.json()


@pytest.mark.parametrize(
    ("dag_id", "run_id", "name"),
    [
        (NEWS_DAG, "..", "report.html"),
        (NEWS_DAG, "../..", "report.html"),
        (NEWS_DAG, "../../outside", "report.html"),
        ("..", "reports", "report.html"),
        (NEWS_DAG, RUN_ID, "..%2F..%2Fsecret.txt"),
        (NEWS_DAG, RUN_ID, "secret.txt"),
    ],
)
def test_ids_never_reach_a_path_raw(
    client: TestClient, airflow_auth: Auth, artifacts: Path, dag_id: str, run_id: str, name: str
):
    write_report(artifacts, NEWS_DAG, RUN_ID)
    (artifacts / "secret.txt").write_text("SECRET")
    (artifacts.parent / "outside").mkdir()
    (artifacts.parent / "outside" / "report.html").write_text("SECRET")
    # Dots encoded too, or the HTTP client would resolve ".." before the server sees it.
    dag, run = (quote(value, safe="").replace(".", "%2E") for value in (dag_id, run_id))
    url = f"{locations.URL_PREFIX}/reports/{dag}/{run}/{name}"
    answer = client.get(url, headers=airflow_auth.headers("admin"))
    assert answer.status_code == 404, answer.text
    assert "SECRET" not in answer.text


def _stored_export(store: ScanStore, artifacts: Path, dag_id: str) -> str:
    export_id = f"ex-{hashlib.sha256(dag_id.encode()).hexdigest()[:20]}"
    store.register_export(export_id, "af-scan-1", expected=["pdf", "result:r1"], meta={"dag_id": dag_id})
    writer = ArtifactWriter(artifacts.as_uri())
    for kind, result_id, data in (("pdf", None, b"%PDF-1.4 report"), ("result", "r1", b'{"text": "copied"}')):
        written = writer.write("af-scan-1", export_id, kind, result_id, data)
        store.record_artifact(
            export_id, kind, result_id=result_id, location=written.location, size=written.size, sha256=written.sha256
        )
    return export_id


def test_export_pdf_and_results_are_served_from_the_artifacts_storage(
    client: TestClient, airflow_auth: Auth, artifacts: Path
):
    store: ScanStore = client.app.state.store  # type: ignore[attr-defined]
    export_id = _stored_export(store, artifacts, NEWS_DAG)
    pdf = client.get(locations.export_url(NEWS_DAG, export_id, "pdf"), headers=airflow_auth.headers("alice"))
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    result = client.get(locations.export_url(NEWS_DAG, export_id, "results/r1"), headers=airflow_auth.headers("alice"))
    assert result.json() == {"text": "copied"}
    assert client.get(locations.export_url(NEWS_DAG, export_id, "pdf")).status_code == 401
    assert client.get(locations.export_url(NEWS_DAG, export_id), headers=airflow_auth.headers("bob")).status_code == 403
    # Another DAG's URL for this export: bob may read sport_results, not this export.
    other = client.get(locations.export_url(SPORT_DAG, export_id, "pdf"), headers=airflow_auth.headers("bob"))
    assert other.status_code == 404
    missing = client.get(locations.export_url(NEWS_DAG, export_id, "crawled"), headers=airflow_auth.headers("alice"))
    assert missing.status_code == 404


def test_an_artifact_location_outside_the_artifacts_url_is_never_read(
    client: TestClient, airflow_auth: Auth, artifacts: Path
):
    store: ScanStore = client.app.state.store  # type: ignore[attr-defined]
    secret = artifacts.parent / "secret.pdf"
    secret.write_bytes(b"SECRET")
    for n, location in enumerate([secret.as_uri(), f"{artifacts.as_uri()}/../secret.pdf"]):
        export_id = f"ex-tampered-{n}"
        store.register_export(export_id, "af-scan-2", expected=["pdf"], meta={"dag_id": NEWS_DAG})
        store.record_artifact(export_id, "pdf", result_id=None, location=location, size=6, sha256="0" * 64)
        answer = client.get(locations.export_url(NEWS_DAG, export_id, "pdf"), headers=airflow_auth.headers("admin"))
        assert answer.status_code == 404 and b"SECRET" not in answer.content
