"""A sensor in reschedule mode pokes from a new process each time, and a triggerer restarts: the
backoff between resends of a silent scan lives in the store, so neither starts it over."""

from __future__ import annotations

import itertools
import time
from typing import Any

from airflow_copyleaks.sensors.scan import CopyleaksScanSensor
from tests.fixtures import context_for
from tests.topology.test_resends import resends, submit


def test_a_rescheduled_sensor_keeps_backing_off_between_pokes(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    # A 4-emulated-minute scan at 60x lasts 4 s; the expected duration is set to 0.5 s, too short.
    copyleaks_emulator.set_config(scan_duration_minutes=4, time_scale=60)
    [scan_id] = submit(store_file, 1)
    deadline = time.monotonic() + 30
    done = False
    while not done and time.monotonic() < deadline:
        # Each poke of a rescheduled sensor is a new task process: a new operator, nothing in memory.
        sensor = CopyleaksScanSensor(
            task_id="wait", scan_ids=[scan_id], store_url=store_file, mode="reschedule", deferrable=False,
            resend_after_seconds=0.5,
        )  # fmt: skip
        done = bool(sensor.poke(context_for(sensor)))
        time.sleep(0.05)
    assert done, "the scan never completed"
    # Resetting the backoff at every poke resends every 0.5 s of silence: 7 or 8 times over 4 s.
    # Doubling gaps kept in the store (0.5, 1, 2 s) allow at most 3.
    calls = resends(copyleaks_emulator)
    assert 2 <= len(calls) <= 3, [round(c["time"], 2) for c in calls]
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(calls)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
