"""What a DAG file pays at parse time for naming the scan operators and the sensor."""

from __future__ import annotations

import subprocess
import sys

# Loaded when a task runs: the resend policy, the transport, the store, the triggers.
RUN_TIME_MODULES = ("waits.resend_policy", "hooks.copyleaks", "store.scan_store", "triggers.scan")


def test_a_dag_file_naming_submit_and_the_sensor_loads_no_run_time_machinery() -> None:
    code = (
        "import sys\n"
        "from airflow_copyleaks.operators import CopyleaksSubmitOperator\n"
        "from airflow_copyleaks.sensors.scan import CopyleaksScanSensor\n"
        "CopyleaksSubmitOperator(task_id='submit', documents=['a text'])\n"
        "CopyleaksScanSensor(task_id='wait', scan_ids=['a1'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('airflow_copyleaks.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "airflow_copyleaks.sensors.scan'" in loaded  # the probe ran
    for module in RUN_TIME_MODULES:
        assert f"airflow_copyleaks.{module}'" not in loaded, module
