"""The Copyleaks page: recent audits, credits per day and per DAG, waiting scans, last webhook."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from airflow_copyleaks.operators import CopyleaksModerateOperator
from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.ui import locations
from tests.operators.conftest import CLEAN, HATE, TOXIC, run
from tests.ui.conftest import NEWS_DAG, SPORT_DAG, Auth, write_report

COMPLETED = {"scannedDocument": {"credits": 4, "totalWords": 400}, "results": {"score": {"aggregatedScore": 62.5}}}


def _scan(store: ScanStore, scan_id: str, dag_id: str, *, done: bool, sandbox: bool = False) -> None:
    store.register_scan(scan_id, kind="text", action="0", sandbox=sandbox, meta={"dag_id": dag_id, "run_id": "r"})
    if done:
        body = json.dumps({**COMPLETED, "scanId": scan_id}).encode()
        store.record_event(scan_id, "completed", json.loads(body), raw_body=body)


def test_page_shows_audits_credits_waiting_scans_and_the_last_webhook(
    client: TestClient,
    airflow_auth: Auth,
    artifacts: Path,
) -> None:
    store: ScanStore = client.app.state.store  # type: ignore[attr-defined]
    folder = write_report(artifacts, NEWS_DAG, "manual__2026-11-20T06:00:00+00:00")
    (folder / "report.json").write_text(
        json.dumps(
            {
                "title": "Plagiarism sweep",
                "run_id": "manual__2026-11-20T06:00:00+00:00",
                "totals": {"scanned": 19, "flagged": 6, "held back": 2},
            }
        )
    )
    sport = write_report(artifacts, SPORT_DAG, "scheduled__2026-11-20T00:00:00+00:00")
    (sport / "report.json").write_text(json.dumps({"title": "Moderation", "totals": {"checked": 7, "held": ["c1"]}}))
    _scan(store, "af-news-1", NEWS_DAG, done=True)
    _scan(store, "af-news-2", NEWS_DAG, done=True)
    _scan(store, "af-news-3", NEWS_DAG, done=False)
    _scan(store, "af-news-sandbox", NEWS_DAG, done=True, sandbox=True)
    _scan(store, "af-sport-1", SPORT_DAG, done=True)

    page = client.get(locations.page_url(), headers=airflow_auth.headers("alice"))
    assert page.status_code == 200, page.text
    html = page.text
    assert "Plagiarism sweep" in html and locations.report_url(NEWS_DAG, "manual__2026-11-20T06:00:00+00:00") in html
    audits = html.split('id="audits"')[1].split("</table>")[0]
    assert ">19<" in audits and ">6<" in audits and ">2<" in audits  # scanned, flagged, held
    assert SPORT_DAG not in html  # alice may not read it: neither its report nor its credits
    by_dag = html.split('id="credits-by-dag"')[1].split("</table>")[0]
    assert NEWS_DAG in by_dag and ">8<" in by_dag  # two completed scans of 4 credits; sandbox excluded
    assert '<div class="card" id="waiting"><span class="muted">Scans waiting now</span><b>1</b>' in html
    assert "completed ·" in html.split('id="last-webhook"')[1]

    admin = client.get(locations.page_url(), headers=airflow_auth.headers("admin")).text
    sport_row = admin.split("Moderation</a>")[1].split("</tr>")[0]
    assert SPORT_DAG in sport_row and ">7<" in sport_row and ">1<" in sport_row  # checked, held as a list


def test_page_without_anything_yet_says_so(client: TestClient, airflow_auth: Auth) -> None:
    page = client.get(locations.page_url(), headers=airflow_auth.headers("bob"))
    assert page.status_code == 200
    assert "No audit report yet" in page.text and "none yet" in page.text


def _credits_by_dag(html: str) -> dict[str, str]:
    table = html.split('id="credits-by-dag"')[1].split("</table>")[0]
    return dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">([^<]+)</td>", table))


def test_moderation_checks_count_their_credits_per_day_and_per_dag(
    client: TestClient, airflow_auth: Auth, copyleaks_conn: str, copyleaks_emulator: Any
) -> None:
    """Synchronous checks pay when they answer; no scan row or webhook ever says so. The page
    counts them from the checks the store recorded, per DAG, sandbox excluded."""
    texts = [{"key": "c1", "text": CLEAN}, {"key": "c2", "text": HATE}, {"key": "c3", "text": TOXIC}]
    report, _ = run(CopyleaksModerateOperator(task_id="moderate_texts", texts=texts), dag_id=NEWS_DAG)
    sandbox = CopyleaksModerateOperator(task_id="moderate_sandbox", texts=texts, sandbox=True)
    run(sandbox, dag_id=NEWS_DAG)
    run(CopyleaksModerateOperator(task_id="moderate_sport", texts=texts[:1]), dag_id=SPORT_DAG)
    paid = report["totals"]["credits"]
    assert paid == 3 and copyleaks_emulator.stats()["credits_used"] == 4  # the sport DAG's one

    alice = client.get(locations.page_url(), headers=airflow_auth.headers("alice")).text
    assert _credits_by_dag(alice) == {NEWS_DAG: "3"}  # the sandbox run and the sport DAG are not counted
    by_day = alice.split('id="credits-by-day"')[1].split("</table>")[0]
    assert f"<td>{datetime.now(timezone.utc).date().isoformat()}</td><td class=\"n\">3</td>" in by_day
    admin = client.get(locations.page_url(), headers=airflow_auth.headers("admin")).text
    assert _credits_by_dag(admin) == {NEWS_DAG: "3", SPORT_DAG: "1"}
