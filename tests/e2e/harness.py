"""The one real stack of a test session, shared by tests/e2e and tests/stack.

scripts/stack.py starts it from docker-compose.yaml, with a generated env file (its own secrets
and admin login), a moderator who may read the moderation DAG and no other (the simple auth
manager's test subclass, :mod:`airflow_copyleaks.testing.auth`), the sample archive plus 40
articles copying the web on a day of their own, and short waits so that the tests spend their
time on behaviour. The fixtures are registered once, by tests/conftest.py: a fixture defined in
two folders' conftest files would start two stacks.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_copyleaks.testing.postgres import free_port
from scripts.stack import ROOT, NativeStack, write_env_file
from tests.dags.archives import sample_with_copies

DAG_ID = "copyleaks_plagiarism_sweep"
MODERATION_DAG = "copyleaks_content_moderation"
# Authenticated, a viewer, but allowed to read the moderation DAG only: the sweep is refused.
MODERATOR = ("moderator", "moderator-password-0123")
ARTIFACTS = ROOT / ".artifacts" / "e2e"  # screenshots, kept after the run
# 40 articles copying the web, published on a day the sample archive leaves empty.
COPIES, COPIES_DAY = 40, "2026-11-27"
# Copyleaks counts 10 exports in any minute. The emulator and the connection (the provider's shared
# pacing) may count them in a shorter window: 15 s makes the 40-export sweep four times quicker.
EXPORT_WINDOW_SECONDS = 15
# Copyleaks takes seconds to scan; so does the emulator here. An instant webhook can fire a trigger
# before the deferring task's process has exited; Airflow's scheduler then reads that process's
# exit as the end of the resumed attempt once the resumed task runs ("state changed externally")
# and fails it. That is Airflow's race (its guard covers a resumed task still scheduled or queued,
# not a running one), not what these tests are about: slower scans make it rare, a retry absorbs it.
SCAN_SECONDS = 5
# The same race for exports: an export answered at once fires its trigger while the deferring export
# task is still exiting. Copyleaks takes seconds to render a PDF report; so does the emulator here.
EXPORT_SECONDS = 5


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
    with_export_window(env_file, EXPORT_WINDOW_SECONDS)
    # Under AIRFLOW_HOME/data: one of the folders tasks may upload local files from ([copyleaks] local_roots).
    archive = sample_with_copies(workdir / "airflow-home" / "data" / "archive", COPIES, COPIES_DAY)
    ports = {name: free_port() for name in ("airflow-apiserver", "copyleaks-webhooks", "copyleaks-emulator")}
    extra_env = {
        "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # On a loaded machine the api-server can take half a minute to answer a task's start
        # (measured: 36 s); a task gives up after 5 s by default and is failed "externally".
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "120",
        # Airflow's resume-after-deferral race (see SCAN_SECONDS): retries absorb it while the machine
        # is not overloaded. The sweep's 40 exports, each deferring, met it dozens of times with the
        # load average near 30 on 2 cores (a deferring process took 83 s to exit), and some tasks
        # met it at every attempt.
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "4",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "2",
        # A killed triggerer's triggers go to its successor once it misses heartbeats for 6 s.
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "6",
        "COPYLEAKS_EXAMPLE_DATA": str(archive),
    }
    native = NativeStack(
        workdir=workdir,
        env_file=env_file,
        ports=ports,
        extra_env=extra_env,
        extra_users={MODERATOR[0]: ("viewer", MODERATOR[1])},
        dag_access={MODERATOR[0]: [MODERATION_DAG]},
    )
    try:
        with native:
            emulator_config(
                native,
                scan_duration_seconds=SCAN_SECONDS,
                export_duration_seconds=EXPORT_SECONDS,
                export_window_seconds=EXPORT_WINDOW_SECONDS,
            )
            yield native
    finally:
        # The services' and tasks' logs outlive the temporary folder, for a failure's diagnosis.
        for folder in ("logs", "task-logs"):
            if (workdir / folder).exists():
                shutil.copytree(workdir / folder, ARTIFACTS / "stack" / folder, dirs_exist_ok=True)


def with_export_window(env_file: Path, seconds: float) -> None:
    """The env file's Copyleaks connection, counting exports in a ``seconds`` window."""
    lines = env_file.read_text().splitlines()
    for n, line in enumerate(lines):
        if line.startswith("AIRFLOW_CONN_COPYLEAKS_DEFAULT="):
            lines[n] = f"{line}&export_window_seconds={seconds:g}"
    env_file.write_text("\n".join(lines) + "\n")


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


def task_instances(api: AirflowApi, run_id: str, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
    return list(api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=200")["task_instances"])


def task_log(api: AirflowApi, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
    """One attempt's log as "<level> <event> <other fields>" lines (the API serves JSON lines, not text)."""
    path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}?map_index={map_index}"
    answer = api.session.get(f"{api.base}/api/v2{path}", headers={"Accept": "application/x-ndjson"}, timeout=60)
    answer.raise_for_status()
    lines = []
    for raw in answer.text.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            entry = raw
        if isinstance(entry, dict):  # a skip's reason, an error's detail ... are fields beside the event
            extra = {k: v for k, v in entry.items() if k not in ("timestamp", "level", "event", "logger")}
            lines.append(f"{entry.get('level', '')} {entry.get('event', '')}" + (f" {extra}" if extra else ""))
        else:
            lines.append(str(entry))
    return "\n".join(lines)


def failure_report(api: AirflowApi, stack: NativeStack, run_id: str, dag_id: str = DAG_ID) -> str:
    lines = [f"{ti['task_id']}[{ti['map_index']}]: {ti['state']}" for ti in task_instances(api, run_id, dag_id)]
    return "\n".join(lines) + "\n--- scheduler log tail ---\n" + stack.logs("airflow-scheduler")[-3000:]


def run_and_watch(
    api: AirflowApi, stack: NativeStack, run_id: str, tasks: set[str], timeout: float, dag_id: str = DAG_ID
) -> set[str]:
    """Wait for the run to end successfully; return the states each watched task passed through."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ti in task_instances(api, run_id, dag_id):
            if ti["task_id"] in tasks and ti["state"]:
                seen.add(ti["state"])
        state = api.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
        if state in ("success", "failed"):
            assert state == "success", failure_report(api, stack, run_id, dag_id)
            return seen
        time.sleep(1)
    raise AssertionError(f"run {run_id} did not finish in {timeout:.0f}s\n{failure_report(api, stack, run_id, dag_id)}")


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"
