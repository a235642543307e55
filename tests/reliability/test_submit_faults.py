"""A deferrable CopyleaksSubmitOperator batch meeting transient faults, end to end.

The emulator answers over real HTTP with injected faults (503 maintenance, dropped connections,
429 storms) on chosen documents; its status webhooks reach a real receiver (uvicorn on loopback)
that writes a real SQLite ScanStore, which the real trigger reads. Each case checks that every
document was sent until Copyleaks took it, paid for exactly once, that the task deferred with every
scan id, and that every scan is ``completed`` in the store at the end. A last case makes one fault
outlast the hook's retry budget: that item is reported, not paid for, and the task's next try
submits it with the same id while paying nothing twice. Two more cases let the token run out
mid-batch: Copyleaks refusing it (one 401, one more login) and its lifetime ending (renewed before
Copyleaks would refuse it).

Retry waits are kept short with the connection's own knobs (``retry_base_seconds``,
``retry_jitter_seconds``, ``maintenance_wait_seconds``, ``max_retries``); the provider is not patched.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred

from airflow_copyleaks import ids
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger
from tests.fixtures import WEBHOOK_SECRET, FakeTaskInstance, connection_json, context_for, wait_until

DOCS = 24
MAX_RETRIES = 5  # the hook makes 1 + MAX_RETRIES attempts per request
SUBMIT = "/v3/scans/submit/file/"
RESET = 0  # how the emulator's call log records a dropped connection
TEXT = (
    "The harbour trust published the dredging survey together with the tide tables, the cost of "
    "each option and the names of the engineers who will check the quay walls next spring."
)


def documents(count: int = DOCS) -> list[dict[str, str]]:
    return [{"key": f"doc-{n:02d}", "text": f"Report number {n}. {TEXT}"} for n in range(count)]


def scan_id_of(key: str, ti: FakeTaskInstance | None = None) -> str:
    """The id the operator derives for ``key`` (task mode: the same on every try of the task)."""
    ti = ti or FakeTaskInstance(task_id="submit")
    return ids.scan_id_for_task(ti.dag_id, "submit", ti.run_id, ti.map_index, key)


@dataclass
class Plan:
    """Faults for some documents, each list consumed in order, one per submit attempt."""

    faults: dict[int, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, index: int, *faults: tuple[str, int]) -> Plan:
        self.faults.setdefault(index, []).extend(faults)
        return self

    def install(self, emulator: Any) -> None:
        for index, faults in self.faults.items():
            path = SUBMIT + scan_id_of(f"doc-{index:02d}")
            for kind, status in faults:
                emulator.add_fault(path_prefix=path, status=status, count=1, method="PUT", kind=kind)

    def expected_statuses(self, index: int) -> list[int]:
        """What the emulator's log shows for document ``index``: each fault, then the success
        (409 once an earlier attempt was taken and only its answer lost)."""
        faults = self.faults.get(index, [])
        logged = {"reset_connection": RESET, "drop_answer": 201}
        taken = any(kind == "drop_answer" for kind, _ in faults)
        return [logged.get(kind, status) for kind, status in faults] + [409 if taken else 201]

    def expected_submission(self, index: int) -> str:
        return "already_submitted" if 409 in self.expected_statuses(index) else "submitted"


MAINTENANCE = ("status", 503)
DROPPED = ("reset_connection", 0)
ANSWER_LOST = ("drop_answer", 0)  # taken and charged by Copyleaks; the answer never arrives
TOO_MANY = ("status", 429)


@pytest.fixture
def receiver_store(store_file: str, tmp_path: Path) -> Iterator[tuple[str, ScanStore]]:
    """The webhook receiver on 127.0.0.1 writing to the test's SQLite store."""
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app

    store = ScanStore(store_file)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=artifacts.as_uri())
    with serve_in_thread(app) as url:
        yield url, store


def emulator_connection(emulator: Any, webhook_base_url: str, **extra: Any) -> str:
    return connection_json(
        emulator.url,
        emulator.email,
        emulator.api_key,
        webhook_base_url=webhook_base_url,
        max_retries=MAX_RETRIES,
        retry_base_seconds=0.01,
        retry_jitter_seconds=0.01,
        maintenance_wait_seconds=0.05,  # Copyleaks asks for a full minute; the knob makes it short here
        **extra,
    )


@pytest.fixture
def store(
    copyleaks_emulator: Any, receiver_store: tuple[str, ScanStore], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ScanStore]:
    """``copyleaks_default`` on the emulator, webhooks to the receiver, short but real retries."""
    from airflow_copyleaks.hooks.token_cache import TokenCache

    url, scan_store = receiver_store
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", emulator_connection(copyleaks_emulator, url))
    TokenCache.clear_memory()
    # Long enough that the last scans are still running when the batch ends: the task must defer.
    copyleaks_emulator.set_config(scan_duration_seconds=1.0)
    yield scan_store
    TokenCache.clear_memory()


def submit_op(store_file: str, docs: list[dict[str, str]]) -> CopyleaksSubmitOperator:
    return CopyleaksSubmitOperator(
        task_id="submit",
        documents=docs,
        store_url=store_file,
        wait_for_completion=True,
        deferrable=True,
        wait_timeout=120,
        poll_interval=0.05,
    )


async def _first_event(trigger: CopyleaksScanTrigger) -> dict[str, Any]:
    gen = trigger.run()
    try:
        event = await gen.__anext__()
    finally:
        await gen.aclose()
    return dict(event.payload)


def resume(op: CopyleaksSubmitOperator, ctx: dict[str, Any], deferred: TaskDeferred) -> dict[str, Any]:
    """Run the real trigger to its event (bounded), then resume the task as the worker would."""
    trigger = deferred.trigger
    assert isinstance(trigger, CopyleaksScanTrigger)
    event = asyncio.run(asyncio.wait_for(_first_event(trigger), timeout=60))
    return op.execute_complete(ctx, event=event, **deferred.kwargs)


def submit_statuses(emulator: Any) -> dict[str, list[int]]:
    """Per scan id, the statuses of its submit attempts in order (0: connection dropped)."""
    out: dict[str, list[int]] = {}
    for call in emulator.calls():
        if call["method"] == "PUT" and call["path"].startswith(SUBMIT):
            out.setdefault(call["path"][len(SUBMIT) :], []).append(call["status"])
    return out


def assert_paid_once(emulator: Any, scan_ids: list[str]) -> None:
    """Every scan charged exactly once by the emulator, and only these scans."""
    charged = {s["scanId"]: s["creditsCharged"] for s in emulator.scans()}
    assert sorted(charged) == sorted(scan_ids), "the emulator knows other scans than the batch's"
    assert set(charged.values()) == {1}, f"a document was not charged exactly once: {charged}"
    assert emulator.stats()["credits_used"] == len(scan_ids)
    accepted = Counter(sid for sid, statuses in submit_statuses(emulator).items() for s in statuses if s == 201)
    assert accepted == dict.fromkeys(scan_ids, 1)


def plan_maintenance_window() -> Plan:
    # Copyleaks under maintenance for a stretch of the batch: documents 6-13 meet one to three 503s.
    plan = Plan()
    for n in range(6, 14):
        plan.add(n, *[MAINTENANCE] * (1 + n % 3))
    return plan


def plan_connection_resets() -> Plan:
    plan = Plan()
    for n in range(0, DOCS, 3):
        plan.add(n, *[DROPPED] * (1 + n % 2))
    return plan


def plan_429_storm() -> Plan:
    # Nearly every document is refused one to four times in a row (at most MAX_RETRIES - 1).
    plan = Plan()
    for n in range(DOCS):
        if n % 6 != 5:
            plan.add(n, *[TOO_MANY] * (1 + n % 4))
    return plan


def plan_answers_lost() -> Plan:
    # Copyleaks takes the document but the answer is lost: the retry meets 409, "already submitted".
    plan = Plan()
    for n in range(1, DOCS, 4):
        plan.add(n, ANSWER_LOST)
    plan.add(2, TOO_MANY, ANSWER_LOST)
    return plan


def plan_mixed() -> Plan:
    plan = Plan()
    for n in range(4, 10):  # a maintenance window
        plan.add(n, MAINTENANCE, MAINTENANCE)
    for n in range(0, DOCS, 5):  # dropped connections
        plan.add(n, DROPPED)
    for n in range(12, 20):  # a 429 storm
        plan.add(n, TOO_MANY, TOO_MANY)
    plan.add(21, DROPPED, MAINTENANCE, TOO_MANY, DROPPED, TOO_MANY)  # all three, a full budget's worth
    plan.add(23, TOO_MANY, MAINTENANCE, DROPPED)
    plan.add(22, ANSWER_LOST)
    return plan


PLANS = {
    "maintenance_503_window": plan_maintenance_window,
    "connection_resets": plan_connection_resets,
    "429_storm": plan_429_storm,
    "answers_lost_after_processing": plan_answers_lost,
    "all_three_mixed": plan_mixed,
}


@pytest.mark.parametrize("name", list(PLANS))
def test_batch_gets_through_transient_faults_paying_once(
    name: str, store: ScanStore, store_file: str, copyleaks_emulator: Any
) -> None:
    plan = PLANS[name]()
    assert all(len(f) <= MAX_RETRIES for f in plan.faults.values()), "the plan must fit the retry budget"
    plan.install(copyleaks_emulator)
    docs = documents()
    scan_ids = [scan_id_of(d["key"]) for d in docs]

    op = submit_op(store_file, docs)
    ctx = context_for(op)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    trigger = deferred.value.trigger
    assert isinstance(trigger, CopyleaksScanTrigger)
    assert trigger.scan_ids == scan_ids and ctx["ti"].xcoms["scan_ids"] == scan_ids

    # Every retry is in the emulator's log, in the order the faults were planned.
    statuses = submit_statuses(copyleaks_emulator)
    for n, sid in enumerate(scan_ids):
        assert statuses.get(sid) == plan.expected_statuses(n), f"doc-{n:02d} ({sid})"
    faults_met = sum(len(f) for f in plan.faults.values())
    assert sum(len(s) for s in statuses.values()) == DOCS + faults_met

    result = resume(op, ctx, deferred.value)
    assert result["status"] == "success" and result["errors"] == {}
    submissions = {k: e["submission"] for k, e in result["items"].items()}
    assert submissions == {d["key"]: plan.expected_submission(n) for n, d in enumerate(docs)}
    assert {e["result"]["status"] for e in result["items"].values()} == {"completed"}
    # Nothing lost: the webhooks of all scans reached the store.
    stored = store.get_scans(scan_ids)
    assert {sid: s.status for sid, s in stored.items()} == dict.fromkeys(scan_ids, "completed")
    assert_paid_once(copyleaks_emulator, scan_ids)


def test_fault_past_the_retry_budget_reports_the_item_and_the_next_try_pays_nothing_twice(
    store: ScanStore, store_file: str, copyleaks_emulator: Any
) -> None:
    docs = documents()
    scan_ids = [scan_id_of(d["key"]) for d in docs]
    stuck_key, stuck_id = "doc-07", scan_ids[7]
    # Maintenance outlasts the budget for one document; the others meet ordinary faults.
    copyleaks_emulator.add_fault(path_prefix=SUBMIT + stuck_id, status=503, count=1000, method="PUT")
    Plan().add(3, TOO_MANY, DROPPED).add(15, MAINTENANCE).install(copyleaks_emulator)

    op = submit_op(store_file, docs)
    ctx = context_for(op)
    with pytest.raises(AirflowException) as failed:
        op.execute(ctx)
    assert not isinstance(failed.value, TaskDeferred)
    message = str(failed.value)
    assert stuck_key in message, message
    # The ids of what was taken are pushed before the failure (links, downstream cleanup).
    assert ctx["ti"].xcoms["scan_ids"] == [s for s in scan_ids if s != stuck_id]
    assert submit_statuses(copyleaks_emulator)[stuck_id] == [503] * (1 + MAX_RETRIES)

    # The others finish; nothing was charged for the stuck document.
    others = [s for s in scan_ids if s != stuck_id]
    wait_until(
        lambda: (
            all(s.status == "completed" for s in store.get_scans(others).values())
            and len(store.get_scans(others)) == len(others)
        ),
        30,
        "the other scans' webhooks",
    )
    assert copyleaks_emulator.scan(stuck_id) is None
    assert copyleaks_emulator.stats()["credits_used"] == DOCS - 1

    # Maintenance is over; Airflow retries the task (try 2: the same scan ids).
    copyleaks_emulator.clear_faults()
    again = submit_op(store_file, docs)
    ctx2 = context_for(again, try_number=2)
    with pytest.raises(TaskDeferred) as deferred:
        again.execute(ctx2)
    assert deferred.value.trigger.scan_ids == scan_ids
    result = resume(again, ctx2, deferred.value)
    assert result["status"] == "success" and result["errors"] == {}
    submissions = {k: e["submission"] for k, e in result["items"].items()}
    assert submissions.pop(stuck_key) == "submitted"
    assert set(submissions.values()) == {"already_reported"}  # not even a 409: the store knew
    assert {sid: s.status for sid, s in store.get_scans(scan_ids).items()} == dict.fromkeys(scan_ids, "completed")
    assert_paid_once(copyleaks_emulator, scan_ids)
    assert submit_statuses(copyleaks_emulator)[stuck_id] == [503] * (1 + MAX_RETRIES) + [201]


def test_failure_past_the_retry_budget_names_the_scan_id_and_the_status(
    store: ScanStore, store_file: str, copyleaks_emulator: Any
) -> None:
    docs = documents(3)
    stuck_id = scan_id_of("doc-01")
    copyleaks_emulator.add_fault(path_prefix=SUBMIT + stuck_id, status=503, count=1000, method="PUT")
    op = submit_op(store_file, docs)
    with pytest.raises(AirflowException) as failed:
        op.execute(context_for(op))
    message = str(failed.value)
    assert "doc-01" in message and stuck_id in message and "503" in message, message
    assert "doc-00" not in message and "doc-02" not in message, message


def run_batch_to_completion(store_file: str, docs: list[dict[str, str]]) -> dict[str, Any]:
    """Submit, defer, run the real trigger to its event and resume: the task's successful result."""
    op = submit_op(store_file, docs)
    ctx = context_for(op)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    result = resume(op, ctx, deferred.value)
    assert result["status"] == "success" and result["errors"] == {}, result["errors"]
    return result


def test_token_expiring_mid_batch_costs_one_more_login_and_nothing_twice(
    store: ScanStore, store_file: str, copyleaks_emulator: Any
) -> None:
    docs = documents()
    scan_ids = [scan_id_of(d["key"]) for d in docs]
    # Copyleaks stops accepting the token just as document 10 is sent.
    copyleaks_emulator.add_fault(path_prefix=SUBMIT + scan_ids[10], kind="expire_tokens", method="PUT")

    result = run_batch_to_completion(store_file, docs)

    assert {e["submission"] for e in result["items"].values()} == {"submitted"}
    statuses = submit_statuses(copyleaks_emulator)
    assert statuses[scan_ids[10]] == [401, 201]
    assert all(statuses[sid] == [201] for n, sid in enumerate(scan_ids) if n != 10)
    assert copyleaks_emulator.stats()["logins"] == 2  # the 401 dropped the token; one login replaced it
    assert_paid_once(copyleaks_emulator, scan_ids)


def test_token_lifetime_ending_mid_batch_is_renewed_before_copyleaks_refuses_it(
    store: ScanStore,
    store_file: str,
    copyleaks_emulator: Any,
    receiver_store: tuple[str, ScanStore],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Tokens live 2 s and the client keeps to 10 requests/s (bursts of one), so 24 submits (2.3 s
    # at least) outlive the first token; the hook renews in the last quarter of a token's life.
    copyleaks_emulator.set_config(token_lifetime_seconds=2.0)
    docs = documents()
    scan_ids = [scan_id_of(d["key"]) for d in docs]
    conn = emulator_connection(copyleaks_emulator, receiver_store[0], requests_per_second=10)
    monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
    result = run_batch_to_completion(store_file, docs)

    assert {e["submission"] for e in result["items"].values()} == {"submitted"}
    assert not [c for c in copyleaks_emulator.calls() if c["status"] == 401], "a token was used after it expired"
    assert copyleaks_emulator.stats()["logins"] >= 2
    assert_paid_once(copyleaks_emulator, scan_ids)
