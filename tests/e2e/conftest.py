"""One real stack for the end-to-end tests: scripts/stack.py from docker-compose.yaml, with a
generated env file (its own secrets and admin login), a user Airflow authenticates but authorizes
for nothing, and short waits so the tests spend their time on behaviour.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_copyleaks.testing.postgres import free_port
from scripts.stack import ROOT, NativeStack, write_env_file

DAG_ID = "copyleaks_plagiarism_sweep"
OUTSIDER = ("outsider", "outsider-password-0123")
ARTIFACTS = ROOT / ".artifacts" / "e2e"  # screenshots, kept after the run
# Copyleaks takes seconds to scan; so does the emulator here. An instant webhook can fire a trigger
# before the deferring task's process has exited, and on a loaded machine Airflow's LocalExecutor
# then reports that old process's exit for the resumed task ("state changed externally") and
# fails it: an Airflow race, not what these tests are about.
SCAN_SECONDS = 5


class AirflowApi:
    """The Airflow 3 REST API (v2), logged in as a user of the simple auth manager."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        self.base = base_url
        self.session = requests.Session()
        self.token = login(base_url, user, password)
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def get(self, path: str) -> Any:
        response = self.session.get(f"{self.base}/api/v2{path}", timeout=120)
        response.raise_for_status()
        return response.json()

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self.session.request(method, f"{self.base}/api/v2{path}", json=body, timeout=120)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


def login(base_url: str, user: str, password: str) -> str:
    answer = requests.post(f"{base_url}/auth/token", json={"username": user, "password": password}, timeout=10)
    assert answer.status_code == 201, f"login as {user}: {answer.status_code} {answer.text}"
    return str(answer.json()["access_token"])


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NativeStack]:
    workdir = tmp_path_factory.mktemp("stack")
    env_file = workdir / ".env"
    write_env_file(env_file)
    ports = {name: free_port() for name in ("airflow-apiserver", "copyleaks-webhooks", "copyleaks-emulator")}
    extra_env = {
        "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Airflow's LocalExecutor can fail a task resumed from a deferral while the deferring
        # process still exits ("state changed externally", seen on a loaded 2-core machine): a
        # retry absorbs that race, which is Airflow's and not under test here.
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "2",
        # A killed triggerer's triggers go to its successor once it misses heartbeats for 6 s.
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
    }
    native = NativeStack(
        workdir=workdir,
        env_file=env_file,
        ports=ports,
        extra_env=extra_env,
        extra_users={OUTSIDER[0]: ("", OUTSIDER[1])},
    )
    with native:
        emulator_config(native, scan_duration_seconds=SCAN_SECONDS)
        yield native


def emulator_config(stack: NativeStack, **settings: Any) -> None:
    answer = requests.patch(f"{stack.url('copyleaks-emulator')}/_emulator/config", json=settings, timeout=10)
    answer.raise_for_status()


@pytest.fixture(scope="session")
def api(stack: NativeStack) -> AirflowApi:
    client = AirflowApi(stack.url("airflow-apiserver"), *stack.admin)
    wait_for(lambda: _dag_parsed(client), 180, f"the dag-processor to parse {DAG_ID}", interval=1)
    return client


def _dag_parsed(api: AirflowApi) -> bool:
    try:
        api.get(f"/dags/{DAG_ID}")
    except requests.HTTPError:
        return False
    return True


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def failure_report(api: AirflowApi, stack: NativeStack, run_id: str) -> str:
    lines = [
        f"{ti['task_id']}[{ti['map_index']}]: {ti['state']}"
        for ti in api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
    ]
    return "\n".join(lines) + "\n--- scheduler log tail ---\n" + stack.logs("airflow-scheduler")[-3000:]


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
            assert state == "success", failure_report(api, stack, run_id)
            return seen
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout:.0f}s\n{failure_report(api, stack, run_id)}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shots = sorted(ARTIFACTS.glob("*.png")) if ARTIFACTS.exists() else []
    if shots:
        terminalreporter.write_line(f"Browser test screenshots ({len(shots)}): {ARTIFACTS}")


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
