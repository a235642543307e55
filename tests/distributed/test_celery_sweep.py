"""The plagiarism sweep on a CeleryExecutor deployment of separate machines, while machines die.

Redis (broker), PostgreSQL (metadata DB and ScanStore), S3 (moto in server mode) for artifacts
and reports, the Copyleaks emulator with scans that take minutes on a sped-up clock, and every
Airflow component as its own machine (see cluster.py): scheduler, dag-processor, api-server with
the receiver mounted, a standalone receiver behind the same balancer, two Celery workers, two
triggerers. During one sweep of 200 articles:

- the Celery worker running the paid submit is SIGKILLed half way through the submissions;
- the triggerer holding the scans' wait is SIGKILLed while the scans run;
- the api-server is SIGKILLed and started again while the completion webhooks arrive.

The run must still succeed, each scan be paid once, with one login, and the report be in S3.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import sqlalchemy

from airflow_copyleaks.ui.locations import safe_name
from tests.distributed.articles import write_archive
from tests.distributed.cluster import ADMIN, BUCKET, Cluster

pytestmark = [pytest.mark.distributed, pytest.mark.timeout(1200)]

DAG_ID = "copyleaks_plagiarism_sweep"
ARTICLES = int(os.environ.get("COPYLEAKS_DISTRIBUTED_ARTICLES", "200"))
ARCHIVED = 3  # older articles the sweep indexes first
# A scan lasts 15 emulated minutes; 45 emulated seconds pass per real second: 20 s per scan.
SCAN_MINUTES, TIME_SCALE = 15.0, 45.0
SUBMIT = "/v3/scans/submit/"
# Copyleaks answering each submission in 0.15 s more: the paid submit lasts long enough to be cut.
SUBMIT_DELAY_SECONDS = 0.15


class AirflowApi:
    def __init__(self, base: str) -> None:
        self.base = base
        answer = requests.post(f"{base}/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}, timeout=30)
        assert answer.status_code == 201, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.request(method, f"{self.base}/api/v2{path}", json=body, headers=self.headers, timeout=60)
        if not answer.ok:
            raise requests.HTTPError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=500")["task_instances"])


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    failure: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except requests.RequestException as err:  # the api-server may be restarting
            value, failure = None, err
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last request failure: {failure})")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    machines = Cluster(workdir=tmp_path / "machines", data_dir=tmp_path / "cms")
    machines.workdir.mkdir()
    machines.article_ids = write_archive(machines.data_dir, ARTICLES, ARCHIVED)  # type: ignore[attr-defined]
    started = time.monotonic()
    try:
        machines.start()
        machines.startup_seconds = time.monotonic() - started  # type: ignore[attr-defined]
        yield machines
    finally:
        machines.stop()


def emulator(cluster: Cluster, path: str, method: str = "GET", body: Any = None) -> Any:
    answer = requests.request(method, f"{cluster.url('copyleaks-emulator')}/_emulator/{path}", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def accepted_submits(cluster: Cluster) -> Counter[str]:
    """Scan id -> submissions the emulator accepted (201) for it."""
    calls = emulator(cluster, "calls")
    return Counter(c["path"].rsplit("/", 1)[-1] for c in calls if SUBMIT in c["path"] and c["status"] == 201)


def machine_running(cluster: Cluster, pid: int | None) -> str | None:
    """The machine whose process tree holds ``pid`` (a task process runs under its worker)."""
    if not pid:
        return None
    try:
        process: psutil.Process | None = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None
    while process is not None:
        owner = next((name for name, m in cluster.machines.items() if m.alive() and m.pid == process.pid), None)
        if owner:
            return owner
        process = process.parent()
    return None


def triggerer_holding(cluster: Cluster, run_id: str, task_id: str) -> str | None:
    """The triggerer machine running the trigger of a deferred task: the metadata DB names the
    triggerer's job, and that triggerer writes the trigger's log in its own home, named after it."""
    query = sqlalchemy.text(
        "SELECT t.triggerer_id FROM task_instance ti JOIN trigger t ON t.id = ti.trigger_id "
        "WHERE ti.dag_id = :dag AND ti.run_id = :run AND ti.task_id = :task AND ti.state = 'deferred'"
    )
    engine = sqlalchemy.create_engine(cluster.metadata_url)
    try:
        with engine.connect() as conn:
            job_id = conn.execute(query, {"dag": DAG_ID, "run": run_id, "task": task_id}).scalar()
    finally:
        engine.dispose()
    if job_id is None:
        return None
    pattern = f"logs/dag_id={DAG_ID}/run_id={run_id}/task_id={task_id}/*.trigger.{job_id}.log"
    return next((n for n, m in cluster.machines.items() if n.startswith("airflow-triggerer-")
                 and m.alive() and any((m.root / "home").glob(pattern))), None)  # fmt: skip


def kill_worker_mid_submit(cluster: Cluster, api: AirflowApi, run_id: str, kills: list[str]) -> None:
    seen: dict[str, Any] = {}  # the last look, for the message if the submit is never caught

    def submitting_worker() -> tuple[str, int] | None:
        ti = next(t for t in api.task_instances(run_id) if t["task_id"] == "check_credits")
        done = sum(accepted_submits(cluster).values()) - ARCHIVED
        seen.update(state=ti["state"], pid=ti["pid"], hostname=ti.get("hostname"), accepted=done)
        if ti["state"] != "running":
            return None
        assert done < ARTICLES - 20, f"the submit was nearly done ({done}) before it was seen running"
        owner = seen["owner"] = machine_running(cluster, ti["pid"])
        return (owner, done) if owner and done >= 10 else None

    try:
        worker, done = wait_for(submitting_worker, 300, "check_credits to be submitting on a Celery worker", 0.3)
    except AssertionError as timed_out:
        if not str(timed_out).startswith("timed out"):
            raise  # the submit was caught too late: its own message says so
        workers = {n: cluster.machines[n].log_tail(1500) for n in cluster.machines if n.startswith("airflow-worker")}
        raise AssertionError(f"{timed_out}; last seen: {seen}; worker logs: {workers}") from None
    assert worker.startswith("airflow-worker-"), worker
    cluster.machines[worker].kill()
    left = ARTICLES + ARCHIVED - sum(accepted_submits(cluster).values())
    kills.append(f"SIGKILL {worker} while it ran check_credits ({done} submissions accepted, ~{left} to go)")
    assert left > 0, "the submit finished before the worker was killed: not a mid-submit kill"


def kill_triggerer_mid_wait(cluster: Cluster, api: AirflowApi, run_id: str, kills: list[str]) -> None:
    holder = wait_for(
        lambda: triggerer_holding(cluster, run_id, "wait_for_scans"), 300, "wait_for_scans to wait in a triggerer"
    )
    assert holder.startswith("airflow-triggerer-"), holder
    running = [s for s in emulator(cluster, "scans") if s["status"] not in ("completed", "indexed")]
    cluster.machines[holder].kill()
    kills.append(f"SIGKILL {holder} while it held wait_for_scans ({len(running)} scans still running)")
    assert running, "every scan was done before the triggerer was killed: not a mid-wait kill"


def restart_api_server_during_burst(cluster: Cluster, kills: list[str]) -> None:
    # Each completion webhook leaves 0.5 s late: the burst lasts seconds, not the blink a quiet
    # machine delivers 200 webhooks in, so the api-server surely goes down in the middle of it.
    emulator(cluster, "webhook-faults", "POST", {"mode": "delay", "delay_seconds": 0.5, "count": ARTICLES})
    before = emulator(cluster, "stats")["webhooks_sent"]
    wait_for(lambda: emulator(cluster, "stats")["webhooks_sent"] >= before + 10, 300, "completion webhooks", 0.2)
    sent = emulator(cluster, "stats")["webhooks_sent"] - before
    cluster.restart("airflow-apiserver")
    kills.append(f"SIGKILL + restart airflow-apiserver after {sent} webhooks of the completion burst")
    cluster.machines["airflow-apiserver"].wait_healthy(240)


def test_sweep_of_200_articles_on_celery_survives_killed_machines(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    kills: list[str] = []
    api = AirflowApi(cluster.url("airflow-apiserver"))
    wait_for(lambda: api.call("GET", f"/dags/{DAG_ID}"), 240, f"the dag-processor to parse {DAG_ID}", 1)
    emulator(cluster, "faults", "POST", {
        "kind": "delay", "path_prefix": SUBMIT, "method": "PUT", "delay_seconds": SUBMIT_DELAY_SECONDS,
        "count": 10 * ARTICLES,
    })  # fmt: skip
    emulator(cluster, "config", "PATCH", {
        "scan_duration_minutes": SCAN_MINUTES, "time_scale": TIME_SCALE, "webhook_retry_time_scale": 0.01,
    })  # fmt: skip
    api.call("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    ids = cluster.article_ids  # type: ignore[attr-defined]
    run_id = api.call("POST", f"/dags/{DAG_ID}/dagRuns", {
        "dag_run_id": "distributed-sweep", "logical_date": None,
        "conf": {"article_ids": ids, "credit_budget": 100000, "threshold": 20},
    })["dag_run_id"]  # fmt: skip

    kill_worker_mid_submit(cluster, api, run_id, kills)
    kill_triggerer_mid_wait(cluster, api, run_id, kills)
    restart_api_server_during_burst(cluster, kills)
    api = AirflowApi(cluster.url("airflow-apiserver"))  # a new api-server: log in again
    state = wait_for(
        lambda: (s := api.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]) in ("success", "failed") and s,
        600, "the sweep to finish", 2,
    )  # fmt: skip
    summary = [
        f"{t['task_id']}[{t['map_index']}] {t['state']} try {t['try_number']}" for t in api.task_instances(run_id)
    ]
    assert state == "success", "\n".join(summary) + "\n" + cluster.machines["airflow-scheduler"].log_tail()
    tries = {t["task_id"]: t["try_number"] for t in api.task_instances(run_id) if t["map_index"] == -1}
    assert tries["check_credits"] >= 2, "the submit cut by the killed worker was not run again"
    # The wait went on in the surviving triggerer, which wrote the trigger's log in its own home.
    survivor = next(n for n, m in cluster.machines.items() if n.startswith("airflow-triggerer-") and m.alive())
    trigger_logs = f"logs/dag_id={DAG_ID}/run_id={run_id}/task_id=wait_for_scans/*.trigger.*.log"
    assert any((cluster.machines[survivor].root / "home").glob(trigger_logs)), f"{survivor} never ran the wait"
    # Both receivers, api-server's mount and standalone, answer from one store (its identity).
    identities = {requests.get(f"{b}/health", timeout=30).json()["store_id"] for b in cluster.balancer.backends}  # type: ignore[union-attr]
    assert len(identities) == 1, identities

    # Each scan paid once: one accepted submission per scan id, one charge per scan.
    submits = accepted_submits(cluster)
    assert submits and max(submits.values()) == 1, [k for k, v in submits.items() if v > 1]
    scans = emulator(cluster, "scans")
    charged = [s for s in scans if s["creditsCharged"]]
    stats = emulator(cluster, "stats")
    assert stats["credits_used"] == sum(s["creditsCharged"] for s in charged), stats
    assert all(s["creditsCharged"] == s["expectedCredits"] for s in charged)
    article_scans = [s for s in scans if s["action"] != 2]  # not the archive's index-only copies
    assert len({s["scanId"] for s in article_scans}) == ARTICLES
    assert all(s["status"] == "completed" for s in article_scans), Counter(s["status"] for s in article_scans)
    assert stats["logins"] == 1, stats
    assert stats["webhook_failures"] > 0, "no delivery failed: the api-server restart missed the burst"

    # The report and the flagged articles' exports are in S3, written by workers and receivers.
    s3 = cluster.s3()
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for o in page.get("Contents", [])
    ]
    prefix = f"copyleaks/reports/{DAG_ID}/{safe_name(run_id)}/"
    assert {f"{prefix}report.{ext}" for ext in ("html", "csv", "json")} <= set(keys), keys[:20]
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}report.json")["Body"].read())
    assert len(report["rows"]) == ARTICLES, list(report)
    assert any(k.endswith(".pdf") and not k.startswith("copyleaks/reports/") for k in keys), keys[:20]
    assert len({b for (b, status) in cluster.balancer.answers if status < 300}) == 2, cluster.balancer.answers  # type: ignore[union-attr]

    with capsys.disabled():
        sweep = time.monotonic() - started
        startup = cluster.startup_seconds  # type: ignore[attr-defined]
        print(f"\ndistributed sweep: {ARTICLES} articles, wall time {startup + sweep:.0f} s "
              f"({startup:.0f} s starting the machines, {sweep:.0f} s the sweep)")  # fmt: skip
        for line in kills:
            print(f"  {line}")
