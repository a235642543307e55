"""Fixtures shared by every test folder (loaded with ``-p tests.fixtures``, see pyproject.toml).

The session gets its own AIRFLOW_HOME, set before Airflow is imported, so tests never touch a
user's ~/airflow. Each test that talks to Copyleaks gets the emulator (the package's pytest
plugin), a fresh ScanStore file, and a ``copyleaks_default`` connection pointing at both.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

WEBHOOK_SECRET = "test-webhook-secret-0123456789"

_session_home = Path(tempfile.mkdtemp(prefix="copyleaks-tests-airflow-home-"))
atexit.register(shutil.rmtree, _session_home, ignore_errors=True)
os.environ.setdefault("AIRFLOW_HOME", str(_session_home))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ["AIRFLOW__COPYLEAKS__WEBHOOK_SECRET"] = WEBHOOK_SECRET
os.environ.setdefault("AIRFLOW__COPYLEAKS__STORE_URL", f"sqlite:///{_session_home / 'copyleaks-store.db'}")


def clean_process_context(*preload: str) -> Any:
    """A multiprocessing context whose children never copy a process with other threads (a
    ``fork`` child can inherit a lock another thread held, the emulator's or a log handler's, and
    hang). forkserver: one clean server imports ``preload`` once; children fork from it quickly.
    Only the first call's preload counts (the server is started once per test session), and the
    server's environment is the session's: pass per-test settings to the child explicitly."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    # The provider's heavy imports by their package names: a test module's own name depends on
    # how pytest imported it, and a preload that fails is skipped without a word.
    ctx.set_forkserver_preload(["sqlalchemy", "airflow_copyleaks.store", "airflow_copyleaks.hooks.copyleaks", *preload])
    return ctx


def run_in_clean_processes(target: Callable[..., None], args: list[tuple[Any, ...]], timeout: float = 120) -> list[Any]:
    """Run ``target(*a, queue)`` for each ``a`` in its own clean process; what each put in the queue."""
    ctx = clean_process_context(target.__module__)
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, queue)) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout)
    assert [p.exitcode for p in procs] == [0] * len(procs), [p.exitcode for p in procs]
    return [queue.get(timeout=5) for _ in procs]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned); fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def connection_json(emulator_url: str, email: str, api_key: str, **extra: Any) -> str:
    """An ``AIRFLOW_CONN_...`` value for the emulator, with quick retries for tests."""
    fields = {
        "api_base_url": emulator_url,
        "identity_base_url": emulator_url,
        "sandbox": False,
        "requests_per_second": 0,
        "retry_base_seconds": 0.05,
        "retry_jitter_seconds": 0.05,
        "maintenance_wait_seconds": 0.2,
        "timeout_seconds": 10,
    }
    fields.update(extra)
    return json.dumps({"conn_type": "copyleaks", "login": email, "password": api_key, "extra": fields})


@pytest.fixture
def store_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite ScanStore for this test, also set as the configured store."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__STORE_URL", url)
    return url


@pytest.fixture
def copyleaks_conn(copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Connection ``copyleaks_default`` to the emulator; the hook's in-process token memory is cleared."""
    from airflow_copyleaks.hooks.token_cache import TokenCache

    monkeypatch.setenv(
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
        connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key),
    )
    TokenCache.clear_memory()
    yield "copyleaks_default"
    TokenCache.clear_memory()


@pytest.fixture
def hook(copyleaks_conn: str, store_file: str) -> Any:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
    from airflow_copyleaks.store import ScanStore

    return CopyleaksHook(copyleaks_conn, store=ScanStore(store_file))


@dataclass
class FakeTaskInstance:
    """Just enough of a task instance to call ``execute`` directly: XCom that must stay JSON."""

    dag_id: str = "audit"
    task_id: str = "task"
    run_id: str = "manual__2026-01-01T00:00:00+00:00"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = json.loads(json.dumps(value))

    def xcom_pull(self, task_ids: str, key: str = "return_value", map_indexes: int | None = None) -> Any:
        assert task_ids == self.task_id and map_indexes == self.map_index
        return self.xcoms.get(key)


def context_for(op: Any, **ti_fields: Any) -> dict[str, Any]:
    """A task context for running ``op.execute`` outside a DAG run."""
    ti = FakeTaskInstance(task_id=op.task_id, **ti_fields)
    return {"ti": ti, "task_instance": ti, "dag_run": None, "run_id": ti.run_id}
