"""The check operators in real Airflow: ``airflow dags test`` of a DAG that maps over comments.

Shows what unit tests cannot: the operator imports and parses in a DAGs folder, ``.partial()``/
``.expand()`` work, a policy comes from templated Params (native rendering), the report reaches
downstream tasks through XCom, and a skip skips downstream.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

DAG_FILE = textwrap.dedent(
    """
    import json
    import os

    from airflow.sdk import dag, task

    from airflow_copyleaks.operators import CopyleaksModerateOperator


    @dag(
        schedule=None,
        catchup=False,
        render_template_as_native_obj=True,
        params={"policy": {"on_hit": "report", "thresholds": {"hate-speech-v1": 0}}},
    )
    def copyleaks_checks_e2e():
        @task
        def comments():
            return [
                {"key": "c-1", "text": "Thanks for the thoughtful article about the library budget."},
                {"key": "c-2", "text": "Those people are vermin, go back to your country."},
                "Plain comment without a key.",
            ]

        moderated = CopyleaksModerateOperator.partial(
            task_id="moderate", policy="{{ params.policy }}"
        ).expand(texts=comments())

        @task
        def collect(reports):
            with open(os.environ["COPYLEAKS_E2E_OUT"], "w") as f:
                json.dump(list(reports), f)

        collect(moderated.output)

        gate = CopyleaksModerateOperator(
            task_id="gate", texts="What an idiot.", policy={"on_hit": "skip"}
        )

        @task
        def publish():
            raise RuntimeError("must be skipped by the gate")

        gate >> publish()


    copyleaks_checks_e2e()
    """
)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The session's AIRFLOW_HOME (tests/fixtures.py) gets a metadata database, once."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, timeout=180)


def test_dags_test_with_expand(airflow_db: None, copyleaks_conn: str, copyleaks_emulator: Any, tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "copyleaks_checks_e2e.py").write_text(DAG_FILE)
    out = tmp_path / "reports.json"
    env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "COPYLEAKS_E2E_OUT": str(out)}
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "copyleaks_checks_e2e"],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    logs = proc.stdout + proc.stderr
    assert out.exists(), logs[-4000:]
    reports = json.loads(out.read_text())
    assert len(reports) == 3  # one per mapped task instance
    keys = [r["items"][0]["key"] for r in reports]
    assert keys == ["c-1", "c-2", "0"]
    verdicts = {r["items"][0]["key"]: r["items"][0]["verdict"] for r in reports}
    assert verdicts == {"c-1": "pass", "c-2": "hit", "0": "pass"}
    assert reports[1]["policy"]["thresholds"] == {"hate-speech-v1": 0}  # from the templated Params
    assert len({r["items"][0]["scan_id"] for r in reports}) == 3  # map_index is part of the id
    assert "must be skipped by the gate" not in logs
    assert copyleaks_emulator.stats()["logins"] == 1  # one token shared by all four task instances
