"""Fixtures for the asynchronous-scan tests: the webhook receiver, a connection that points
Copyleaks' webhooks at it, a task-instance stand-in, and ``airflow dags test`` runs.

Copyleaks is never mocked: the emulator (``copyleaks_emulator``) sends real webhooks over HTTP to
a real receiver, which writes them to a real ScanStore that the operators and triggers read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import WEBHOOK_SECRET, connection_json

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Receiver:
    url: str
    store: Any
    artifacts: Path


@pytest.fixture
def receiver(store_file: str, tmp_path: Path) -> Iterator[Receiver]:
    """The webhook receiver on 127.0.0.1 (uvicorn in a thread), writing to the test's store."""
    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app

    store = ScanStore(store_file)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=artifacts.as_uri())
    with serve_in_thread(app) as url:
        yield Receiver(url, store, artifacts)


@pytest.fixture
def scan_conn(
    copyleaks_emulator: Any, receiver: Receiver, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """``copyleaks_default`` pointing at the emulator, with webhooks going to the receiver."""
    from airflow_copyleaks.hooks.token_cache import TokenCache

    value = connection_json(
        copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key, webhook_base_url=receiver.url
    )
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", value)
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS", "0.1")
    TokenCache.clear_memory()
    yield "copyleaks_default"
    TokenCache.clear_memory()


# ------------------------------------------------------------------------------ operators


def submit_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["method"] == "PUT" and "/scans/submit/" in c["path"]]


TEXT = (
    "The committee reviewed the harbour restoration plan in detail and agreed to publish the full "
    "budget, the timeline and the list of contractors before the public meeting next month."
)


# ------------------------------------------------------------------------------ airflow dags test


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``airflow db migrate`` once per session into a metadata DB of the DAG runs' own (SQLite),
    so that Airflow code running inside the pytest process cannot touch it."""
    database = tmp_path_factory.mktemp("airflow-metadata") / "airflow.db"
    env = {**os.environ, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return env


@dataclass
class DagRunner:
    folder: Path
    env: dict[str, str]

    def write(self, name: str, source: str) -> None:
        (self.folder / f"{name}.py").write_text(textwrap.dedent(source))

    def test(self, dag_id: str, logical_date: str = "2026-01-01", timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )


@pytest.fixture
def dag_runner(
    airflow_db: dict[str, str], tmp_path: Path, scan_conn: str, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> DagRunner:
    folder = tmp_path / "dags"
    folder.mkdir()
    env = {
        **os.environ,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__COPYLEAKS__STORE_URL": store_file,
        "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "0.2",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return DagRunner(folder, env)
