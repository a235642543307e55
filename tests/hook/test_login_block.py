"""Blocked logins are shared: one refused login per account, the others fail fast with its cause."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksAuthError, CopyleaksRateLimitError
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.store import ScanStore
from tests.fixtures import connection_json, run_in_clean_processes

LOGIN = "/v3/account/login/api"


def login_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"] == LOGIN]


def _credits_in_child(env: dict[str, str], store_url: str, queue: Any) -> None:
    os.environ.update(env)
    try:
        queue.put(("ok", CopyleaksHook("copyleaks_default", store=ScanStore(store_url)).get_credits()))
    except Exception as err:
        queue.put((type(err).__name__, str(err)))


@pytest.mark.parametrize("shared", [True, False], ids=["shared_block", "each_process_alone"])
def test_eight_processes_meet_one_refused_login(copyleaks_emulator: Any, store_file: str, shared: bool) -> None:
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    ScanStore(store_file)
    copyleaks_emulator.add_fault(LOGIN, status=429, count=100)
    env = {"AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn, "AIRFLOW__COPYLEAKS__SHARED_LOGIN_BLOCK": str(shared)}
    outcomes = run_in_clean_processes(_credits_in_child, [(env, store_file)] * 8)
    assert {kind for kind, _ in outcomes} == {"CopyleaksRateLimitError"}
    if shared:
        assert len(login_calls(copyleaks_emulator)) == 1
        fail_fast = [message for _, message in outcomes if "not logging in again until" in message]
        assert len(fail_fast) == 7 and all("429: Rate limit exceeded" in m for m in fail_fast)
    else:  # the behaviour before the shared record: every process spends a login on the block
        assert len(login_calls(copyleaks_emulator)) == 8


def test_the_refusal_is_recorded_with_its_cause_and_when_it_lifts(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.add_fault(LOGIN, status=429, count=5)
    before = datetime.now(timezone.utc)
    with pytest.raises(CopyleaksRateLimitError):
        hook.get_credits()
    status, cause, lifts_at = hook.token_cache._store.get_login_block(hook.token_cache.account_id)
    assert (status, cause) == (429, "429: Rate limit exceeded")
    assert before + timedelta(minutes=5) <= lifts_at <= datetime.now(timezone.utc) + timedelta(minutes=5)
    other = CopyleaksHook("copyleaks_default", store=hook.token_cache._store)
    with pytest.raises(CopyleaksRateLimitError, match="not logging in again"):
        other.get_credits()
    assert len(login_calls(copyleaks_emulator)) == 1


def test_a_refused_key_is_shared_too(copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "11111111-2222-3333-4444-555555555555"
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, wrong)
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    store = ScanStore(store_file)
    for _ in range(3):
        with pytest.raises(CopyleaksAuthError) as err:
            CopyleaksHook(store=store).get_credits()
        assert wrong not in str(err.value)
    assert [c["status"] for c in login_calls(copyleaks_emulator)] == [401]


def test_a_block_that_lifted_lets_the_next_login_through(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    store = hook.token_cache._store
    lifted = datetime.now(timezone.utc) - timedelta(seconds=1)
    store.record_login_block(hook.token_cache.account_id, 429, "429: Rate limit exceeded", lifted)
    assert hook.get_credits() == 1000
    assert store.get_login_block(hook.token_cache.account_id) is None


def test_test_connection_spends_no_login_per_click(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.get_credits()
    for _ in range(3):
        ok, message = CopyleaksHook("copyleaks_default", store=hook.token_cache._store).test_connection()
        assert ok and "1000 credits" in message
    assert copyleaks_emulator.stats()["logins"] == 1


def test_at_most_one_forced_refresh_per_account_per_minute(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.get_credits()
    copyleaks_emulator.expire_tokens()
    assert hook.get_credits() == 1000  # the refused token is replaced once
    copyleaks_emulator.expire_tokens()
    with pytest.raises(CopyleaksAuthError, match="at most one forced refresh"):
        hook.get_credits()
    assert copyleaks_emulator.stats()["logins"] == 2


HOST_BEHIND = 400.0  # more than the 5-minute block: a host-clock lifts_at is already past


def _refused_login_on_a_host_behind(env: dict[str, str], store_url: str, queue: Any) -> None:
    import time_machine

    os.environ.update(env)
    # This whole process runs on a host whose clock is 400 s behind the database's.
    with time_machine.travel(time.time() - HOST_BEHIND, tick=True):
        try:
            CopyleaksHook("copyleaks_default", store=ScanStore(store_url)).get_credits()
            queue.put(("ok", ""))
        except Exception as err:
            queue.put((type(err).__name__, str(err)))


def test_a_login_block_recorded_by_a_host_whose_clock_is_behind_still_holds_for_the_others(
    copyleaks_emulator: Any, postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_url = postgres_server.create_database(f"login_block_skew_{os.getpid()}")
    on_time = ScanStore(store_url)
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    copyleaks_emulator.add_fault(LOGIN, status=429, count=100)
    env = {"AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn, "AIRFLOW__COPYLEAKS__SHARED_LOGIN_BLOCK": "True"}
    [(kind, _)] = run_in_clean_processes(_refused_login_on_a_host_behind, [(env, store_url)])
    assert kind == "CopyleaksRateLimitError"
    account = CopyleaksHook("copyleaks_default", store=on_time).token_cache.account_id
    block = on_time.get_login_block(account)
    # The block lifts five minutes after the refusal on the database's clock, not the host's.
    assert block is not None, "the block recorded on the skewed host's clock had already lifted"
    assert block[2] >= on_time.db_now() + timedelta(seconds=300 - 60)
    on_time.dispose()
