"""The hook without a database: the token and the rate limit fall back to the process's memory."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from airflow_copyleaks.hooks.backends import MEMORY, MemoryBackend, SlotBackend, TokenBackend
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.hooks.rate_limit import RateLimiter
from airflow_copyleaks.hooks.token_cache import TokenCache
from airflow_copyleaks.store import ScanStore
from tests.fixtures import connection_json

UNREACHABLE = "postgresql+psycopg2://copyleaks:store-password-42@127.0.0.1:9/nowhere"


@pytest.fixture
def no_store(copyleaks_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``copyleaks_default`` on the emulator while ``[copyleaks] store_url`` cannot be reached."""
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__STORE_URL", UNREACHABLE)
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    TokenCache.clear_memory()
    MEMORY.__init__()  # type: ignore[misc]
    yield copyleaks_emulator
    TokenCache.clear_memory()


def test_get_credits_works_without_a_reachable_store(no_store: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert CopyleaksHook().get_credits() == 1000
        assert CopyleaksHook().get_credits() == 1000  # a second hook of the process reuses the token
    assert no_store.stats()["logins"] == 1
    warnings = [r.getMessage() for r in caplog.records if "store_url" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1:9" in warnings[0]
    assert "store-password-42" not in caplog.text


def test_an_unreachable_store_limits_the_rate_in_the_process(no_store: Any) -> None:
    hook = CopyleaksHook()
    assert hook.backend is MEMORY
    assert isinstance(hook.rate_limiter, RateLimiter)


def test_a_memory_backend_shares_one_login_among_threads(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    hook = CopyleaksHook(store=MemoryBackend())
    with ThreadPoolExecutor(max_workers=8) as pool:
        balances = list(pool.map(lambda _: hook.get_credits(), range(16)))
    assert balances == [1000] * 16
    copyleaks_emulator.expire_tokens()
    assert hook.get_credits() == 1000  # a 401 drops the token from memory too, and logs in once more
    assert copyleaks_emulator.stats()["logins"] == 2


def test_both_backends_satisfy_the_interfaces(store_file: str) -> None:
    for backend in (MemoryBackend(), ScanStore(store_file)):
        assert isinstance(backend, TokenBackend) and isinstance(backend, SlotBackend)


def test_memory_leases_and_slots() -> None:
    memory = MemoryBackend()
    assert memory.try_acquire_lease("login:a", "p1", 30)
    assert not memory.try_acquire_lease("login:a", "p2", 30)
    memory.release_lease("login:a", "p1")
    assert memory.try_acquire_lease("login:a", "p2", 30)
    first = memory.reserve_request_slot("rate:a", 0.5)
    assert memory.reserve_request_slot("rate:a", 0.5) == pytest.approx(first + 0.5)


def test_a_machine_local_store_refused_on_purpose_is_not_hidden_by_the_memory_fallback(
    copyleaks_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under Celery with no store_url each process would log in alone: that stays an error."""
    from airflow_copyleaks.topology import CopyleaksTopologyError

    monkeypatch.delenv("AIRFLOW__COPYLEAKS__STORE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    with pytest.raises(CopyleaksTopologyError, match="store_url"):
        CopyleaksHook().get_credits()
    assert copyleaks_emulator.calls() == []
