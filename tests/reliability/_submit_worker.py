"""One try of a CopyleaksSubmitOperator task in its own process, as an Airflow worker runs it.

    python -m tests.reliability._submit_worker SPEC.json OUT.json

SPEC holds the task instance's ids, its try number and the documents. The connection and the
store come from the environment (``AIRFLOW_CONN_COPYLEAKS_DEFAULT``,
``AIRFLOW__COPYLEAKS__STORE_URL``), as on a worker. OUT receives how the try ended: the trigger
it deferred on (serialised, as the triggerer gets it) and the kwargs for ``execute_complete``.
The reliability tests SIGKILL this process part way through its batch.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TaskInstance:
    """The ids scan ids derive from, and an in-memory XCom."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = json.loads(json.dumps(value))

    def xcom_pull(self, task_ids: str, key: str = "return_value", map_indexes: int | None = None) -> Any:
        return self.xcoms.get(key)


def main(spec_path: str, out_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator

    op = CopyleaksSubmitOperator(
        task_id=spec["task_id"],
        documents=spec["documents"],
        wait_for_completion=True,
        deferrable=True,
        wait_timeout=spec.get("wait_timeout", 60),
        poll_interval=0.1,
    )
    ti = TaskInstance(spec["dag_id"], spec["task_id"], spec["run_id"], try_number=spec["try_number"])
    out: dict[str, Any]
    try:
        context: Any = {"ti": ti, "task_instance": ti, "run_id": ti.run_id}
        result = op.execute(context)
        out = {"status": "returned", "result": result}
    except TaskDeferred as deferred:
        out = {
            "status": "deferred",
            "trigger": list(deferred.trigger.serialize()),
            "method_name": deferred.method_name,
            "kwargs": deferred.kwargs,
        }
    except Exception as err:
        out = {"status": "failed", "error": f"{type(err).__name__}: {err}"}
    out["xcoms"] = ti.xcoms
    Path(out_path).write_text(json.dumps(out))
    return 0 if out["status"] != "failed" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
