"""``airflow-copyleaks doctor`` against the emulator and a running receiver: one passing and one
failing case per check, and never a login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks import cli
from airflow_copyleaks.doctor import check_receiver
from airflow_copyleaks.doctor_checks import check_connection, check_executor, check_secret, check_store
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.hooks.token_cache import TokenCache
from airflow_copyleaks.store import ScanStore

STRONG_SECRET = "k3J9-vQx_7TzLm2Rw8NpYc4Hb6Ds1Fa0"


def logins(emulator: Any) -> int:
    return sum(1 for c in emulator.calls() if "login" in c["path"])


def test_connection_passes_on_the_cached_token_without_a_login(scan_conn: str, copyleaks_emulator: Any) -> None:
    CopyleaksHook(scan_conn).get_credits()  # a task ran earlier: the token is cached
    before = logins(copyleaks_emulator)
    finding = check_connection(CopyleaksHook(scan_conn))
    assert finding.ok and "credits left" in finding.message, finding
    assert logins(copyleaks_emulator) == before


def test_connection_fails_on_a_refused_token_without_logging_in_again(scan_conn: str, copyleaks_emulator: Any) -> None:
    CopyleaksHook(scan_conn).get_credits()
    copyleaks_emulator.expire_tokens()  # Copyleaks no longer accepts the cached token
    before = logins(copyleaks_emulator)
    finding = check_connection(CopyleaksHook(scan_conn))
    assert not finding.ok and "refused the cached token" in finding.message, finding
    assert logins(copyleaks_emulator) == before


def test_connection_without_a_cached_token_is_not_checked_and_spends_no_login(
    scan_conn: str, copyleaks_emulator: Any
) -> None:
    TokenCache.clear_memory()
    finding = check_connection(CopyleaksHook(scan_conn))
    assert finding.ok and "not checked" in finding.message
    assert logins(copyleaks_emulator) == 0


def test_store_reachable_with_its_identity_and_unreachable_with_its_password_masked(store_url: str) -> None:
    finding, store_id = check_store(store_url)
    assert finding.ok and store_id == ScanStore(store_url).store_id() and store_id in finding.message
    dead = "postgresql+psycopg2://doctor:do-not-print-me@127.0.0.1:1/copyleaks"
    finding, store_id = check_store(dead)
    assert not finding.ok and store_id is None
    assert "do-not-print-me" not in finding.message and "***" in finding.message
    assert "[copyleaks] store_url" in finding.message


def test_receiver_on_the_same_store_passes_and_on_another_store_fails(receiver: Any, tmp_path: Path) -> None:
    assert check_receiver(receiver.url, store_id=receiver.store.store_id()).ok
    other = ScanStore(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    finding = check_receiver(receiver.url, store_id=other.store_id())
    assert not finding.ok and "[copyleaks] store_url" in finding.message
    assert receiver.store.store_id() in finding.message and other.store_id() in finding.message


def test_secret_strength() -> None:
    assert check_secret(STRONG_SECRET).ok
    for weak in ["short-secret", "a" * 40, "1212121212121212121212121212"]:
        finding = check_secret(weak)
        assert not finding.ok and weak not in finding.message, finding
    assert not check_secret("").ok


@pytest.mark.parametrize(
    ("executors", "store_url", "ok"),
    [
        (["LocalExecutor"], "", True),
        (["CeleryExecutor"], "postgresql+psycopg2://u:p@db/copyleaks", True),
        (["CeleryExecutor"], "", False),
        (["LocalExecutor", "KubernetesExecutor"], "sqlite:////shared/copyleaks.db", False),
    ],
)
def test_executor_against_store(executors: list[str], store_url: str, ok: bool) -> None:
    assert check_executor(store_url, executors).ok is ok


def test_doctor_command_all_well_then_a_split_store(
    scan_conn: str,
    receiver: Any,
    copyleaks_emulator: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", STRONG_SECRET)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    CopyleaksHook(scan_conn).get_credits()
    before = logins(copyleaks_emulator)
    assert cli.main(["doctor"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert out.count("ok: ") >= 5 and "problem" not in out, out
    assert STRONG_SECRET not in out

    # The receiver keeps writing to its store; this machine is pointed at another one.
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__STORE_URL", f"sqlite:///{tmp_path / 'split.db'}")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "problem: webhook_base_url:" in out and "store id" in out, out
    assert logins(copyleaks_emulator) == before
