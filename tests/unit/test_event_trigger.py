"""The event-driven trigger's filters and watermark key, without a store."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from airflow.triggers.base import BaseEventTrigger

from airflow_copyleaks.store.watermarks import Completion
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger


def completion(**fields: Any) -> Completion:
    values: dict[str, Any] = {
        "event_id": 7,
        "scan_id": "cms-42",
        "status": "completed",
        "score": 35.0,
        "developer_payload": "cms:post:42",
        "error": None,
        "scan_meta": {},
        "received_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
    }
    values.update(fields)
    return Completion(**values)


def test_it_is_an_event_trigger_for_asset_watchers() -> None:
    assert issubclass(CopyleaksScanCompletedTrigger, BaseEventTrigger)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"statuses": ["completed", "creditsChecked"]}, "statuses"),
        ({"statuses": []}, "statuses"),
        ({"min_score": 101}, "min_score"),
        ({"min_score": float("nan")}, "min_score"),
        ({"developer_payload": "x" * 513}, "developer_payload"),
        ({"developer_payload_pattern": "cms:("}, "developer_payload_pattern"),
        ({"name": ""}, "name"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        CopyleaksScanCompletedTrigger(**kwargs)


def test_default_filter_takes_every_completed_scan_and_nothing_else() -> None:
    trigger = CopyleaksScanCompletedTrigger()
    assert trigger.filter.matches(completion(score=None, developer_payload=None))
    assert not trigger.filter.matches(completion(status="error"))
    assert not trigger.filter.matches(completion(status="indexed"))


def test_score_threshold_is_inclusive_and_a_scan_without_score_does_not_pass() -> None:
    f = CopyleaksScanCompletedTrigger(min_score=35).filter
    assert f.matches(completion(score=35.0))
    assert not f.matches(completion(score=34.99))
    assert not f.matches(completion(score=None))


def test_developer_payload_exact_and_pattern() -> None:
    exact = CopyleaksScanCompletedTrigger(developer_payload="cms:post:42").filter
    assert exact.matches(completion())
    assert not exact.matches(completion(developer_payload="cms:post:420"))
    assert not exact.matches(completion(developer_payload=None))
    pattern = CopyleaksScanCompletedTrigger(developer_payload_pattern=r"cms:post:\d+").filter
    assert pattern.matches(completion(developer_payload="cms:post:9"))
    assert not pattern.matches(completion(developer_payload="xcms:post:9"))  # the whole payload must match
    assert not pattern.matches(completion(developer_payload=None))


def test_statuses_connection_account_and_scan_id_prefix() -> None:
    errors = CopyleaksScanCompletedTrigger(statuses="ERROR").filter
    assert errors.matches(completion(status="error", score=None))
    assert not errors.matches(completion())
    by_conn = CopyleaksScanCompletedTrigger(copyleaks_conn_id="copyleaks_cms").filter
    assert by_conn.matches(completion(scan_meta={"conn_id": "copyleaks_cms"}))
    assert not by_conn.matches(completion())  # a scan from outside Airflow has no connection
    by_account = CopyleaksScanCompletedTrigger(account="Editor@Example.com").filter
    assert by_account.matches(completion(scan_meta={"account": "editor@example.com"}))
    assert not by_account.matches(completion(scan_meta={"account": "other@example.com"}))
    assert not by_account.matches(completion())
    prefixed = CopyleaksScanCompletedTrigger(scan_id_prefix="cms-").filter
    assert prefixed.matches(completion())
    assert not prefixed.matches(completion(scan_id="af-42"))


def test_the_watermark_key_follows_the_filters_unless_the_watcher_is_named() -> None:
    a = CopyleaksScanCompletedTrigger(min_score=30, poll_interval=1)
    assert a.watermark_key == CopyleaksScanCompletedTrigger(min_score=30.0, poll_interval=5).watermark_key
    assert a.watermark_key != CopyleaksScanCompletedTrigger(min_score=31).watermark_key
    named = CopyleaksScanCompletedTrigger(min_score=30, name="takedown")
    assert named.watermark_key == "name:takedown"
    assert CopyleaksScanCompletedTrigger(min_score=50, name="takedown").watermark_key == named.watermark_key
    assert len(a.watermark_key) <= 128


def test_the_event_carries_scan_status_score_and_payload() -> None:
    event = completion(scan_meta={"dag_id": "d", "conn_id": "c"}).to_event()
    assert event["scan_id"] == "cms-42" and event["status"] == "completed"
    assert event["score"] == 35.0 and event["developer_payload"] == "cms:post:42"
    assert event["event_id"] == 7 and event["dag_id"] == "d" and event["conn_id"] == "c"


def test_shared_streams_are_used_exactly_where_airflow_has_them() -> None:
    import importlib.util

    has_shared_streams = importlib.util.find_spec("airflow.triggers.shared_stream") is not None
    key = CopyleaksScanCompletedTrigger(store_url="sqlite:////tmp/store.db").shared_stream_key()
    assert (key is not None) == has_shared_streams
    if key is not None:  # one poll per store, whatever the filters
        other = CopyleaksScanCompletedTrigger(store_url="sqlite:////tmp/store.db", min_score=90, poll_interval=9)
        assert other.shared_stream_key() == key
