"""Where the API key is posted (the identity host), and the two shapes of Copyleaks' 409."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksConflictError, CopyleaksValidationError
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.store import ScanStore

TEXT = (
    "Editors at the harbour gazette reviewed the evening edition twice before the presses started, "
    "checking every quotation against the notes taken during the council meeting."
)
WEBHOOKS = {"status": "http://127.0.0.1:9/hooks/{STATUS}/x"}


def _connect(monkeypatch: pytest.MonkeyPatch, emu: Any, **extra: Any) -> None:
    body = {"conn_type": "copyleaks", "login": emu.email, "password": emu.api_key,
            "extra": {"requests_per_second": 0, **extra}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", json.dumps(body))


def test_an_api_host_alone_does_not_receive_the_api_key(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(monkeypatch, copyleaks_emulator, api_base_url=copyleaks_emulator.url)
    hook = CopyleaksHook(store=ScanStore(store_file))
    with pytest.raises(CopyleaksValidationError, match="identity_base_url") as err:
        hook.get_credits()
    assert "emulator: true" in str(err.value) and copyleaks_emulator.api_key not in str(err.value)
    assert copyleaks_emulator.calls() == []  # no login posted anywhere


def test_the_emulator_single_host_mode_is_explicit(
    copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(monkeypatch, copyleaks_emulator, api_base_url=copyleaks_emulator.url, emulator="true")
    hook = CopyleaksHook(store=ScanStore(store_file))
    assert hook.settings.identity_url == copyleaks_emulator.url
    assert hook.get_credits() == 1000


@pytest.mark.parametrize(
    ("extra", "identity"),
    [
        ({}, "https://id.copyleaks.com"),
        ({"api_base_url": "https://api.copyleaks.com/"}, "https://id.copyleaks.com"),
        ({"api_base_url": "https://api.example", "identity_base_url": "https://id.example/"}, "https://id.example"),
    ],
)
def test_identity_url_defaults(
    copyleaks_emulator: Any, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str], identity: str
) -> None:
    _connect(monkeypatch, copyleaks_emulator, **extra)
    assert CopyleaksHook().settings.identity_url == identity


@pytest.mark.parametrize(
    "body",
    [
        {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.10", "title": "Conflict", "status": 409,
         "traceId": "00-6f1e0b7c3d2a4e5f8a9b0c1d2e3f4a5b-1a2b3c4d5e6f7a8b-00"},
        {"error": {"type": "invalid_request_error", "id": "scan_id_taken", "code": 3,
                   "message": "A scan with this id already exists."}},
    ],
    ids=["problem_details", "error_envelope"],
)  # fmt: skip
def test_both_409_shapes_mean_already_submitted(
    hook: CopyleaksHook, copyleaks_emulator: Any, body: dict[str, Any]
) -> None:
    hook.get_token()
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/submit/file/dup-1", status=409, body=body, method="PUT")
    with pytest.raises(CopyleaksConflictError) as err:
        hook.submit_text("dup-1", TEXT, {"webhooks": WEBHOOKS})
    assert err.value.status == 409 and err.value.scan_id == "dup-1"
    assert ("Conflict" if "title" in body else "already exists") in err.value.message


def test_the_submit_operator_takes_a_problem_details_409_as_already_submitted(
    copyleaks_conn: str, copyleaks_emulator: Any, store_file: str
) -> None:
    from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
    from tests.fixtures import context_for

    op = CopyleaksSubmitOperator(
        task_id="submit", documents=[{"key": "a", "text": TEXT}], store_url=store_file,
        wait_for_completion=False, webhook_base_url="http://127.0.0.1:9/hooks",
    )  # fmt: skip
    problem = {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.10", "title": "Conflict", "status": 409}
    copyleaks_emulator.add_fault(path_prefix="/v3/scans/submit/", status=409, body=problem, method="PUT")
    result = op.execute(context_for(op))
    assert result["items"]["a"]["submission"] == "already_submitted"
