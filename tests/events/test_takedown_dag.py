"""The takedown review example DAG: scheduled on the completion watcher, reading its events."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_the_dag_is_scheduled_on_completions_above_the_threshold() -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1 (the floor)
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    bag = DagBag(str(DAGS))
    assert not {k: v for k, v in bag.import_errors.items() if "takedown" in k}
    dag = bag.dags["copyleaks_takedown_review"]
    [asset] = dag.timetable.asset_condition.objects
    [watcher] = asset.watchers
    kwargs = watcher.trigger.serialize()[1]
    assert kwargs["min_score"] == 50.0 and kwargs["statuses"] == ["completed"]
    assert kwargs["name"] == "takedown-review"


def test_the_run_reads_the_completions_from_its_asset_events() -> None:
    sys.path.insert(0, str(DAGS))
    try:
        from copyleaks_takedown_review import completions_of
    finally:
        sys.path.remove(str(DAGS))
    payload = {"scan_id": "cms-1", "status": "completed", "score": 77.0, "developer_payload": "post:1"}
    events = {"asset": [SimpleNamespace(extra={"from_trigger": True, "payload": payload}), SimpleNamespace(extra={})]}
    assert completions_of(events) == [payload]
