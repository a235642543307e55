"""End to end on a real Airflow: api-server, scheduler, dag-processor and triggerer on PostgreSQL
(LocalExecutor), the standalone webhook receiver and the emulator, all started by the native stack
from docker-compose.yaml. The plagiarism sweep is triggered through the REST API, as a user would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_copyleaks.testing.postgres import free_port
from scripts.stack import ROOT, NativeStack

pytestmark = pytest.mark.e2e

DAG_ID = "copyleaks_plagiarism_sweep"
SUBMIT_OPERATORS = {"CopyleaksSubmitOperator", "CopyleaksCheckCreditsOperator"}
WAIT_OPERATORS = {"CopyleaksScanSensor", "CopyleaksStartOperator"}


class AirflowApi:
    """The Airflow 3 REST API (v2) with a token from the simple auth manager."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.session = requests.Session()
        token = self.session.get(f"{base_url}/auth/token", timeout=10).json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str) -> Any:
        response = self.session.get(f"{self.base}/api/v2{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self.session.request(method, f"{self.base}/api/v2{path}", json=body, timeout=30)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    workdir = tmp_path_factory.mktemp("stack")
    ports = {name: free_port() for name in ("airflow-apiserver", "copyleaks-webhooks", "copyleaks-emulator")}
    extra_env = {
        # Short waits so the test spends its time on behaviour, not on sleeping.
        "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # A killed triggerer's triggers go to its successor once it misses heartbeats for 6 s.
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
    }
    native = NativeStack(workdir=workdir, env_file=ROOT / ".env.example", ports=ports, extra_env=extra_env)
    with native:
        yield native


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def emulator(stack: NativeStack, path: str) -> Any:
    return requests.get(f"{stack.url('copyleaks-emulator')}/_emulator/{path}", timeout=10).json()


def submissions(stack: NativeStack) -> list[dict[str, Any]]:
    return [c for c in emulator(stack, "calls") if c["method"] == "PUT" and "/scans/submit/" in c["path"]]


def run_and_watch(api: AirflowApi, stack: NativeStack, run_id: str, tasks: set[str], timeout: float) -> set[str]:
    """Wait for the run to end; return the states each watched task passed through."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ti in api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]:
            if ti["task_id"] in tasks and ti["state"]:
                seen.add(ti["state"])
        state = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
        if state in ("success", "failed"):
            assert state == "success", _failure_report(api, stack, run_id)
            return seen
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish in {timeout:.0f}s\n{_failure_report(api, stack, run_id)}")


def _failure_report(api: AirflowApi, stack: NativeStack, run_id: str) -> str:
    lines = []
    for ti in api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]:
        lines.append(f"{ti['task_id']}: {ti['state']}")
    return "\n".join(lines) + "\n--- scheduler log tail ---\n" + stack.logs("airflow-scheduler")[-3000:]


def test_plagiarism_sweep_on_a_real_airflow(stack: NativeStack) -> None:
    api = AirflowApi(stack.url("airflow-apiserver"))
    wait_for(lambda: _dag_parsed(api), 180, f"the dag-processor to parse {DAG_ID}", interval=1)
    tasks = api.get(f"/dags/{DAG_ID}/tasks")["tasks"]
    waiting = {t["task_id"] for t in tasks if t["operator_name"] in WAIT_OPERATORS | {"CopyleaksExportOperator"}}
    submitting = [t["task_id"] for t in tasks if t["operator_name"] in SUBMIT_OPERATORS]
    assert waiting and submitting, [(t["task_id"], t["operator_name"]) for t in tasks]

    api.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    run = api.send(
        "POST",
        f"/dags/{DAG_ID}/dagRuns",
        {"logical_date": "2026-11-20T00:00:00Z", "conf": {"threshold": 20}, "dag_run_id": "e2e-sweep"},
    )
    run_id = run["dag_run_id"]
    states = run_and_watch(api, stack, run_id, waiting, timeout=300)
    assert "deferred" in states, f"no waiting task was seen deferred to the triggerer: {states}"

    stats = emulator(stack, "stats")
    assert stats["logins"] == 1, stats
    artifacts = [p for p in (stack.workdir / "artifacts").rglob("*") if p.is_file()]
    assert artifacts, "no export artifact was written"
    reports = list(Path(stack.env["AIRFLOW_HOME"]).rglob("*.html"))
    assert reports, "no HTML audit report was written"

    # An editor clears a completed scan task from the UI: it re-runs without paying again.
    submitted_before = len(submissions(stack))
    credits_before = emulator(stack, "stats")["credits_used"]
    api.send(
        "POST",
        f"/dags/{DAG_ID}/clearTaskInstances",
        {"dry_run": False, "dag_run_id": run_id, "task_ids": submitting, "only_failed": False, "reset_dag_runs": True},
    )
    wait_for(lambda: api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"] != "success", 30, "the run to restart")
    run_and_watch(api, stack, run_id, waiting, timeout=240)
    cleared = [
        ti
        for ti in api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
        if ti["task_id"] in submitting
    ]
    assert all(ti["try_number"] >= 2 for ti in cleared), "the cleared task did not run again"
    new_submissions = submissions(stack)[submitted_before:]
    assert all(call["status"] == 409 for call in new_submissions), new_submissions
    assert emulator(stack, "stats")["credits_used"] == credits_before
    assert emulator(stack, "stats")["logins"] == 1


def test_triggerer_killed_while_scans_wait_and_restarted(stack: NativeStack) -> None:
    """SIGKILL the triggerer while the sweep's scans wait in it; a new triggerer takes the waits
    over from the metadata database and the store, the run succeeds, and nothing is paid twice."""
    api = AirflowApi(stack.url("airflow-apiserver"))
    wait_for(lambda: _dag_parsed(api), 180, f"the dag-processor to parse {DAG_ID}", interval=1)
    api.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    # Slow scans: the waits are still in the triggerer when it dies.
    requests.patch(f"{stack.url('copyleaks-emulator')}/_emulator/config", json={"scan_duration_seconds": 8}, timeout=10)
    submitted_before = len(submissions(stack))
    run_id = api.send(
        "POST",
        f"/dags/{DAG_ID}/dagRuns",
        {
            "logical_date": None,  # manual, outside the schedule: the articles are named below
            "conf": {"article_ids": ["a01", "a02", "a03"], "force": True},
            "dag_run_id": "e2e-triggerer-killed",
        },
    )["dag_run_id"]

    def deferred_tasks() -> list[str]:
        tis = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
        state = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
        assert state not in ("success", "failed"), f"run ended ({state}) before the test\n" + _failure_report(
            api, stack, run_id
        )
        return [ti["task_id"] for ti in tis if ti["state"] == "deferred"]

    waiting = wait_for(deferred_tasks, 180, "a task of the run to defer to the triggerer")
    assert stack.kill("airflow-triggerer") == -9
    assert "airflow-triggerer" not in set(stack.running())
    time.sleep(2)
    assert set(deferred_tasks()) >= set(waiting), "a deferred task moved on with no triggerer running"
    stack.respawn("airflow-triggerer")

    run_and_watch(api, stack, run_id, set(waiting), timeout=300)
    new_submissions = submissions(stack)[submitted_before:]
    accepted = [c["path"] for c in new_submissions if c["status"] == 201]
    assert accepted and len(accepted) == len(set(accepted)), new_submissions
    assert emulator(stack, "stats")["logins"] == 1


def _dag_parsed(api: AirflowApi) -> bool:
    try:
        api.get(f"/dags/{DAG_ID}")
    except requests.HTTPError:
        return False
    return True
