"""What a DAG file pays at parse time for naming the operators and the sensor.

DAG files are parsed over and over: the runtime of a check or a scan (the checks' runtime, the
products' specs, the resend policy, the transport, the store, the triggers) loads when a task
runs, not when a DAG file names an operator. One fresh interpreter plays the DAG file for every
test here (starting one imports Airflow, the slow part).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

DAG_FILE = (
    "import sys\n"
    "from airflow_copyleaks.operators import CopyleaksModerateOperator, CopyleaksSubmitOperator\n"
    "from airflow_copyleaks.sensors.scan import CopyleaksScanSensor\n"
    "CopyleaksModerateOperator(task_id='moderate', texts=['x'])\n"
    "CopyleaksSubmitOperator(task_id='submit', documents=['a text'])\n"
    "CopyleaksScanSensor(task_id='wait', scan_ids=['a1'])\n"
    "print(sorted(m for m in sys.modules if m.startswith('airflow_copyleaks.')))"
)


@pytest.fixture(scope="module")
def loaded_at_parse() -> str:
    """The provider modules loaded once the DAG file above has run, as printed by it."""
    return subprocess.run([sys.executable, "-c", DAG_FILE], capture_output=True, text=True, check=True).stdout


def test_a_dag_file_importing_the_check_operators_loads_no_runtime(loaded_at_parse: str) -> None:
    assert "airflow_copyleaks.operators.checks" in loaded_at_parse  # the probe ran
    for heavy in ("checks.runtime", "checks.moderation", "checks.batch", "hooks.copyleaks", "store.scan_store"):
        assert f"airflow_copyleaks.{heavy}'" not in loaded_at_parse, heavy


def test_a_dag_file_naming_submit_and_the_sensor_loads_no_run_time_machinery(loaded_at_parse: str) -> None:
    assert "airflow_copyleaks.sensors.scan'" in loaded_at_parse  # the probe ran
    for heavy in ("waits.resend_policy", "hooks.copyleaks", "store.scan_store", "triggers.scan"):
        assert f"airflow_copyleaks.{heavy}'" not in loaded_at_parse, heavy
