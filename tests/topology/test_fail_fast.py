"""Topology mistakes fail at once with an error naming the setting, never wait to a deadline.

A distributed executor with no ``[copyleaks] store_url`` would give every machine its own SQLite
store; a wait whose scans were registered in another store would never see their webhooks.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.sensors.scan import CopyleaksScanSensor
from airflow_copyleaks.testing.postgres import TemporaryPostgres
from airflow_copyleaks.topology import CopyleaksTopologyError
from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger
from tests.fixtures import context_for
from tests.scans.conftest import TEXT

DISTRIBUTED = [
    "CeleryExecutor",
    "KubernetesExecutor",
    "airflow.providers.edge3.executors.EdgeExecutor",
    "LocalExecutor,CeleryExecutor",
    "LocalExecutor,remote:airflow.providers.celery.executors.celery_executor.CeleryExecutor",
]


def calls_to_copyleaks(emulator: Any) -> list[str]:
    return [c["path"] for c in emulator.calls()]


@pytest.fixture
def no_store_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__COPYLEAKS__STORE_URL", raising=False)


@pytest.mark.parametrize("executor", DISTRIBUTED)
def test_a_distributed_executor_without_store_url_is_refused_before_any_request(
    executor: str, scan_conn: str, no_store_url: None, copyleaks_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", executor)
    copyleaks_emulator.reset()
    op = CopyleaksSubmitOperator(task_id="submit", documents=[{"key": "doc", "text": TEXT}])
    with pytest.raises(CopyleaksTopologyError) as refused:
        op.execute(context_for(op))
    message = str(refused.value)
    assert "[copyleaks] store_url" in message and executor.split(",")[-1].rsplit(".", 1)[-1] in message
    assert calls_to_copyleaks(copyleaks_emulator) == []  # no login, no submit: nothing spent


def test_the_sensor_and_trigger_refuse_it_too(no_store_url: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "KubernetesExecutor")
    sensor = CopyleaksScanSensor(task_id="wait", scan_ids=["af-any"], deferrable=True)
    with pytest.raises(CopyleaksTopologyError, match=r"\[copyleaks\] store_url"):
        sensor.execute(context_for(sensor))
    gen = CopyleaksScanTrigger(["af-any"], resend_after_seconds=0).run()
    with pytest.raises(CopyleaksTopologyError, match=r"\[copyleaks\] store_url"):
        asyncio.run(gen.__anext__())


def test_a_local_executor_keeps_the_machine_local_default(no_store_url: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_copyleaks import config

    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    assert config.store_url().endswith("copyleaks.db")


def test_an_explicit_store_url_is_accepted_under_celery(store_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_copyleaks import config

    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    assert config.store_url() == store_file


@pytest.fixture(params=["sqlite", "postgres-with-password"])
def other_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """A store the scans were never registered in, and the password its URL holds (or "")."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'other.db'}", ""
    server: TemporaryPostgres = request.getfixturevalue("postgres_server")
    password = f"pw-{int(time.time() * 1000) % 10**8}-secret"
    return server.create_role_and_database(f"topo_{password[3:11]}", password, f"topo_{password[3:11]}"), password


def assert_names_the_store(message: str, url: str, password: str) -> None:
    from airflow_copyleaks.topology import display_url

    assert "not registered" in message and "af-never-registered" in message, message
    assert display_url(url) in message and "[copyleaks] store_url" in message, message
    if password:
        assert password not in message and "***" in message, message


@pytest.mark.asyncio
async def test_a_trigger_whose_scans_were_never_registered_fails_at_once(other_store: tuple[str, str]) -> None:
    url, password = other_store
    trigger = CopyleaksScanTrigger(
        ["af-never-registered"], store_url=url, poll_interval=0.05, resend_after_seconds=0, deadline=time.time() + 600
    )
    gen = trigger.run()
    try:
        event = (await asyncio.wait_for(gen.__anext__(), 10)).payload
    finally:
        await gen.aclose()
    assert event["status"] == "error" and event["pending"] == ["af-never-registered"]
    assert_names_the_store(event["message"], url, password)


def test_a_poking_sensor_on_unregistered_scans_fails_at_once(other_store: tuple[str, str]) -> None:
    url, password = other_store
    sensor = CopyleaksScanSensor(
        task_id="wait", scan_ids=["af-never-registered"], store_url=url, mode="poke", deferrable=False, timeout=600
    )
    with pytest.raises(AirflowException) as failed:
        sensor.poke(context_for(sensor))
    assert_names_the_store(str(failed.value), url, password)
