"""The example DAGs on the real stack (scheduler, triggerer, dag-processor, api-server on PostgreSQL,
the receiver and the emulator, from docker-compose.yaml), triggered through the REST API as users
do. tests/dags runs the same scenarios in one process (``DAG.test``); here the scheduler, the
LocalExecutor and the triggerer run them. Each test prints what it measured (``pytest -s``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import pytest
import requests

from scripts.stack import NativeStack
from tests.e2e.harness import (
    COPIES,
    COPIES_DAY,
    DAG_ID,
    EXPORT_WINDOW_SECONDS,
    MODERATION_DAG,
    AirflowApi,
    run_and_watch,
    task_instances,
    task_log,
    wait_for,
)

pytestmark = pytest.mark.e2e
EXPORTS_PER_WINDOW = 10  # Copyleaks' limit: 10 exports in any minute (here: in EXPORT_WINDOW_SECONDS)


def trigger(api: AirflowApi, dag_id: str, run_id: str, logical_date: str | None, **conf: Any) -> dict[str, Any]:
    api.send("PATCH", f"/dags/{dag_id}", {"is_paused": False})
    body = {"dag_run_id": run_id, "logical_date": logical_date, "conf": conf}
    return dict(api.send("POST", f"/dags/{dag_id}/dagRuns", body))


def states(api: AirflowApi, run_id: str, dag_id: str) -> dict[str, str]:
    """task_id -> state (mapped tasks: the set of their states, joined)."""
    found: dict[str, set[str]] = {}
    for ti in task_instances(api, run_id, dag_id):
        found.setdefault(ti["task_id"], set()).add(str(ti["state"]))
    return {task: ",".join(sorted(s)) for task, s in found.items()}


def report_json(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, Any]:
    """The run's JSON report, through the plugin's authenticated route (as an editor opens it)."""
    answer = api.session.get(f"{api.base}/copyleaks/ui/reports/{dag_id}/{run_id}/report.json", timeout=60)
    assert answer.status_code == 200, (answer.status_code, answer.text[:500])
    return dict(answer.json())


def minutes(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 60


def run_minutes(api: AirflowApi, dag_id: str, run_id: str) -> float:
    run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}")
    return minutes(run["start_date"], run["end_date"])


@pytest.fixture(scope="module", autouse=True)
def both_dags_parsed(api: AirflowApi) -> None:
    wait_for(lambda: _parsed(api, MODERATION_DAG), 180, f"the dag-processor to parse {MODERATION_DAG}", interval=1)


def _parsed(api: AirflowApi, dag_id: str) -> bool:
    answer = api.session.get(f"{api.base}/api/v2/dags/{dag_id}", timeout=30)
    return answer.status_code == 200


@pytest.mark.timeout(900)
def test_a_rest_run_with_a_null_logical_date_succeeds(stack: NativeStack, api: AirflowApi) -> None:
    run = trigger(api, DAG_ID, "stack-null-logical-date", None)
    assert run["logical_date"] is None and run["data_interval_start"] is None, run
    run_and_watch(api, stack, run["dag_run_id"], set(), timeout=600)
    found = states(api, run["dag_run_id"], DAG_ID)
    assert "failed" not in ",".join(found.values()), found
    select = task_log(api, DAG_ID, run["dag_run_id"], "select_articles")
    assert "TypeError" not in select
    # Triggered now: the 24 hours before run_after hold no sample article, so the run skips with a message.
    window = re.search(r"no article was published from ([^:]+):", select)
    print(f"\nREST run with logical_date null: success in {run_minutes(api, DAG_ID, run['dag_run_id']):.2f} min; "
          f"select_articles {found['select_articles']}" + (f" ({window.group(1)})" if window else ""))  # fmt: skip


@pytest.mark.timeout(900)
def test_a_quiet_hour_of_moderation_is_skipped_and_a_busy_hour_counts_its_credits(
    stack: NativeStack, api: AirflowApi
) -> None:
    # Nothing was posted or published between 04:00 and 05:00 on the 25th.
    quiet = trigger(api, MODERATION_DAG, "stack-quiet-hour", "2026-11-25T05:00:00Z")["dag_run_id"]
    run_and_watch(api, stack, quiet, set(), timeout=600, dag_id=MODERATION_DAG)
    found = states(api, quiet, MODERATION_DAG)
    assert found["moderate_texts"] == "skipped" and found["check_hero_images"] == "skipped", found
    assert "failed" not in ",".join(found.values()), found
    message = re.search(r"nothing was posted or published from [^'\n]*", task_log(api, MODERATION_DAG, quiet, "gather"))
    assert message, "the skip gives no reason"
    print(f"\nquiet hour: run success, tasks {found}; '{message.group(0)}'")

    # An hour with a comment: the moderation check pays, and the Copyleaks page counts it for its DAG.
    busy = trigger(api, MODERATION_DAG, "stack-busy-hour", "2026-11-13T02:00:00Z", lookback_hours=2)["dag_run_id"]
    run_and_watch(api, stack, busy, set(), timeout=600, dag_id=MODERATION_DAG)
    paid = report_json(api, MODERATION_DAG, busy)["totals"]
    page = api.session.get(f"{api.base}/copyleaks/ui/", timeout=60).text
    by_dag = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">([^<]+)</td>", page.split('id="credits-by-dag"')[1]))
    assert float(by_dag.get(MODERATION_DAG, 0)) > 0, by_dag
    print(f"busy hour: report totals {paid}; Copyleaks page credits per DAG {by_dag}")


@pytest.mark.timeout(1800)
def test_a_rescan_of_indexed_articles_gives_the_first_scans_scores(stack: NativeStack, api: AirflowApi) -> None:
    articles = ["a03", "a05", "a15"]  # clean, copies the web, copies our a02
    first = trigger(api, DAG_ID, "stack-first-scan", None, article_ids=articles)["dag_run_id"]
    run_and_watch(api, stack, first, set(), timeout=600)
    # The nightly run of the 21st indexes everything published before the 20th, these three included.
    nightly = trigger(api, DAG_ID, "stack-nightly-index", "2026-11-21T00:00:00Z")["dag_run_id"]
    run_and_watch(api, stack, nightly, set(), timeout=600)
    rescan = trigger(api, DAG_ID, "stack-rescan", None, article_ids=articles, force=True)["dag_run_id"]
    run_and_watch(api, stack, rescan, set(), timeout=600)

    def scores(run_id: str) -> dict[str, float]:
        return {row["key"]: row["score"] for row in report_json(api, DAG_ID, run_id)["rows"]}

    before, after = scores(first), scores(rescan)
    assert before["a05"] > 0 and before["a15"] > 0 and before["a03"] < 100, before
    assert after == before
    for row in report_json(api, DAG_ID, rescan)["rows"]:  # never its own indexed copy as a source
        assert not [s for s in row["sources"] if s.get("key") == row["key"]], row
    print(f"\nre-scan after indexing: first scan {before}, re-scan {after}")


@pytest.mark.timeout(3600)
def test_a_sweep_with_forty_flagged_articles_exports_all_forty_with_no_failed_task(
    stack: NativeStack, api: AirflowApi
) -> None:
    calls_before = len(_emulator(stack, "calls"))
    run_id = trigger(api, DAG_ID, "stack-forty-flagged", f"{_next_day(COPIES_DAY)}T00:00:00Z")["dag_run_id"]
    outcome = "success"
    try:
        run_and_watch(api, stack, run_id, set(), timeout=3000)
    except AssertionError:
        outcome = "failed"
    tis = task_instances(api, run_id, DAG_ID)
    exports = [ti for ti in tis if ti["task_id"] == "export_flagged"]
    calls = _emulator(stack, "calls")[calls_before:]
    sent = {c["path"] for c in calls if c["method"] == "POST" and "/export/" in c["path"] and c["status"] < 300}
    limited = [c for c in calls if "/export/" in c["path"] and c["status"] == 429]
    ended = [ti["end_date"] for ti in exports if ti["end_date"]]
    span = minutes(min(ti["start_date"] for ti in exports if ti["start_date"]), max(ended)) if ended else 0.0
    bound = math.ceil(COPIES / EXPORTS_PER_WINDOW - 1) * EXPORT_WINDOW_SECONDS / 60
    failed = [f"{ti['task_id']}[{ti['map_index']}]" for ti in tis if ti["state"] in ("failed", "upstream_failed")]
    # Airflow's resume-after-deferral race, as the scheduler logs it (see tests/e2e/harness.py).
    mismatches = stack.logs("airflow-scheduler").count("but the task instance's state attribute is")
    print(
        f"\nsweep with {COPIES} flagged: run {outcome} in {run_minutes(api, DAG_ID, run_id):.2f} min; "
        f"{sum(ti['state'] == 'success' for ti in exports)} of {len(exports)} exports succeeded, {len(sent)} accepted "
        f"by Copyleaks; failed tasks: {failed or 0}; exports from first start to last end {span:.2f} min (the limit "
        f"allows no less than {bound:.2f} min: {EXPORTS_PER_WINDOW} per {EXPORT_WINDOW_SECONDS} s window, i.e. "
        f"{bound * 60 / EXPORT_WINDOW_SECONDS:.0f} min at Copyleaks' real 10/min); {len(limited)} export call(s) "
        f"answered 429; attempts failed by Airflow's resume-after-deferral race so far: {mismatches}"
    )
    for ti in (ti for ti in tis if ti["try_number"] > 1):  # why an attempt failed: its last error line
        for attempt in range(1, ti["try_number"] + (ti["state"] == "failed")):
            try:
                log = task_log(api, DAG_ID, run_id, ti["task_id"], attempt, ti["map_index"]).splitlines()
            except requests.HTTPError as err:  # an attempt that never started has no log
                log = [f"error no log: {err.response.status_code}"]
            last_error = next((line for line in reversed(log) if line.startswith("error ")), "no error line")
            print(f"  {ti['task_id']}[{ti['map_index']}] attempt {attempt} of {ti['try_number']}: {last_error[:300]}")

    assert outcome == "success" and not failed, failed
    assert len(exports) == COPIES and {ti["state"] for ti in exports} == {"success"}
    assert len(sent) == COPIES
    report = report_json(api, DAG_ID, run_id)
    assert sum(1 for row in report["rows"] if row["verdict"] == "flagged") == COPIES


def _next_day(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _emulator(stack: NativeStack, path: str) -> Any:
    return requests.get(f"{stack.url('copyleaks-emulator')}/_emulator/{path}", timeout=30).json()
