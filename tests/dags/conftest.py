"""Fixtures that run the example DAGs themselves (the repository's ``dags/`` folder) against the
emulator and a real webhook receiver, in a subprocess, as ``airflow dags test`` does.

Each test gets its own AIRFLOW_HOME and ScanStore, its holds and reports below the receiver's
artifacts folder (the shared ``artifacts_url``); the metadata database is the session's
(``airflow_db``). The emulator knows the sample archive's "internet" images.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.scans.conftest import Receiver, airflow_db, receiver, scan_conn  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
RUNNER = Path(__file__).with_name("run_dag.py")
if str(DAGS) not in sys.path:  # the DAGs' own helpers (publishing.*), as the DAG processor sees them
    sys.path.insert(0, str(DAGS))


@dataclass
class ExampleDags:
    home: Path
    env: dict[str, str]
    receiver: Receiver

    def run(
        self,
        dag_id: str,
        *,
        logical_date: str | None = "2026-11-20T00:00:00+00:00",
        run_after: str | None = None,
        conf: dict[str, Any] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """One DAG run; ``logical_date=None`` is a run triggered with ``"logical_date": null``."""
        command = [
            sys.executable,
            str(RUNNER),
            dag_id,
            logical_date or "none",
            run_after or "none",
            json.dumps(conf or {}),
        ]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        (self.home / f"{dag_id}.log").write_text(result.stdout + "\n---\n" + result.stderr)
        return result

    def report(self, dag_id: str, result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
        """The JSON report of the run ``result`` came from."""
        from airflow_copyleaks.ui.locations import report_path

        found = re.search(r"^DAG RUN (\S+) ", result.stdout, re.M)
        assert found, output(result)
        path = report_path(dag_id, found.group(1), "report.json", base_url=self.receiver.artifacts.as_uri())
        return json.loads(path.read_text())

    def holds(self) -> dict[str, Any]:
        """What the DAGs held back, read as any worker reads it (below the shared artifacts_url)."""
        from publishing.holds import HOLDS_FOLDER, HoldStore

        return HoldStore(f"{self.receiver.artifacts.as_uri()}/{HOLDS_FOLDER}").holds()

    def reports(self, dag_id: str) -> list[dict[str, Any]]:
        """The JSON reports the DAG wrote, oldest first."""
        found = sorted((self.receiver.artifacts / "reports" / dag_id).glob("*/report.json"), key=os.path.getmtime)
        return [json.loads(p.read_text()) for p in found]


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout[-6000:] + "\n---\n" + result.stderr[-6000:]


@pytest.fixture
def example_dags(
    airflow_db: dict[str, str],  # noqa: F811
    receiver: Receiver,  # noqa: F811
    scan_conn: str,  # noqa: F811
    store_file: str,
    copyleaks_emulator: Any,
    tmp_path: Path,
) -> Iterator[ExampleDags]:
    for image in json.loads((DAGS / "data" / "internet_images.json").read_text()):
        copyleaks_emulator.add_image(image["url"], (DAGS / "data" / image["file"]).read_bytes(), pages=image["pages"])
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__COPYLEAKS__STORE_URL": store_file,
        "AIRFLOW__COPYLEAKS__ARTIFACTS_URL": receiver.artifacts.as_uri(),
        "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "0.2",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    yield ExampleDags(home, env, receiver)
