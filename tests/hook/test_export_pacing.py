"""Copyleaks allows 10 exports per minute per account: every process keeps it together, through the
store, and a 429 on export waits for the next slot instead of spending the hook's retries.

The emulator counts exports in a 4-second window here instead of a minute (its
``export_window_seconds``), and the connection's ``export_window_seconds`` matches it, so the test
runs the real pacing in seconds: the first ten go at once, each later one when the oldest of the
last ten leaves the window. The bound is checked on the emulator's own arrival times.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
from airflow_copyleaks.store import ScanStore
from tests.fixtures import clean_process_context, connection_json, run_in_clean_processes

WINDOW = 4.0
PER_WINDOW = 10
TEXT = (
    "The harbour trust published the dredging survey together with the tide tables, the cost of "
    "each option and the names of the engineers who will check the quay walls next spring."
)
BODY = {
    "completionWebhook": "http://127.0.0.1:9/done",
    "maxRetries": 1,
    "crawledVersion": {"endpoint": "http://127.0.0.1:9/crawled", "verb": "PUT"},
}


def export_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"].startswith("/v3/downloads/") and "/export/" in c["path"]]


def most_in_one_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


def _exports_in_child(env: dict[str, str], store_url: str, scan_ids: list[str], start: Any, queue: Any) -> None:
    os.environ.update(env)
    hook = CopyleaksHook("copyleaks_default", store=ScanStore(store_url))
    # Every process ready (token read, session open) before the first export, so that the
    # others' start-up on a busy machine cannot hold back a send behind its slot.
    hook.get_credits()
    start.wait(60)
    try:
        for scan_id in scan_ids:
            hook.export(scan_id, f"{scan_id}-x", BODY)
        queue.put(("ok", hook.stats["retries"]))
    except Exception as err:
        queue.put((type(err).__name__, str(err)))


@pytest.fixture
def paced(copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch) -> str:
    copyleaks_emulator.set_config(export_per_minute=PER_WINDOW, export_window_seconds=WINDOW)
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                           export_window_seconds=WINDOW)  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    return conn


def test_25_exports_from_five_processes_keep_the_account_limit(
    paced: str, copyleaks_emulator: Any, store_file: str
) -> None:
    hook = CopyleaksHook(store=ScanStore(store_file))
    scan_ids = [f"exp-{n:02d}" for n in range(25)]
    # Status webhooks answered 404 (by the emulator itself): not retried, so the emulator's
    # workers complete the scans instead of retrying deliveries nobody waits for.
    webhooks = {"status": f"{copyleaks_emulator.url}/nowhere/{{STATUS}}"}
    for scan_id in scan_ids:
        hook.submit_text(scan_id, TEXT, {"webhooks": webhooks})
    for scan_id in scan_ids:
        copyleaks_emulator.wait_for_status(scan_id, ["completed"])
    env = {"AIRFLOW_CONN_COPYLEAKS_DEFAULT": paced}
    start = clean_process_context().Barrier(5)
    outcomes = run_in_clean_processes(_exports_in_child, [(env, store_file, scan_ids[i::5], start) for i in range(5)])
    assert [kind for kind, _ in outcomes] == ["ok"] * 5, outcomes  # no export failed
    calls = export_calls(copyleaks_emulator)
    assert sorted(c["status"] for c in calls) == [c["status"] for c in calls if c["status"] < 300] and len(calls) == 25
    assert most_in_one_window([c["time"] for c in calls], WINDOW) <= PER_WINDOW


def test_a_429_on_export_waits_for_the_next_slot_instead_of_spending_retries(
    paced: str, copyleaks_emulator: Any, store_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = connection_json(copyleaks_emulator.url, copyleaks_emulator.email, copyleaks_emulator.api_key,
                           export_window_seconds=WINDOW, max_retries=0)  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    hook = CopyleaksHook(store=ScanStore(store_file))
    hook.submit_text("exp-busy", TEXT, {"webhooks": {"status": "http://127.0.0.1:9/{STATUS}"}})
    copyleaks_emulator.wait_for_status("exp-busy", ["completed"])
    copyleaks_emulator.add_fault(path_prefix="/v3/downloads/exp-busy/export/", status=429, count=3)
    hook.export("exp-busy", "exp-busy-x", BODY)
    statuses = [c["status"] for c in export_calls(copyleaks_emulator)]
    assert statuses[:3] == [429, 429, 429] and len(statuses) == 4 and statuses[3] < 300
    assert hook.stats["retries"] == 0


def test_window_slots_are_shared_by_every_store_user(store_url: str) -> None:
    """The first ten go at once; the eleventh waits until the first leaves the window."""
    first, second = ScanStore(store_url), ScanStore(store_url)  # two processes' stores
    slots = [(first if n % 2 else second).reserve_window_slot("window:acct", 10, 100.0) for n in range(12)]
    assert max(slots[:10]) - min(slots[:10]) < 50  # no wait for the first ten
    assert slots[10] >= slots[0] + 100.0 and slots[11] >= slots[1] + 100.0
    assert slots == sorted(slots)
