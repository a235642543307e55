"""How a task reads a wait's event: what fails it, with which exception and message."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_copyleaks.exceptions import CopyleaksScanFailed
from airflow_copyleaks.waits.domain import build_event
from airflow_copyleaks.waits.tasks import as_seconds, raise_for_event, validate_scan_event


def test_a_successful_event_passes() -> None:
    event = build_event(["a"], ["completed"], {"a": {"status": "completed"}})
    validated = validate_scan_event(event, ["a"])
    assert validated["status"] == "success"
    assert validated["failed"] == [] and validated["unwanted"] == [] and validated["pending"] == []
    assert raise_for_event(validated, "completed") is None  # a success raises nothing


def test_a_timeout_names_the_pending_scans() -> None:
    event = build_event(["a", "b"], ["completed"], {"a": {"status": "completed"}}, status="timeout", message="late")
    with pytest.raises(AirflowException, match=r"late \(pending: \['b'\]\)"):
        raise_for_event(event, "completed")


def test_an_error_webhook_fails_without_retry_naming_the_code() -> None:
    scans = {
        "a": {"status": "error", "summary": {"error": {"code": 13, "message": "no credits"}}},
        "b": {"status": "error", "summary": {"error": {"code": 13, "message": "no credits"}}},
    }
    with pytest.raises(CopyleaksScanFailed, match="code 13: no credits .and 1 more failed") as failed:
        raise_for_event(build_event(["a", "b"], ["completed"], scans), ["completed"])
    assert isinstance(failed.value, AirflowFailException) and failed.value.scan_id == "a"


def test_a_scan_final_in_another_status_fails_naming_both() -> None:
    event = build_event(["a"], ["completed"], {"a": {"status": "indexed"}})
    with pytest.raises(AirflowException, match="'a' ended as 'indexed'.*completed"):
        raise_for_event(event, "completed")


def test_a_success_event_whose_scans_did_not_get_there_is_not_trusted() -> None:
    event = build_event(["a"], ["completed"], {"a": {"status": "started"}}, status="success")
    with pytest.raises(AirflowException, match=r"did not reach completed"):
        raise_for_event(event, "completed")


def test_a_malformed_event_fails_the_task_with_an_airflow_error() -> None:
    with pytest.raises(AirflowException, match="no usable event"):
        validate_scan_event(None)


def test_durations() -> None:
    from datetime import timedelta

    assert as_seconds(None, 5.0) == 5.0 and as_seconds(timedelta(minutes=2), 0) == 120.0 and as_seconds(3, 0) == 3.0
