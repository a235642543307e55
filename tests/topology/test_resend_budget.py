"""The resend budget belongs to the account, across processes: two triggerers (two resend
services with nothing in common but the store) share one budget of resend requests a minute."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.sensors.scan import CopyleaksScanSensor
from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.triggers.resends import ResendService
from tests.fixtures import context_for, wait_until
from tests.topology.test_resends import resends, submit

BUDGET = 4  # resend requests a minute for the account


@pytest.mark.asyncio
async def test_two_triggerers_share_the_accounts_resend_budget(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    copyleaks_emulator.set_config(scan_duration_minutes=30, time_scale=1)  # running all test long
    scan_ids = submit(store_file, 6)
    silent_since = time.time() - 60  # every scan long overdue for a resend
    # One service per triggerer process; each has its own store object, as another machine would.
    services = [ResendService(ScanStore(store_file), "copyleaks_default", BUDGET) for _ in range(2)]
    for service, mine in zip(services, (scan_ids[:3], scan_ids[3:]), strict=True):
        for scan_id in mine:
            service.watch(scan_id, silent_since, 0.1, lambda: None)
    try:
        await asyncio.to_thread(wait_until, lambda: len(resends(copyleaks_emulator)) >= BUDGET, 20, "resends")
        await asyncio.sleep(1.5)  # time for either service to go past the budget, if it would
        # Six scans are due at once; the account allows four a minute, whichever process asks.
        assert len(resends(copyleaks_emulator)) == BUDGET
        assert sum(s.requests for s in services) == BUDGET
    finally:
        for service in services:
            await service.close()


def test_a_wait_in_the_worker_backs_off_as_the_triggerer_does(
    scan_conn: str, store_file: str, copyleaks_emulator: Any
) -> None:
    """deferrable=False: the same policy as the triggerer's service, not a resend every period.

    Asserted through bounds that a slow machine cannot break, only a wrong policy: the policy
    makes the resend after the k-th wait at least ``after * 2**k`` past it (a late resend only
    widens a gap), and so n resends need at least ``after * (2**n - 1)`` of the wait's measured
    duration. A resend every period of silence breaks both (gaps of ``after``, about
    ``duration / after`` resends)."""
    after = 0.5
    copyleaks_emulator.set_config(scan_duration_minutes=4, time_scale=60)  # 4 s
    docs = [{"key": "doc", "text": "The harbour board met again to review the restoration budget in full detail."}]
    op = CopyleaksSubmitOperator(
        task_id="submit", documents=docs, store_url=store_file, poll_interval=0.05,
        wait_for_completion=True, deferrable=False, resend_after_seconds=after,
    )  # fmt: skip
    began = time.time()
    assert op.execute(context_for(op))["status"] == "success"
    duration = time.time() - began
    calls = resends(copyleaks_emulator)
    assert calls, "no resend during a scan silent for 8 periods: the backoff is not exercised"
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(calls)]
    assert all(gap >= after * 2**k for k, gap in enumerate(gaps, start=1)), gaps
    assert after * (2 ** len(calls) - 1) <= duration, (len(calls), duration)
    assert calls[0]["time"] >= began + after  # the first after one period of silence, not at once


def test_a_poking_sensor_shares_the_accounts_budget(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__RESEND_BUDGET_PER_MINUTE", str(BUDGET))
    copyleaks_emulator.set_config(scan_duration_minutes=30, time_scale=1)
    scan_ids = submit(store_file, 6)
    sensor = CopyleaksScanSensor(
        task_id="wait", scan_ids=scan_ids, store_url=store_file, mode="poke", deferrable=False,
        resend_after_seconds=0.1, poke_interval=0.05,
    )  # fmt: skip
    context = context_for(sensor)
    time.sleep(0.2)
    for _ in range(3):
        assert sensor.poke(context) is False
    # Six silent scans, three looks: the account's four resends a minute, not one per scan per look.
    assert len(resends(copyleaks_emulator)) == BUDGET
