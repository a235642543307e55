"""Run one example DAG as ``airflow dags test`` does, but also without a logical date.

``airflow dags test`` always gives the run a logical date (now, if none is given). A run
triggered through the REST API with ``"logical_date": null`` (or from the UI without a date) has
none, and no data interval either, only ``run_after``: ``DAG.test(logical_date=None)`` creates
exactly such a run. Usage: ``python run_dag.py DAG_ID LOGICAL_DATE|none RUN_AFTER|none CONF_JSON``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime


def _when(value: str) -> datetime | None:
    return None if value == "none" else datetime.fromisoformat(value)


def main(dag_id: str, logical_date: str, run_after: str, conf: str) -> int:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1 (the floor) keeps it in airflow.models
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    from airflow.providers_manager import ProvidersManager

    ProvidersManager().initialize_providers_configuration()
    # The DAGs import their sample-data package from the DAGs folder; Airflow 3.1's in-process
    # dag.test() does not put that folder on sys.path (later versions do).
    sys.path.insert(0, os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    run = dag.test(logical_date=_when(logical_date), run_after=_when(run_after), run_conf=json.loads(conf))
    print(f"DAG RUN {run.run_id} {run.state}")
    for ti in run.get_task_instances():
        print(f"TASK {ti.task_id} {ti.map_index} {ti.state}")
    return 0 if run.state == "success" else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
