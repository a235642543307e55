"""End to end on a real Airflow: api-server, scheduler, dag-processor and triggerer on PostgreSQL
(LocalExecutor), the standalone webhook receiver and the emulator, all started by the native stack
from docker-compose.yaml. The plagiarism sweep is triggered through the REST API, as a user would.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import requests
import sqlalchemy

from scripts.stack import NativeStack
from tests.e2e.harness import (
    DAG_ID,
    MODERATION_DAG,
    MODERATOR,
    SCAN_SECONDS,
    AirflowApi,
    emulator_config,
    login,
    run_and_watch,
    task_log,
    wait_for,
)

pytestmark = pytest.mark.e2e

SUBMIT_OPERATORS = {"CopyleaksSubmitOperator", "CopyleaksCheckCreditsOperator"}
WAIT_OPERATORS = {"CopyleaksScanSensor", "CopyleaksStartOperator"}


def emulator(stack: NativeStack, path: str) -> Any:
    return requests.get(f"{stack.url('copyleaks-emulator')}/_emulator/{path}", timeout=10).json()


def submissions(stack: NativeStack) -> list[dict[str, Any]]:
    return [c for c in emulator(stack, "calls") if c["method"] == "PUT" and "/scans/submit/" in c["path"]]


def test_login_is_required_and_services_listen_on_loopback(stack: NativeStack, api: AirflowApi) -> None:
    base = stack.url("airflow-apiserver")
    assert requests.get(f"{base}/api/v2/dags", timeout=10).status_code == 401
    user, _password = stack.admin
    wrong = requests.post(f"{base}/auth/token", json={"username": user, "password": "admin"}, timeout=10)
    assert wrong.status_code == 401
    assert api.get("/dags?limit=1")["total_entries"] >= 1
    # Authenticated, allowed one DAG: Airflow's own API refuses the others.
    moderator = {"Authorization": f"Bearer {login(base, *MODERATOR)}"}
    assert requests.get(f"{base}/api/v2/dags/{DAG_ID}", headers=moderator, timeout=10).status_code == 403
    assert requests.get(f"{base}/api/v2/dags/{MODERATION_DAG}", headers=moderator, timeout=10).status_code == 200
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    for name in ("airflow-apiserver", "copyleaks-webhooks", "copyleaks-emulator"):
        port = f":{stack.port(name)}"
        addresses = [line.split()[3] for line in listening.splitlines() if line.split()[3].endswith(port)]
        assert addresses == [f"127.0.0.1:{stack.port(name)}"], (name, addresses)


def test_test_connection_is_enabled_for_the_copyleaks_connection(stack: NativeStack, api: AirflowApi) -> None:
    emulator_url = stack.url("copyleaks-emulator")
    answer = api.send(
        "POST",
        "/connections/test",
        {
            "connection_id": "copyleaks_form_test",
            "conn_type": "copyleaks",
            "login": "demo@example.com",
            "password": "00000000-0000-0000-0000-000000000000",
            "extra": f'{{"api_base_url": "{emulator_url}", "identity_base_url": "{emulator_url}"}}',
        },
    )
    assert answer["status"] is True, answer


def test_plagiarism_sweep_on_a_real_airflow(stack: NativeStack, api: AirflowApi) -> None:
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


def test_triggerer_killed_while_scans_wait_is_restarted_and_the_stack_stays_up(
    stack: NativeStack, api: AirflowApi
) -> None:
    """SIGKILL the triggerer while the sweep's scans wait in it: the stack restarts it (compose's
    ``restart: always``), nothing else goes down, the new triggerer takes the waits over from the
    metadata database and the store, the run succeeds, and nothing is paid twice."""
    api.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    # Slow scans: the waits are still in the triggerer when it dies.
    emulator_config(stack, scan_duration_seconds=8)
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
        return [ti["task_id"] for ti in tis if ti["state"] == "deferred"]

    waiting = wait_for(deferred_tasks, 180, "a task of the run to defer to the triggerer")
    others = {name: stack.pid(name) for name in stack.running() if name != "airflow-triggerer"}
    killed_pid = stack.pid("airflow-triggerer")
    assert stack.kill("airflow-triggerer") == -9
    wait_for(lambda: stack.pid("airflow-triggerer") != killed_pid, 30, "the triggerer to be restarted", interval=0.5)
    assert stack.restarts.get("airflow-triggerer") == 1
    assert stack.postgres is not None
    with sqlalchemy.create_engine(stack.postgres.url()).connect() as conn:  # PostgreSQL still up
        assert conn.execute(sqlalchemy.text("select 1")).scalar() == 1
    assert {name: stack.pid(name) for name in stack.running() if name != "airflow-triggerer"} == others
    assert requests.get(f"{stack.url('airflow-apiserver')}/api/v2/version", timeout=10).ok

    run_and_watch(api, stack, run_id, set(waiting), timeout=300)
    emulator_config(stack, scan_duration_seconds=SCAN_SECONDS)
    new_submissions = submissions(stack)[submitted_before:]
    accepted = [c["path"] for c in new_submissions if c["status"] == 201]
    assert accepted and len(accepted) == len(set(accepted)), new_submissions
    assert emulator(stack, "stats")["logins"] == 1


def test_no_error_line_in_the_logs_of_a_successful_run(stack: NativeStack, api: AirflowApi) -> None:
    """Every export deferral used to log "[error] XCom not found ... copyleaks_link"."""
    run_id = "e2e-sweep"
    assert api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"] == "success"
    tis = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]
    exports = [ti for ti in tis if ti["task_id"] == "export_flagged"]
    assert exports, "the sweep exported nothing"
    errors, missing_xcoms = [], []
    for ti in tis:
        for attempt in range(1, ti["try_number"] + 1):
            # JSON lines: the API answers 406 to text/plain (so this test once read no log at all).
            lines = task_log(api, DAG_ID, run_id, ti["task_id"], attempt, ti["map_index"]).splitlines()
            assert lines, f"{ti['task_id']}[{ti['map_index']}] attempt {attempt}: an empty log"
            missing_xcoms += [line for line in lines if "XCom not found" in line]
            # A task that succeeded at its first try has no error line at all. (A retried one may
            # carry Airflow's own executor race, see the harness; it must still not miss an XCom.)
            if ti["try_number"] == 1:
                errors += [f"{ti['task_id']}: {line}" for line in lines if line.startswith(("error ", "critical "))]
    assert not missing_xcoms, "\n".join(missing_xcoms[:20])
    assert not errors, "\n".join(errors[:20])
    for ti in exports:
        task = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{ti['task_id']}"
        links = api.get(f"{task}/links?map_index={ti['map_index']}")
        assert links["extra_links"]["Copyleaks report"].startswith("/copyleaks/ui/exports/"), links
