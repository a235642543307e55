"""Each endpoint's retry rule, against the emulator: a paid synchronous check is sent again only
when it provably did not reach Copyleaks; an idempotent call on every transient failure."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksConnectionError, CopyleaksUnavailableError
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.hooks.retry import ENDPOINTS, RetryRule
from airflow_copyleaks.store import ScanStore
from tests.fixtures import connection_json

MODERATION = "/v1/text-moderation/"
PAID = {"ai_text", "writing_feedback", "moderation", "image_plagiarism", "ai_image"}


def moderation_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"].startswith(MODERATION)]


def test_every_paid_check_retries_only_what_did_not_reach_copyleaks() -> None:
    assert {name for name, e in ENDPOINTS.items() if e.rule is RetryRule.NOT_REACHED} == PAID
    assert ENDPOINTS["submit_file"].rule is RetryRule.IDEMPOTENT
    assert ENDPOINTS["login"].rule is RetryRule.LOGIN


def test_every_endpoint_the_hook_calls_is_in_the_table() -> None:
    import airflow_copyleaks.hooks.account as account
    import airflow_copyleaks.hooks.scans as scans
    import airflow_copyleaks.hooks.sync_checks as sync_checks

    source = "".join(inspect.getsource(m) for m in (account, scans, sync_checks))
    named = set(__import__("re").findall(r'_call\(\s*f?"([a-z_{}]+)"', source))
    named = {n.replace("{kind}", k) for n in named for k in ("file", "ocr")} if named else named
    assert named - {"submit_file", "submit_ocr"} <= set(ENDPOINTS)
    assert "_request(" not in source  # no endpoint bypasses the table


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_paid_check_is_not_sent_again_after_a_server_error(
    hook: CopyleaksHook, copyleaks_emulator: Any, status: int
) -> None:
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix=MODERATION, status=status, count=1)
    with pytest.raises(CopyleaksUnavailableError):
        hook.moderate_text("mod-5xx", "some text to moderate", labels=["toxic-v1"])
    assert [c["status"] for c in moderation_calls(copyleaks_emulator)] == [status]
    assert hook.stats["retries"] == 0


def test_a_paid_check_whose_answer_was_lost_is_not_paid_twice(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix=MODERATION, kind="drop_answer", count=1)
    with pytest.raises(CopyleaksConnectionError):
        hook.moderate_text("mod-lost", "some text to moderate", labels=["toxic-v1"])
    assert len(moderation_calls(copyleaks_emulator)) == 1
    assert copyleaks_emulator.stats()["credits_used"] == 1


def test_a_paid_check_is_not_sent_again_after_a_read_timeout(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                           timeout_seconds=0.5)  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    hook = CopyleaksHook(store=ScanStore(store_file))
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix=MODERATION, kind="delay", delay_seconds=1.5, count=1)
    with pytest.raises(CopyleaksConnectionError, match="ReadTimeout"):
        hook.moderate_text("mod-slow", "some text to moderate", labels=["toxic-v1"])
    assert hook.stats["retries"] == 0
    # The emulator logs the call when its (delayed) handling ends, after the client gave up.
    copyleaks_emulator.wait_for(lambda: moderation_calls(copyleaks_emulator), timeout=5)
    assert len(moderation_calls(copyleaks_emulator)) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_paid_check_refused_before_it_ran_is_sent_again(
    hook: CopyleaksHook, copyleaks_emulator: Any, status: int
) -> None:
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix=MODERATION, status=status, count=2)
    assert "moderations" in hook.moderate_text("mod-busy", "some text to moderate", labels=["toxic-v1"])
    assert [c["status"] for c in moderation_calls(copyleaks_emulator)] == [status, status, 200]
    assert copyleaks_emulator.stats()["credits_used"] == 1


def test_a_paid_check_that_could_not_connect_is_sent_again(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Login on the emulator, the API host refusing connections: nothing reached it, so retried."""
    conn = connection_json("http://127.0.0.1:9", copyleaks_emulator.email, copyleaks_emulator.api_key,
                           identity_base_url=copyleaks_emulator.url, max_retries=2)  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    hook = CopyleaksHook(store=ScanStore(store_file))
    with pytest.raises(CopyleaksConnectionError, match="ConnectionError"):
        hook.moderate_text("mod-down", "some text to moderate", labels=["toxic-v1"])
    assert hook.stats["retries"] == 2


def test_an_idempotent_submit_whose_answer_was_lost_is_sent_again(
    hook: CopyleaksHook, copyleaks_emulator: Any
) -> None:
    from airflow_copyleaks.exceptions import CopyleaksConflictError

    text = "The harbour trust published the dredging survey together with the tide tables and costs."
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/submit/file/sub-lost", kind="drop_answer", count=1)
    with pytest.raises(CopyleaksConflictError):  # the repeat meets "already submitted": nothing paid twice
        hook.submit_text("sub-lost", text, {"webhooks": {"status": "http://127.0.0.1:9/{STATUS}"}})
    statuses = [c["status"] for c in copyleaks_emulator.calls() if c["path"].startswith("/v3/scans/submit/")]
    assert statuses == [201, 409]


def test_the_session_takes_transport_options_from_the_connection_and_no_credentials(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxies = {"https": "http://127.0.0.1:3128"}
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                           proxies=proxies, verify=False)  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    session = CopyleaksHook(store=ScanStore(store_file)).get_conn()
    assert session.proxies == proxies and session.verify is False
    assert session.auth is None  # the API key never travels as basic auth
    assert not {"api_base_url", "sandbox", "proxies"} & {h.lower() for h in session.headers}
    from requests.adapters import HTTPAdapter

    assert type(session.get_adapter("https://api.copyleaks.com")).__name__ == "TCPKeepAliveAdapter"
    assert isinstance(session.get_adapter("https://api.copyleaks.com"), HTTPAdapter)


def test_async_resend_retries_maintenance_without_blocking_the_loop(
    hook: CopyleaksHook, copyleaks_emulator: Any
) -> None:
    text = "The harbour trust published the dredging survey together with the tide tables and costs."
    hook.submit_text("resend-1", text, {"webhooks": {"status": "http://127.0.0.1:9/{STATUS}"}})
    copyleaks_emulator.wait_for_status("resend-1", ["completed"])
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/resend-1/webhooks/resend", status=503, count=1)

    async def resend() -> None:
        try:
            await hook.aresend_webhook("resend-1")
        finally:
            await hook.aclose()

    asyncio.run(resend())
    statuses = [c["status"] for c in copyleaks_emulator.calls() if c["path"].endswith("/webhooks/resend")]
    assert statuses[0] == 503 and len(statuses) == 2 and statuses[1] < 300
