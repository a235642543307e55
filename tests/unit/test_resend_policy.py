"""The resend schedule, pure: doubling gaps, and the count of earlier resends the store carries."""

from __future__ import annotations

from airflow_copyleaks.waits.resend_policy import MAX_INTERVAL_SECONDS, ResendPolicy, backoff


def test_gaps_between_resends_double_up_to_a_cap() -> None:
    assert [backoff(10, n) for n in range(4)] == [10, 20, 40, 80]
    assert backoff(10, 40) == MAX_INTERVAL_SECONDS


def test_a_new_scan_is_due_after_its_expected_duration() -> None:
    policy = ResendPolicy()
    policy.watch("s", last_activity=1000.0, after=10)
    assert policy.due(1009.9) == [] and policy.due(1010.0) == ["s"]


def test_a_wait_that_starts_over_backs_off_from_the_resends_the_store_counts() -> None:
    """A rescheduled sensor's next poke, or a restarted triggerer, has nothing in memory: the store
    says three resends were asked, the last at 1000, so the next is due 80 s later, not 10."""
    policy = ResendPolicy()
    policy.watch("s", last_activity=1000.0, after=10, attempts=3)
    assert policy.due(1079.0) == [] and policy.due(1080.0) == ["s"]
    policy.resent("s", 1080.0)
    assert policy.due(1080.0 + 159) == [] and policy.due(1080.0 + 160) == ["s"]


def test_a_wait_that_resent_itself_keeps_its_own_schedule() -> None:
    policy = ResendPolicy()
    policy.watch("s", last_activity=1000.0, after=10)
    policy.resent("s", 1010.0)  # next due at 1030
    # The store now says one resend, at 1010: watching again agrees rather than moving it.
    policy.watch("s", last_activity=1010.0, after=10, attempts=1)
    assert policy.due(1029.0) == [] and policy.due(1030.0) == ["s"]


def test_watching_again_with_a_higher_count_backs_off_further() -> None:
    policy = ResendPolicy()
    policy.watch("s", last_activity=1000.0, after=10)
    # Another process resent twice, the last at 1050: the next is due 40 s after that.
    policy.watch("s", last_activity=1050.0, after=10, attempts=2)
    assert policy.due(1089.0) == [] and policy.due(1090.0) == ["s"]


def test_a_failed_delivery_makes_a_scan_due_and_the_same_activity_read_again_keeps_it() -> None:
    policy = ResendPolicy()
    policy.watch("s", last_activity=1000.0, after=3600)
    policy.delivery_failed({"s": 1100.0})
    assert policy.due(1100.0) == ["s"]
    policy.watch("s", last_activity=1000.0, after=3600)  # the next look at the store: no news
    assert policy.due(1100.0) == ["s"]


def test_a_count_that_never_resets_stays_at_the_cap() -> None:
    assert backoff(10, 10_000) == MAX_INTERVAL_SECONDS
