"""How webhook deliveries fold into a scan's stored status: ranks, final statuses, figures."""

from __future__ import annotations

import pytest

from airflow_copyleaks.store.status import advances, error_fields, integer, number, status_fields


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("submitted", "creditsChecked", True),
        ("submitted", "completed", True),
        ("creditsChecked", "started", True),
        ("started", "completed", True),
        ("started", "error", True),
        ("creditsChecked", "creditsChecked", True),  # a resend may refresh the figures
        ("started", "creditsChecked", False),  # a late delivery never moves a scan back
        ("completed", "error", False),  # final
        ("error", "completed", False),
        ("indexed", "completed", False),
        ("completed", "completed", False),  # a duplicate of a final status changes nothing
        ("completed", "deleted", True),  # only a deletion follows a final status
        ("submitted", "newResult", False),
    ],
)
def test_a_delivery_moves_a_scan_only_forward(current: str, new: str, moves: bool) -> None:
    assert advances(current, new) is moves


def test_completed_carries_credits_words_and_score() -> None:
    payload = {"scannedDocument": {"credits": 3, "totalWords": 420}, "results": {"score": {"aggregatedScore": 37.5}}}
    assert status_fields("completed", payload) == {
        "status": "completed",
        "credits": 3,
        "total_words": 420,
        "score": 37.5,
    }


def test_credits_checked_takes_credits_from_the_top_or_the_document() -> None:
    assert status_fields("creditsChecked", {"credits": 4})["credits"] == 4
    assert status_fields("creditsChecked", {"scannedDocument": {"credits": 5}})["credits"] == 5


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"error": {"code": 13, "message": "no credits"}}, ("13", "no credits")),
        ({"error": [{"id": "download-failed", "message": "x"}]}, ("download-failed", "x")),
        ({"error": "plain text"}, (None, "plain text")),
        ({}, (None, None)),
    ],
)
def test_error_webhooks_in_every_shape(payload: dict, expected: tuple) -> None:
    assert error_fields(payload) == expected
    assert status_fields("error", payload)["error_code"] == expected[0]


@pytest.mark.parametrize("bad", [None, True, "abc", float("inf"), float("nan"), [1]])
def test_a_malformed_number_is_dropped_not_fatal(bad: object) -> None:
    assert number(bad) is None and integer(bad) is None


def test_an_integer_too_large_for_the_column_is_dropped() -> None:
    assert integer("12") == 12 and integer(10**30) is None
