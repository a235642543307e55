"""``rescan_failed``: a rerun that scans again only the items whose scan ended in a retryable
Copyleaks error, keeping every other item's scan (and so paying nothing more for it)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksScanFailed
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, submit_calls

DOCS = [{"key": f"article-{i}", "text": f"{TEXT} Edition number {i} of the weekly digest."} for i in range(5)]


def submit_op(store_file: str, **kwargs: Any) -> CopyleaksSubmitOperator:
    return CopyleaksSubmitOperator(
        task_id="submit", documents=DOCS, store_url=store_file, poll_interval=0.05,
        wait_for_completion=True, deferrable=False, wait_timeout=60, **kwargs,
    )  # fmt: skip


def paid(emulator: Any) -> tuple[int, float]:
    """Submits Copyleaks accepted (201) and the credits it charged."""
    accepted = [c for c in submit_calls(emulator) if c["status"] == 201]
    return len(accepted), emulator.stats()["credits_used"]


@pytest.mark.parametrize("code", [5, 9, 16])
def test_rescan_failed_pays_only_for_the_items_that_failed(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, code: int
) -> None:
    # The first two scans submitted end in a retryable Copyleaks error (download failed, ...).
    copyleaks_emulator.add_fault("/v3/scans/submit/", kind="scan_error", code=code, count=2)
    first = submit_op(store_file)
    with pytest.raises(CopyleaksScanFailed):
        first.execute(context_for(first))
    submits, credits = paid(copyleaks_emulator)
    assert submits == 5 and credits > 0
    failed_ids = {s["scanId"] for s in copyleaks_emulator.scans() if s["status"] == "error"}
    assert len(failed_ids) == 2

    # A plain rerun (the task cleared) pays nothing and still reports the two failures.
    plain = submit_op(store_file)
    with pytest.raises(CopyleaksScanFailed):
        plain.execute(context_for(plain))
    assert paid(copyleaks_emulator) == (submits, credits)

    # rescan_failed: two new scans, the three finished ones kept; the result has all five.
    redo = submit_op(store_file, rescan_failed=True)
    result = redo.execute(context_for(redo))
    assert result["status"] == "success"
    items = result["items"]
    assert {e["result"]["status"] for e in items.values()} == {"completed"}
    rescanned = {key: e for key, e in items.items() if e.get("replaces")}
    assert {e["replaces"] for e in rescanned.values()} == failed_ids
    assert all(e["scan_id"] not in failed_ids for e in items.values())
    new_submits, new_credits = paid(copyleaks_emulator)
    assert new_submits == submits + 2
    assert new_credits - credits == sum(e["result"]["credits"] for e in rescanned.values())

    # A plain rerun after the rescan reads the rescanned results: nothing paid, nothing failed.
    after = submit_op(store_file)
    again = after.execute(context_for(after))
    assert again["status"] == "success" and again["scan_ids"] == result["scan_ids"]
    assert paid(copyleaks_emulator) == (new_submits, new_credits)

    # force_new_scan still scans every item again.
    forced = submit_op(store_file, force_new_scan=True)
    forced.execute(context_for(forced))
    assert paid(copyleaks_emulator)[0] == new_submits + 5


def test_rescan_failed_leaves_a_scan_whose_error_a_rescan_cannot_fix(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    """Error 14 (the file is invalid) would fail again: it is reported, not paid for again."""
    copyleaks_emulator.add_fault("/v3/scans/submit/", kind="scan_error", code=14, count=1)
    first = submit_op(store_file)
    with pytest.raises(CopyleaksScanFailed):
        first.execute(context_for(first))
    before = paid(copyleaks_emulator)
    redo = submit_op(store_file, rescan_failed=True)
    with pytest.raises(CopyleaksScanFailed, match="14"):
        redo.execute(context_for(redo))
    assert paid(copyleaks_emulator) == before
