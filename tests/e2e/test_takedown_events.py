"""End to end on the real stack (scheduler, triggerer, dag-processor, api-server, receiver,
PostgreSQL): a completion webhook posted to the receiver creates a run of the takedown review
DAG through its asset watcher; a triggerer killed and restarted creates no second run for it and
does not lose the completion that arrived while it was down."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token
from scripts.stack import NativeStack
from tests.e2e.harness import AirflowApi, wait_for

pytestmark = pytest.mark.e2e
DAG_ID = "copyleaks_takedown_review"
WATERMARK = "name:takedown-review"


def post_completion(stack: NativeStack, scan_id: str, score: float) -> None:
    secret = stack.service_environment("copyleaks-webhooks")["AIRFLOW__COPYLEAKS__WEBHOOK_SECRET"]
    body = {"status": 0, "developerPayload": f"cms:{scan_id}", "results": {"score": {"aggregatedScore": score}}}
    answer = requests.post(
        f"{stack.url('copyleaks-webhooks')}/status/completed/{scan_id}",
        data=json.dumps(body),
        headers={TOKEN_HEADER: webhook_token(secret, "scan", scan_id), "Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def watermark(stack: NativeStack) -> int | None:
    url = stack.service_environment("airflow-triggerer")["AIRFLOW__COPYLEAKS__STORE_URL"]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT position FROM copyleaks_watermark WHERE key = :key"), {"key": WATERMARK}
            ).scalar()
    finally:
        engine.dispose()


def runs_by_scan(api: AirflowApi) -> dict[str, list[tuple[str, int]]]:
    """For each scan id, the takedown runs its completion started and the completion's event id
    (from the runs' asset events)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for run in api.get(f"/dags/{DAG_ID}/dagRuns?limit=100")["dag_runs"]:
        events = api.get(f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")["asset_events"]
        for event in events:
            payload: Any = (event.get("extra") or {}).get("payload") or {}
            found.setdefault(payload.get("scan_id"), []).append((run["dag_run_id"], payload.get("event_id")))
    return found


def test_a_completion_runs_the_takedown_dag_once_across_a_triggerer_restart(
    stack: NativeStack,
    api: AirflowApi,
) -> None:
    wait_for(lambda: _parsed(api), 180, f"the dag-processor to parse {DAG_ID}", interval=1)
    api.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
    wait_for(lambda: watermark(stack) is not None, 180, "the triggerer to start the takedown watcher", interval=1)

    first = f"cms-e2e-{int(time.time())}"
    post_completion(stack, first, 91.0)
    [(_, event_id)] = wait_for(lambda: runs_by_scan(api).get(first), 120, "a takedown run for the completion", 1)
    # The watcher's watermark passes the completion once the triggerer confirmed the asset event
    # saved (Airflow 3.3's shared streams); a triggerer killed before that would replay it.
    wait_for(lambda: (watermark(stack) or 0) >= event_id, 60, "the watermark to pass the completion", interval=1)

    killed_pid = stack.pid("airflow-triggerer")
    assert stack.kill("airflow-triggerer") == -9
    second, low = f"{first}-down", f"{first}-low"
    post_completion(stack, second, 95.0)  # arrives while no triggerer runs the watcher
    post_completion(stack, low, 10.0)  # under the threshold: never a run
    wait_for(lambda: stack.pid("airflow-triggerer") != killed_pid, 60, "the triggerer to be restarted", interval=0.5)

    wait_for(lambda: runs_by_scan(api).get(second), 180, "a takedown run for the completion while down", interval=1)
    time.sleep(15)  # several polls of the new triggerer: a replay would have made a run by now
    runs = runs_by_scan(api)
    assert len(runs[first]) == 1, runs
    assert len(runs[second]) == 1, runs
    assert low not in runs, runs


def _parsed(api: AirflowApi) -> bool:
    try:
        api.get(f"/dags/{DAG_ID}")
    except requests.HTTPError:
        return False
    return True
