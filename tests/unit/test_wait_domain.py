"""The wait domain: statuses, what satisfies a wait, outcomes, events and their validation."""

from __future__ import annotations

import json

import pytest

from airflow_copyleaks.waits.domain import (
    FINAL_STATUSES,
    SATISFIES,
    STATUS_RANK,
    InvalidWaitEvent,
    ScanState,
    accepted_statuses,
    build_event,
    check_event,
    check_export_event,
    export_event,
    normalise_statuses,
    scan_outcome,
)
from airflow_copyleaks.waits.domain import summary as summary_of


def test_every_status_has_a_rank_and_ranks_follow_a_scans_life() -> None:
    assert set(STATUS_RANK) == {s.value for s in ScanState}
    life = ["submitted", "creditsChecked", "started", "indexed", "completed", "deleted"]
    assert [STATUS_RANK[s] for s in life] == sorted(STATUS_RANK[s] for s in life)
    assert STATUS_RANK["error"] == STATUS_RANK["completed"]
    assert {"completed", "error", "indexed", "deleted"} == FINAL_STATUSES
    assert set(SATISFIES) <= {s.value for s in ScanState}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("completed", ["completed"]),
        (" COMPLETED ", ["completed"]),
        ("creditschecked", ["creditsChecked"]),
        (["indexed", "completed", "indexed"], ["completed", "indexed"]),
    ],
)
def test_wanted_statuses_are_normalised(given: object, expected: list[str]) -> None:
    assert normalise_statuses(given) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["error", "started", "done", []])
def test_a_status_that_cannot_be_waited_for_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="cannot wait for status|empty"):
        normalise_statuses(bad)  # type: ignore[arg-type]


def test_a_later_status_satisfies_a_price_check() -> None:
    assert accepted_statuses(["creditsChecked"]) == {"creditsChecked", "started", "completed"}
    assert accepted_statuses(["completed", "indexed"]) == {"completed", "indexed"}


@pytest.mark.parametrize(
    ("status", "wanted", "outcome"),
    [
        ("completed", "completed", "done"),
        ("started", "creditsChecked", "done"),
        ("error", "completed", "error"),
        ("submitted", "completed", "pending"),
        ("started", "completed", "pending"),
        ("creditsChecked", "completed", "pending"),
        (None, "completed", "pending"),
        ("indexed", "completed", "unwanted"),
        ("deleted", "completed", "unwanted"),
        ("completed", "indexed", "unwanted"),
        ("deleted", "creditsChecked", "unwanted"),
    ],
)
def test_scan_outcome(status: str | None, wanted: str, outcome: str) -> None:
    record = None if status is None else {"status": status}
    assert scan_outcome(record, accepted_statuses([wanted])) == outcome


def test_an_event_is_plain_json_with_a_summary_per_scan() -> None:
    scans = {"a": {"status": "completed", "summary": {"score": 12.5, "credits": 2}}, "b": None}
    event = build_event(["a", "b"], ["completed"], scans)
    assert json.loads(json.dumps(event)) == event
    assert event["scans"] == {"a": {"status": "completed", "score": 12.5, "credits": 2}, "b": {"status": None}}
    assert event["status"] == "success" and event["pending"] == ["b"] and event["failed"] == []


def test_an_error_scan_makes_an_error_event_naming_it() -> None:
    scans = {"a": {"status": "completed"}, "b": {"status": "error", "summary": {"error": {"code": 13}}}}
    event = build_event(["a", "b"], ["completed"], scans)
    assert event["status"] == "error" and event["failed"] == ["b"]
    assert "1 of 2 scan(s) ended with an error" in event["message"]


def test_a_scan_final_in_another_status_makes_an_error_event_naming_both_statuses() -> None:
    scans = {"a": {"status": "completed"}, "b": {"status": "indexed"}, "c": {"status": "deleted"}}
    event = build_event(["a", "b", "c"], ["completed"], scans)
    assert event["status"] == "error" and event["failed"] == [] and event["unwanted"] == ["b", "c"]
    assert "'b'" in event["message"] and "'indexed'" in event["message"] and "completed" in event["message"]
    assert "1 more" in event["message"]


def test_an_explicit_status_and_message_win() -> None:
    event = build_event(["a"], ["completed"], {}, status="timeout", message="timed out")
    assert event["status"] == "timeout" and event["message"] == "timed out" and event["pending"] == ["a"]


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "done",
        {"status": "weird", "scans": {}, "wanted": ["completed"]},
        {"status": "success", "wanted": ["completed"]},
        {"status": "success", "scans": {}},
        {"status": "success", "scans": {}, "wanted": []},
        {"status": "success", "scans": {}, "wanted": [3]},
    ],
)
def test_a_malformed_event_is_refused(bad: object) -> None:
    with pytest.raises(InvalidWaitEvent, match="Copyleaks trigger"):
        check_event(bad)


def test_an_event_must_cover_the_scans_waited_for() -> None:
    event = build_event(["a"], ["completed"], {"a": {"status": "completed"}})
    assert check_event(event, ["a"]) == event
    with pytest.raises(InvalidWaitEvent, match="lacks scan"):
        check_event(event, ["a", "b"])


def test_export_events() -> None:
    done = export_event("ex", "s", {"status": "completed"})
    assert check_export_event(done) == {
        "status": "success",
        "export_id": "ex",
        "scan_id": "s",
        "export": done["export"],
    }
    late = export_event("ex", "s", None, timed_out=True)
    assert late["status"] == "timeout" and "'ex'" in late["message"]
    for bad in (None, {"status": "error"}):
        with pytest.raises(InvalidWaitEvent):
            check_export_event(bad)


def _stored(status: str, **fields: object) -> object:
    from datetime import datetime, timezone

    from airflow_copyleaks.store.records import ScanStatus

    at = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    values: dict = dict(
        scan_id="af-1", status=status, kind="text", action="scan", sandbox=True, credits=None, score=None,
        total_words=None, error_code=None, error_message=None, event_count=1, meta={"k": "v"},
        created_at=at, updated_at=at, resend_requested_at=None,
    )  # fmt: skip
    values.update(fields)
    return ScanStatus(**values)


def test_a_stored_scan_reads_as_plain_data_for_the_waits() -> None:
    from datetime import datetime, timezone

    from airflow_copyleaks.waits.records import normalise_scan

    later = datetime(2026, 1, 1, 13, 0, tzinfo=timezone.utc)
    done = normalise_scan(_stored("completed", credits=2, score=41.5, resend_requested_at=later))  # type: ignore[arg-type]
    assert json.loads(json.dumps(done)) == done
    assert done["summary"] == {"credits": 2, "score": 41.5} and done["last_activity"] == later.timestamp()
    assert summary_of(done) == {"status": "completed", "credits": 2, "score": 41.5}
    failed = normalise_scan(_stored("error", error_code="13", error_message=None))  # type: ignore[arg-type]
    assert failed["summary"]["error"] == {"code": 13, "message": "no message"}
    named = normalise_scan(_stored("error", error_code="download-failed", error_message="x"))  # type: ignore[arg-type]
    assert named["summary"]["error"] == {"code": "download-failed", "message": "x"}
    assert normalise_scan(_stored("started"))["started"] is True  # type: ignore[arg-type]
