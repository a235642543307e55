"""CopyleaksHook against the emulator over real HTTP on loopback."""

from __future__ import annotations

import base64
import io
import logging
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks.exceptions import (
    CopyleaksApiError,
    CopyleaksAuthError,
    CopyleaksConflictError,
    CopyleaksConnectionError,
    CopyleaksNotFoundError,
    CopyleaksPaymentError,
    CopyleaksRateLimitError,
    CopyleaksUnavailableError,
    CopyleaksValidationError,
)
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook, RetryPolicy
from airflow_copyleaks.hooks.token_cache import TokenCache
from airflow_copyleaks.store import ScanStore
from tests.fixtures import connection_json, run_in_clean_processes

TEXT = (
    "Editors at the harbour gazette reviewed the evening edition twice before the presses started, "
    "checking every quotation against the notes taken during the council meeting."
)
WEBHOOKS = {"status": "http://127.0.0.1:9/hooks/{STATUS}/x"}


def api_calls(emulator: Any, prefix: str = "/v") -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"].startswith(prefix) and "/account/login" not in c["path"]]


def test_login_once_then_token_reused(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    for _ in range(5):
        assert hook.get_credits() >= 0
    assert copyleaks_emulator.stats()["logins"] == 1
    # A second hook in the same process and the same store reuses the token too.
    other = CopyleaksHook("copyleaks_default", store=hook.token_cache._store)
    other.get_credits()
    assert copyleaks_emulator.stats()["logins"] == 1


def test_token_is_shared_through_the_store_not_only_memory(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.get_credits()
    TokenCache.clear_memory()  # as if a new process started
    CopyleaksHook("copyleaks_default", store=hook.token_cache._store).get_credits()
    assert copyleaks_emulator.stats()["logins"] == 1


def test_token_in_store_is_encrypted(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    token = hook.get_token()
    row = hook.token_cache._store.get_token(hook.token_cache.account_id)
    assert row is not None
    assert token.access_token.encode() not in row[0]
    assert copyleaks_emulator.api_key.encode() not in row[0]


def _credits_in_child(env: dict[str, str], store_url: str, queue: Any) -> None:
    os.environ.update(env)
    hook = CopyleaksHook("copyleaks_default", store=ScanStore(store_url))
    queue.put(hook.get_credits())


def test_twenty_processes_cold_cache_one_login(copyleaks_emulator: Any, store_file: str) -> None:
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    ScanStore(store_file)  # create the schema once, as the provider would on first use
    # Each child is a fresh process with its own store connections and no token in memory.
    env = {"AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn}
    balances = run_in_clean_processes(_credits_in_child, [(env, store_file)] * 20)
    assert balances == [1000] * 20  # every process read the balance
    assert copyleaks_emulator.stats()["logins"] == 1


def _calls_in_child(env: dict[str, str], store_url: str, calls: int, queue: Any) -> None:
    os.environ.update(env)
    hook = CopyleaksHook("copyleaks_default", store=ScanStore(store_url))
    for _ in range(calls):
        hook.get_credits()
    queue.put(hook.stats["rate_limited"])


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per_process"])
def test_processes_keep_the_account_rate_together(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch, shared: bool
) -> None:
    """Four mapped-task processes at 10 requests/s: through the store they send 10/s in all, meeting
    no 429; each limiting itself (``shared_rate_limit = False``) they send 40/s and get refused."""
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__SHARED_RATE_LIMIT", str(shared))
    copyleaks_emulator.set_config(requests_per_second=10)
    conn = connection_json(
        copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key, requests_per_second=10
    )
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    CopyleaksHook("copyleaks_default", store=ScanStore(store_file)).get_token()  # one login, shared
    env = {"AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn, "AIRFLOW__COPYLEAKS__SHARED_RATE_LIMIT": str(shared)}
    rate_limited = run_in_clean_processes(_calls_in_child, [(env, store_file, 8)] * 4)
    refused = [c for c in api_calls(copyleaks_emulator, "/v3/scans/credits") if c["status"] == 429]
    ok = [c for c in api_calls(copyleaks_emulator, "/v3/scans/credits") if c["status"] == 200]
    assert len(ok) == 32 and sum(rate_limited) == len(refused)
    if shared:
        assert refused == []
    else:
        assert refused, "four processes each at 10/s should overrun a 10/s account"


def test_refresh_before_expiry(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.set_config(token_lifetime_seconds=2)
    hook.get_credits()
    first = hook.get_token()
    import time

    time.sleep(1.7)  # inside the last quarter of the token's life: refreshed before it expires
    hook.get_credits()
    assert hook.get_token().access_token != first.access_token
    assert copyleaks_emulator.stats()["logins"] == 2
    assert not [c for c in copyleaks_emulator.calls() if c["status"] == 401]


def test_401_drops_the_token_and_logs_in_once_more(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.get_credits()
    copyleaks_emulator.expire_tokens()
    assert hook.get_credits() >= 0
    assert copyleaks_emulator.stats()["logins"] == 2
    assert [c["status"] for c in api_calls(copyleaks_emulator, "/v3/scans/credits")] == [200, 401, 200]


def test_wrong_api_key_is_a_clear_auth_error(copyleaks_emulator: Any, store_file: str, monkeypatch: Any) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
        connection_json(copyleaks_emulator.url, copyleaks_emulator.email, "11111111-2222-3333-4444-555555555555"),
    )
    hook = CopyleaksHook(store=ScanStore(store_file))
    with pytest.raises(CopyleaksAuthError, match="401") as err:
        hook.get_credits()
    assert "11111111-2222" not in str(err.value)
    ok, message = hook.test_connection()
    assert not ok and "refused" in message


def test_test_connection_ok(hook: CopyleaksHook) -> None:
    ok, message = hook.test_connection()
    assert ok, message
    assert "credits" in message


@pytest.mark.parametrize("status", [429, 503, 500])
def test_transient_failures_are_retried_until_success(
    hook: CopyleaksHook, copyleaks_emulator: Any, status: int
) -> None:
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/credits", status=status, count=3)
    assert hook.get_credits() == 1000
    statuses = [c["status"] for c in api_calls(copyleaks_emulator, "/v3/scans/credits")]
    assert statuses == [status, status, status, 200]
    assert hook.stats["retries"] == 3


def test_retries_are_bounded(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook._retry_override = RetryPolicy(max_retries=2, base_seconds=0.01, jitter_seconds=0.01)
    hook._settings = None
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/credits", status=429, count=10)
    with pytest.raises(CopyleaksRateLimitError) as err:
        hook.get_credits()
    assert err.value.status == 429 and err.value.retryable
    assert len(api_calls(copyleaks_emulator, "/v3/scans/credits")) == 3


def test_maintenance_503_is_typed(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook._retry_override = RetryPolicy(max_retries=0)
    hook._settings = None
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/credits", status=503, count=1)
    with pytest.raises(CopyleaksUnavailableError, match="maintenance"):
        hook.get_credits()


def test_connection_errors_are_retried_then_typed(store_file: str, monkeypatch: Any, copyleaks_emulator: Any) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
        connection_json("http://127.0.0.1:9", copyleaks_emulator.email, copyleaks_emulator.api_key, max_retries=2),
    )
    hook = CopyleaksHook(store=ScanStore(store_file))
    with pytest.raises(CopyleaksConnectionError, match="ConnectionError"):
        hook.get_credits()
    assert hook.stats["retries"] == 2


def test_submit_text_and_duplicate_is_conflict(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.submit_text("doc-1", TEXT, {"webhooks": WEBHOOKS, "sandbox": True})
    with pytest.raises(CopyleaksConflictError) as err:
        hook.submit_text("doc-1", TEXT, {"webhooks": WEBHOOKS, "sandbox": True})
    assert err.value.status == 409 and err.value.scan_id == "doc-1"


def test_submit_url_file_and_ocr(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.submit_url("url-1", "https://example-news.test/anything", {"webhooks": WEBHOOKS, "sandbox": True})
    hook.submit_file("file-1", TEXT.encode(), "essay.txt", {"webhooks": WEBHOOKS, "sandbox": True})
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, "PNG")
    hook.submit_file(
        "ocr-1", buffer.getvalue(), "scan.png", {"webhooks": WEBHOOKS, "sandbox": True}, kind="ocr", ocr_language="en"
    )
    paths = [c["path"] for c in api_calls(copyleaks_emulator, "/v3/scans/submit")]
    assert paths == ["/v3/scans/submit/url/url-1", "/v3/scans/submit/file/file-1", "/v3/scans/submit/ocr/ocr-1"]


def test_scan_id_with_slash_is_url_encoded(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.submit_text("team/doc.1", TEXT, {"webhooks": WEBHOOKS, "sandbox": True})
    assert copyleaks_emulator.scan("team/doc.1") is not None


def test_check_credits_then_start(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    props = {"webhooks": WEBHOOKS, "action": "check-credits"}
    hook.submit_text("price-1", TEXT, props)
    copyleaks_emulator.wait_for_status("price-1", ["creditsChecked"])
    result = hook.start(["price-1", "never-submitted"], error_handling="ignore")
    assert result == {"success": ["price-1"], "failed": ["never-submitted"]}


def test_resend_unknown_scan_is_not_found(hook: CopyleaksHook) -> None:
    with pytest.raises(CopyleaksNotFoundError) as err:
        hook.resend_webhook("no-such-scan")
    assert err.value.status == 404


def test_delete_export_and_misc(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.submit_text("del-1", TEXT, {"webhooks": WEBHOOKS})
    copyleaks_emulator.wait_for_status("del-1", ["completed"])
    hook.export(
        "del-1",
        "exp-1",
        {
            "completionWebhook": "http://127.0.0.1:9/done",
            "maxRetries": 1,
            "crawledVersion": {"endpoint": "http://127.0.0.1:9/crawled", "verb": "PUT"},
        },
    )
    hook.delete_scans(["del-1"], purge=True)
    assert "txt" in hook.get_supported_file_types()["textual"]
    assert "en" in hook.get_ocr_languages()
    assert hook.get_correction_types("en")["correctionTypes"]
    csv = hook.get_usage_history(date.today() - timedelta(days=1), date.today())
    assert isinstance(csv, str)


def test_sync_endpoints(hook: CopyleaksHook) -> None:
    long_text = (TEXT + " ") * 3
    ai = hook.detect_ai_text("ai-1", long_text)
    assert ai["summary"]["ai"] + ai["summary"]["human"] == pytest.approx(1)
    feedback = hook.writing_feedback("wf-1", "this is is a sentence with a doubled word.")
    assert "score" in feedback
    mod = hook.moderate_text("mod-1", "I hate you, idiot.", labels=["toxic-v1", "harassment-v1"])
    assert "moderations" in mod
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buffer, "PNG")
    image = hook.check_image_plagiarism("img-1", buffer.getvalue(), "red.png")
    assert image["matches"]["score"]["totalMatches"] == 0
    big = io.BytesIO()
    Image.new("RGB", (600, 600), "blue").save(big, "PNG")
    assert "summary" in hook.detect_ai_image("aiimg-1", big.getvalue(), "blue.png")


def test_payment_error_is_typed(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.set_config(credits=0)
    with pytest.raises(CopyleaksPaymentError) as err:
        hook.moderate_text("mod-poor", "some text to moderate", sandbox=False)
    assert err.value.status == 402


def test_unknown_label_is_refused_before_any_call(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    hook.get_token()
    before = len(copyleaks_emulator.calls())
    with pytest.raises(CopyleaksValidationError, match="labels"):
        hook.moderate_text("mod-x", "text", labels=["EXAMPLE-v1"])
    with pytest.raises(CopyleaksValidationError, match="properties.webhooks.status"):
        hook.submit_text("doc-x", TEXT, {})
    with pytest.raises(CopyleaksValidationError, match="6 words"):
        hook.submit_text("doc-y", "too short to scan", {"webhooks": WEBHOOKS})
    with pytest.raises(CopyleaksValidationError, match="512"):
        hook.submit_text("doc-z", TEXT, {"webhooks": WEBHOOKS, "developerPayload": "x" * 513})
    assert len(copyleaks_emulator.calls()) == before
    assert copyleaks_emulator.stats()["credits_used"] == 0


def test_server_side_validation_error_is_typed(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    # A raw call past our validators: the emulator's own 400 becomes a CopyleaksApiError with its message.
    with pytest.raises(CopyleaksApiError) as err:
        hook._request("PATCH", "/v3/scans/start", json_body={})
    assert err.value.status == 400
    assert "trigger" in str(err.value).lower()


def test_secrets_never_reach_logs_or_errors(
    copyleaks_emulator: Any, copyleaks_conn: str, store_file: str, caplog: pytest.LogCaptureFixture, capfd: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    hook = CopyleaksHook(store=ScanStore(store_file))
    token = hook.get_token().access_token
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/credits", status=500, count=2)
    hook.get_credits()
    copyleaks_emulator.expire_tokens()
    hook.get_credits()
    errors = []
    for call in (lambda: hook.resend_webhook("missing-scan"), lambda: hook.start(["a b"])):
        try:
            call()
        except Exception as err:
            errors.append(repr(err) + str(err))
    out, err_out = capfd.readouterr()
    everything = caplog.text + out + err_out + "".join(errors) + repr(hook.settings)
    assert copyleaks_emulator.api_key not in everything
    assert token not in everything
    assert base64.b64encode(copyleaks_emulator.api_key.encode()).decode() not in everything


def test_hook_reads_an_airflow_uri_connection(copyleaks_emulator: Any, store_file: str, monkeypatch: Any) -> None:
    from urllib.parse import quote

    uri = (
        f"copyleaks://{quote(copyleaks_emulator.email, safe='')}:{copyleaks_emulator.api_key}@/"
        f"?api_base_url={quote(copyleaks_emulator.url, safe='')}&emulator=true&sandbox=false"
    )
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_URI", uri)
    hook = CopyleaksHook("copyleaks_uri", store=ScanStore(store_file))
    assert hook.settings.api_url == copyleaks_emulator.url
    assert hook.sandbox is False
    assert hook.get_credits() == 1000


def test_provider_is_registered() -> None:
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    listed = subprocess.run([bin_dir / "airflow", "providers", "list"], capture_output=True, text=True, timeout=120)
    assert "airflow-provider-copyleaks" in listed.stdout
    hooks = subprocess.run([bin_dir / "airflow", "providers", "hooks"], capture_output=True, text=True, timeout=120)
    assert "copyleaks" in hooks.stdout and "CopyleaksHook" in hooks.stdout


def test_threads_sharing_a_hook_with_a_cold_cache_log_in_once(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        tokens = list(pool.map(lambda _: hook.get_token().access_token, range(16)))
    assert len(set(tokens)) == 1
    assert copyleaks_emulator.stats()["logins"] == 1


def test_a_401_in_the_middle_of_a_threaded_batch_logs_in_once_more(
    hook: CopyleaksHook, copyleaks_emulator: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    hook.get_credits()
    copyleaks_emulator.expire_tokens()
    with ThreadPoolExecutor(max_workers=8) as pool:
        balances = list(pool.map(lambda _: hook.get_credits(), range(16)))
    assert balances == [1000] * 16
    assert copyleaks_emulator.stats()["logins"] == 2


def test_shared_rate_limit_falls_back_to_the_process_when_the_store_is_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow_copyleaks.hooks.rate_limit import SharedRateLimiter

    folder = tmp_path / "gone"
    folder.mkdir()
    store = ScanStore(f"sqlite:///{folder / 'store.db'}")
    store.dispose()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()  # the database cannot be opened any more
    limiter = SharedRateLimiter(store, "https://api.example\nsomeone@example.com", rate=1000)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            limiter.acquire()
    warnings = [r for r in caplog.records if "Shared rate limit unavailable" in r.getMessage()]
    assert len(warnings) == 1  # said once, not per request
    assert limiter._fallback.rate == 1000


def _login_in_child(env: dict[str, str], store_url: str, queue: Any) -> None:
    os.environ.update(env)
    queue.put(CopyleaksHook("copyleaks_default", store=ScanStore(store_url)).get_token().access_token)


def test_a_token_read_from_the_shared_cache_is_masked_in_logs(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most processes never log in (another process did): the token they read must be masked too."""
    from airflow.providers.common.compat.sdk import redact

    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    ScanStore(store_file)
    (token,) = run_in_clean_processes(_login_in_child, [({"AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn}, store_file)])
    assert token in redact(f"token={token}")  # this process has not seen it yet
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    TokenCache.clear_memory()
    read = CopyleaksHook("copyleaks_default", store=ScanStore(store_file)).get_token().access_token
    assert read == token and copyleaks_emulator.stats()["logins"] == 1
    assert token not in redact(f"token={token}")


def test_the_webhook_secret_is_masked_once_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.common.compat.sdk import redact

    from airflow_copyleaks import config

    secret = "a-webhook-secret-nobody-has-logged-yet-31337"
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", secret)
    assert secret in redact(secret)
    assert config.webhook_secret() == secret
    assert secret not in redact(f"secret {secret}")


def test_a_redirect_is_not_followed_with_the_api_key(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    from airflow_copyleaks.testing.emulator.app import REDIRECT_TARGET

    copyleaks_emulator.add_fault(path_prefix="/v3/account/login", status=307, count=1)
    with pytest.raises(CopyleaksApiError, match="redirect") as err:
        hook.get_credits()
    assert err.value.status == 307
    assert not [c for c in copyleaks_emulator.calls() if c["path"] == REDIRECT_TARGET]
    assert copyleaks_emulator.api_key not in str(err.value)


def test_a_request_that_cannot_be_made_names_no_header(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests quotes a bad header's value in its error; ours says only what kind of error it was."""
    from airflow_copyleaks.exceptions import CopyleaksError

    monkeypatch.setenv(
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT",
        connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key),
    )
    hook = CopyleaksHook("copyleaks_default", store=ScanStore(store_file))
    with pytest.raises(CopyleaksError, match="could not be made") as err:
        hook._request("GET", "/v3/scans/credits", token="bad-token-value\nInjected: yes")
    assert "bad-token-value" not in str(err.value) and err.value.__cause__ is None
    assert not [c for c in copyleaks_emulator.calls() if c["path"] == "/v3/scans/credits"]


def test_token_times_with_an_offset_are_read_as_such(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    """The docs' older example gives .expires as "...+02:00": a token read two hours too fresh
    would be used after it expired (one 401 per expiry)."""
    import time

    copyleaks_emulator.set_config(token_lifetime_seconds=2, token_time_offset_minutes=120)
    hook.get_credits()
    first = hook.get_token()
    assert first.expires_at.utcoffset() == timedelta(hours=2)
    time.sleep(1.7)  # in the last quarter of its life: renewed before Copyleaks refuses it
    hook.get_credits()
    assert hook.get_token().access_token != first.access_token
    assert not [c for c in copyleaks_emulator.calls() if c["status"] == 401]


def test_a_login_refused_with_429_is_not_retried(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    copyleaks_emulator.set_config(login_limit=1)
    hook.get_credits()
    copyleaks_emulator.expire_tokens()
    with pytest.raises(CopyleaksRateLimitError, match="login"):
        hook.get_credits()
    logins = [c for c in copyleaks_emulator.calls() if c["path"].endswith("/account/login/api")]
    assert [c["status"] for c in logins] == [200, 429]  # one refusal, no retry to prolong the block


@pytest.mark.parametrize(
    "body",
    [
        {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "status": 400,
         "title": "One or more validation errors occurred.",
         "errors": {"properties.sensitivityLevel": ["The value 9 is not valid."]}},
        {"properties.sensitivityLevel": ["The value 9 is not valid."]},
    ],
    ids=["problem_details", "model_state"],
)  # fmt: skip
def test_validation_problems_name_their_field_in_either_shape(
    hook: CopyleaksHook, copyleaks_emulator: Any, body: dict[str, Any]
) -> None:
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/credits", status=400, body=body)
    with pytest.raises(CopyleaksApiError) as err:
        hook.get_credits()
    assert err.value.status == 400
    assert "properties.sensitivityLevel: The value 9 is not valid." in str(err.value)
    assert err.value.details == [{"param": "properties.sensitivityLevel", "message": ["The value 9 is not valid."]}]


def test_ai_image_over_27_megapixels_is_refused_before_upload(hook: CopyleaksHook, copyleaks_emulator: Any) -> None:
    from tests.unit.test_validation import png_header

    with pytest.raises(CopyleaksValidationError, match=r"27\.6 megapixels \(limit: 27 megapixels"):
        hook.detect_ai_image("aiimg-2", png_header(6_000, 4_600), "huge.png")
    assert not [c for c in copyleaks_emulator.calls() if "/ai-image-detector/" in c["path"]]


def test_other_v1_label_is_accepted_when_asked_for(hook: CopyleaksHook) -> None:
    mod = hook.moderate_text("mod-other", "I hate you, idiot.", labels=["toxic-v1", "other-v1"])
    assert "moderations" in mod


def _token_in_child_with_lease(env: dict[str, str], store_url: str, lease_seconds: float, queue: Any) -> None:
    from airflow_copyleaks.hooks import token_cache

    os.environ.update(env)
    token_cache.LOGIN_LEASE_SECONDS = lease_seconds  # short, so that a slow login outlasts it
    queue.put(CopyleaksHook("copyleaks_default", store=ScanStore(store_url)).get_token().access_token)


def test_a_login_slower_than_its_lease_is_still_the_only_one(copyleaks_emulator: Any, store_file: str) -> None:
    """The login lease is renewed while a slow login runs, so the process waiting for it does
    not take it over and log in a second time."""
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key)
    ScanStore(store_file)
    copyleaks_emulator.add_fault("/v3/account/login/api", kind="delay", delay_seconds=2.0, count=2)
    env = {"AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn}
    tokens = run_in_clean_processes(_token_in_child_with_lease, [(env, store_file, 0.6)] * 2)
    assert len(set(tokens)) == 1
    assert copyleaks_emulator.stats()["logins"] == 1
