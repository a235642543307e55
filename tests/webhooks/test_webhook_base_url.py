"""The connection form's example webhook URL reaches the receiver, and `doctor` tells a right one from a wrong one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_copyleaks import cli
from airflow_copyleaks.doctor import check_receiver
from airflow_copyleaks.get_provider_info import get_provider_info, hook_ui_field_behaviour
from airflow_copyleaks.plugins import URL_PREFIX
from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.testing.serving import serve_in_thread
from airflow_copyleaks.webhooks import urls
from airflow_copyleaks.webhooks.app import create_app
from tests.fixtures import connection_json

SECRET = "a-test-secret-long-enough-for-the-receiver"
HOST = "https://airflow.example.com"


def api_server(store: ScanStore, artifacts: Path) -> FastAPI:
    """An api-server stand-in: the receiver mounted at the plugin's prefix, as Airflow mounts it."""
    server = FastAPI()
    receiver = create_app(store=store, secret=SECRET, artifacts_url=artifacts.as_uri())
    server.mount(URL_PREFIX, receiver)
    return server


@pytest.fixture
def store(store_file: str) -> ScanStore:
    return ScanStore(store_file)


def documented_examples() -> list[str]:
    conn = get_provider_info()["connection-types"][0]
    described = conn["conn-fields"]["webhook_base_url"]["description"]
    found = [u.rstrip(".,") for u in re.findall(r"https://airflow\.example\.com\S*", described)]
    found.append(hook_ui_field_behaviour()["placeholders"]["extra"])  # 3.1's form shows it in extra
    return found


def test_the_documented_example_url_is_where_the_receiver_answers(store: ScanStore, tmp_path: Path) -> None:
    examples = documented_examples()
    assert examples[0].startswith(HOST)
    assert all(f'"{examples[0]}"' in e or e == examples[0] for e in examples)
    status_url = urls.status_webhook(examples[0], "scan-1", SECRET)["status"].replace("{STATUS}", "completed")
    headers = dict(urls.status_webhook(examples[0], "scan-1", SECRET)["statusHeaders"])
    with TestClient(api_server(store, tmp_path), base_url=HOST) as client:
        resp = client.post(status_url.removeprefix(HOST), json={"status": 0}, headers=headers)
    assert resp.status_code != 404, f"{status_url} is not a receiver route"
    assert resp.status_code < 500


@pytest.fixture
def served(store: ScanStore, tmp_path: Path) -> Iterator[str]:
    with serve_in_thread(api_server(store, tmp_path)) as url:
        yield url


def test_doctor_accepts_the_mounted_receiver_and_names_the_setting_for_a_wrong_path(served: str) -> None:
    right = check_receiver(f"{served}{URL_PREFIX}")
    assert right.ok, right.message
    wrong = check_receiver(f"{served}{URL_PREFIX}/webhooks")  # the form's old example
    assert not wrong.ok
    assert wrong.message.startswith("webhook_base_url:") and "404" in wrong.message
    unset = check_receiver(None)
    assert not unset.ok and "webhook_base_url" in unset.message


def test_doctor_command_checks_the_connection(
    served: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def conn(base: str) -> str:
        return connection_json("http://127.0.0.1:9", "a@example.com", "key", webhook_base_url=base)

    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn(f"{served}{URL_PREFIX}"))
    assert cli.main(["doctor"]) == 0
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn(f"{served}/wrong"))
    assert cli.main(["doctor"]) == 1
    assert "problem: webhook_base_url:" in capsys.readouterr().out
