"""The batch runner: order kept, one failure isolated, pool sized from the request rate."""

from __future__ import annotations

import threading
import time

from airflow_copyleaks.checks.batch import BatchRunner, ItemOutcome, is_retryable, workers_for_rate
from airflow_copyleaks.exceptions import CopyleaksRateLimitError, CopyleaksValidationError
from airflow_copyleaks.operators import _LAZY
from airflow_copyleaks.operators import __all__ as exported


def test_outcomes_keep_order_and_isolate_failures() -> None:
    active, peak = 0, 0
    lock = threading.Lock()

    def work(n: int) -> ItemOutcome:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1
        if n == 3:
            raise CopyleaksValidationError("text", "is empty")
        if n == 5:
            raise CopyleaksRateLimitError(429, "Too many requests")
        return ItemOutcome(key=str(n), summary={"n": n})

    outcomes = BatchRunner(work, key_of=str, max_workers=4).run(list(range(8)))
    assert [o.key for o in outcomes] == [str(n) for n in range(8)]
    assert [o.status for o in outcomes].count("error") == 2
    assert outcomes[3].error == "text: is empty" and not outcomes[3].retryable
    assert outcomes[5].retryable and outcomes[5].error_type == "CopyleaksRateLimitError"
    assert 1 < peak <= 4


def test_cancel_stops_new_items() -> None:
    runner: BatchRunner[int] = BatchRunner(lambda n: ItemOutcome(key=str(n)), key_of=str, max_workers=1)
    runner.cancel()
    assert {o.status for o in runner.run([1, 2])} == {"cancelled"}


def test_pool_size_follows_the_rate() -> None:
    assert workers_for_rate(10, 200) == 20
    assert workers_for_rate(10, 3) == 3
    assert workers_for_rate(0, 200) == 8  # no client-side limit configured
    assert workers_for_rate(100, 1000) == 32
    assert workers_for_rate(10, 200, override=4) == 4
    assert not is_retryable(CopyleaksValidationError("x", "y"))


def test_lazy_exports_match() -> None:
    assert sorted(exported) == sorted(_LAZY)


def test_importing_the_package_stays_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, airflow_copyleaks.operators as o; "
        "assert 'airflow_copyleaks.operators.checks' not in sys.modules; "
        "assert 'airflow' not in sys.modules; print(sorted(o.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "CopyleaksModerateOperator" in out.stdout
