"""Reliability when processes die: a worker killed mid-batch, a triggerer killed mid-wait, the
store's PostgreSQL restarted while scans wait.

Everything is real: the emulator over HTTP on loopback sends real webhooks to the real receiver
(uvicorn in a thread), which writes to a real SQLite file or PostgreSQL database; workers and
triggerers run as separate Python processes (``_submit_worker.py``, ``_trigger_worker.py``) and
are killed with SIGKILL, so no ``finally`` and no ``on_kill`` runs. Each test checks that nothing
is lost, nothing is paid twice, and the run ends in the right state.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.testing.postgres import TemporaryPostgres
from tests.fixtures import WEBHOOK_SECRET, connection_json, context_for, wait_until

ROOT = Path(__file__).resolve().parents[2]
TEXT = (
    "The committee reviewed the harbour restoration plan in detail and agreed to publish the full "
    "budget, the timeline and the list of contractors before the public meeting next month."
)


def document(n: int) -> dict[str, str]:
    return {"key": f"doc-{n:02d}", "text": f"{TEXT} Article {n} of the series covers ward {n * 7 % 13}."}


# ------------------------------------------------------------------------------ helpers


def task_context(op: Any, **ti_fields: Any) -> Any:
    """``tests.fixtures.context_for``, typed loosely: operators annotate a full Airflow Context."""
    return context_for(op, **ti_fields)


@contextmanager
def serve_receiver(store: ScanStore, artifacts: Path) -> Iterator[str]:
    """The webhook receiver on 127.0.0.1 (uvicorn in a thread), writing to ``store``; yields its URL."""
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app

    artifacts.mkdir(exist_ok=True)
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=artifacts.as_uri())
    with serve_in_thread(app) as url:
        yield url


def process_env(conn: str, store_url: str) -> dict[str, str]:
    """What a worker or triggerer process is configured with: the connection and the store."""
    return {
        **os.environ,
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT": conn,
        "AIRFLOW__COPYLEAKS__STORE_URL": store_url,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def start_process(module: str, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args], env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
        )


def sigkill(proc: subprocess.Popen[bytes]) -> int:
    """SIGKILL one process we started (no-op if it already ended); its exit code."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=10)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no output)"


def submit_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["method"] == "PUT" and "/scans/submit/" in c["path"]]


def scan_id_of(call: dict[str, Any]) -> str:
    return str(call["path"].rsplit("/", 1)[1])


def rebuild(serialized: list[Any] | tuple[str, dict[str, Any]]) -> Any:
    """A trigger from ``serialize()``'s output, stored and decoded the way this Airflow's triggerer does."""
    from airflow.models.trigger import Trigger

    classpath, kwargs = serialized
    module, _, name = str(classpath).rpartition(".")
    stored = Trigger.encrypt_kwargs(kwargs)  # what the metadata database holds
    decoded = Trigger._decrypt_kwargs(stored)
    assert isinstance(decoded, dict), decoded
    return getattr(importlib.import_module(module), name)(**decoded)


async def first_event(trigger: Any, timeout: float) -> dict[str, Any]:
    gen = trigger.run()
    try:
        event = await asyncio.wait_for(gen.__anext__(), timeout)
    finally:
        await gen.aclose()
    return dict(event.payload)


# ------------------------------------------------------------------------------ 1. worker killed


def test_worker_killed_mid_submit_then_retried_pays_each_document_once(
    copyleaks_emulator: Any, store_file: str, tmp_path: Path
) -> None:
    """SIGKILL the task process part way through a batch of 20; try 2 (same ids) submits the rest,
    gets 409 for what try 1 sent, and every document is scanned, completed and paid for once."""
    from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator

    emulator = copyleaks_emulator
    emulator.set_config(send_new_results=False, scan_duration_seconds=0.1)
    docs = [document(n) for n in range(20)]
    store = ScanStore(store_file)
    with serve_receiver(store, tmp_path / "artifacts") as receiver_url:
        # 4 requests/s in the worker: the batch takes ~5 s, so the kill lands in the middle of it.
        conn = connection_json(
            emulator.url, emulator.email, emulator.api_key, webhook_base_url=receiver_url, requests_per_second=4
        )
        env = process_env(conn, store_file)
        spec = {"dag_id": "audit", "task_id": "submit", "run_id": "scheduled__2026-01-01", "documents": docs}

        def run_try(try_number: int) -> tuple[subprocess.Popen[bytes], Path, Path]:
            spec_file = tmp_path / f"spec-{try_number}.json"
            spec_file.write_text(json.dumps({**spec, "try_number": try_number}))
            out, log = tmp_path / f"try-{try_number}.json", tmp_path / f"try-{try_number}.log"
            return start_process("tests.reliability._submit_worker", [str(spec_file), str(out)], env, log), out, log

        first, first_out, first_log = run_try(1)
        try:
            wait_until(
                lambda: len(submit_calls(emulator)) >= 4 or first.poll() is not None, 60, "try 1's first submits"
            )
        finally:
            code = sigkill(first)
        assert code == -signal.SIGKILL, f"try 1 ended before it was killed ({code}):\n{tail(first_log)}"
        assert not first_out.exists()
        sent_by_first = submit_calls(emulator)
        time.sleep(0.5)
        assert submit_calls(emulator) == sent_by_first, "a killed process went on submitting"
        first_ids = {scan_id_of(c) for c in sent_by_first}
        assert 0 < len(first_ids) < len(docs), f"the kill did not land mid-batch: {len(first_ids)} submitted"

        second, second_out, second_log = run_try(2)
        try:
            assert second.wait(timeout=90) == 0, tail(second_log)
        finally:
            sigkill(second)
        deferred = json.loads(second_out.read_text())
        assert deferred["status"] == "deferred", deferred
        items = deferred["kwargs"]["items"]
        scan_ids = [items[d["key"]]["scan_id"] for d in docs]
        assert len(set(scan_ids)) == len(docs)
        assert first_ids <= set(scan_ids), "try 2 derived other scan ids than try 1"

        # The triggerer's part, then execute_complete, as Airflow resumes the task.
        trigger = rebuild(deferred["trigger"])
        assert sorted(trigger.scan_ids) == sorted(scan_ids)
        event = asyncio.run(first_event(trigger, timeout=30))
        op = CopyleaksSubmitOperator(task_id="submit", documents=docs)
        result = op.execute_complete(task_context(op, try_number=2), event=event, items=items)

    assert event["status"] == "success" and event["pending"] == [] and event["failed"] == [], event
    assert event["message"] == f"{len(docs)} scan(s) reached completed", event["message"]
    assert result["status"] == "success" and sorted(result["scan_ids"]) == sorted(scan_ids)
    assert result["errors"] == {}
    for key, item in result["items"].items():
        assert item["result"]["status"] == "completed", (key, item)
        if item["scan_id"] in first_ids:  # try 1 sent it: try 2 must not have paid again
            assert item["submission"] in ("already_submitted", "already_reported"), (key, item)
        else:
            assert item["submission"] == "submitted", (key, item)

    # Copyleaks' side: each id accepted (201) exactly once; any second PUT was a free 409.
    calls = submit_calls(emulator)
    accepted = sorted(scan_id_of(c) for c in calls if c["status"] == 201)
    assert accepted == sorted(scan_ids), calls
    assert all(c["status"] == 409 for c in calls if c["status"] != 201), calls
    stats = emulator.stats()
    assert stats["credits_used"] == len(docs), stats
    assert stats["logins"] == 1, f"the token was not shared through the store across tries: {stats}"
    assert len(emulator.scans()) == len(docs)

    # The store's side: every scan completed, its webhook stored once, no stray scans.
    stored = store.get_scans(scan_ids)
    assert sorted(sid for sid, s in stored.items() if s.status == "completed") == sorted(scan_ids)
    assert [store.count_events(sid) for sid in scan_ids] == [1] * len(docs)
    assert store.count_events() == len(docs)


# ------------------------------------------------------------------------------ 2. triggerer killed


def test_triggerer_killed_mid_wait_and_restarted_resumes_from_the_store(
    copyleaks_emulator: Any, store_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL the triggerer process while its trigger waits; the webhooks arrive while it is
    dead; a new process with the same stored trigger yields success at once, paying nothing."""
    from airflow.models.trigger import Trigger
    from airflow.providers.common.compat.sdk import TaskDeferred

    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator

    emulator = copyleaks_emulator
    docs = [document(n) for n in range(3)]
    emulator.set_config(send_new_results=False, scan_duration_seconds=0.1)
    emulator.add_webhook_fault("drop", count=len(docs))  # Copyleaks finishes, its webhooks are lost for now
    store = ScanStore(store_file)
    with serve_receiver(store, tmp_path / "artifacts") as receiver_url:
        conn = connection_json(emulator.url, emulator.email, emulator.api_key, webhook_base_url=receiver_url)
        monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
        TokenCache.clear_memory()
        op = CopyleaksSubmitOperator(
            task_id="submit", documents=docs, wait_for_completion=True, deferrable=True, wait_timeout=120
        )
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(task_context(op))
        classpath, kwargs = deferred.value.trigger.serialize()
        scan_ids = list(kwargs["scan_ids"])
        kwargs.update(poll_interval=0.1, resend_after_seconds=0)  # no resend of its own: we deliver
        assert len(scan_ids) == len(docs)
        wait_until(
            lambda: len([w for w in emulator.webhooks() if w["kind"] == "status" and w["dropped"]]) == len(docs),
            15,
            "Copyleaks to finish the scans (webhooks dropped)",
        )
        assert {s.status for s in store.get_scans(scan_ids).values()} == {"submitted"}

        stored_trigger = tmp_path / "trigger.json"
        stored_trigger.write_text(json.dumps({"classpath": classpath, "kwargs": Trigger.encrypt_kwargs(kwargs)}))
        env = process_env(conn, store_file)

        def triggerer(n: int) -> tuple[subprocess.Popen[bytes], Path, Path]:
            out, log = tmp_path / f"event-{n}.json", tmp_path / f"triggerer-{n}.log"
            args = [str(stored_trigger), str(out)]
            return start_process("tests.reliability._trigger_worker", args, env, log), out, log

        first, first_out, first_log = triggerer(1)
        try:
            wait_until(
                lambda: Path(f"{first_out}.started").exists() or first.poll() is not None, 30, "triggerer 1 to start"
            )
            time.sleep(1.0)  # ten polls: it has read the store and is waiting
            assert first.poll() is None, f"triggerer 1 ended while it should wait:\n{tail(first_log)}"
        finally:
            code = sigkill(first)
        assert code == -signal.SIGKILL and not first_out.exists(), tail(first_log)

        # While no triggerer runs, Copyleaks delivers (asked to resend, as after an outage).
        hook = CopyleaksHook("copyleaks_default", store=store)
        for scan_id in scan_ids:
            hook.resend_webhook(scan_id)
        wait_until(
            lambda: {s.status for s in store.get_scans(scan_ids).values()} == {"completed"},
            15,
            "the webhooks to be stored while the triggerer is down",
        )

        second, second_out, second_log = triggerer(2)
        try:
            assert second.wait(timeout=45) == 0, tail(second_log)
        finally:
            sigkill(second)
        result = json.loads(second_out.read_text())

    event = result["payload"]
    assert event["status"] == "success", event
    assert event["scan_ids"] == scan_ids and event["pending"] == [] and event["failed"] == []
    assert {sid: s["status"] for sid, s in event["scans"].items()} == dict.fromkeys(scan_ids, "completed")
    calls = submit_calls(emulator)
    assert sorted(scan_id_of(c) for c in calls) == sorted(scan_ids) and {c["status"] for c in calls} == {201}
    assert emulator.stats()["credits_used"] == len(docs)
    assert [store.count_events(sid) for sid in scan_ids] == [1] * len(docs)


# ------------------------------------------------------------------------------ 3. PostgreSQL restarted


def postgres_is_up(server: TemporaryPostgres) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=1):
            return True
    except OSError:
        return False


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """``wait_until`` for async tests: the loop (and the triggers on it) runs between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(predicate)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.postgres
async def test_postgres_restarted_while_scans_wait_in_triggers(
    copyleaks_emulator: Any,
    postgres_server: TemporaryPostgres,
    store_file: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three deferred scans wait in triggers on a PostgreSQL store that goes down and comes back.

    During the outage the receiver answers 5xx (never 2xx-and-lose) and the triggers keep waiting
    instead of failing; Copyleaks' retry, a redelivery and a late webhook after the restart are
    each stored once, and every trigger yields success.
    """
    import httpx

    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    emulator = copyleaks_emulator
    docs = [document(n) for n in range(3)]
    # Copyleaks retries a failed delivery 1, 1, 1, 2, 2, 4, 4 s later: longer than the restart.
    emulator.set_config(send_new_results=False, scan_duration_seconds=0.1, webhook_retry_delays=[1, 1, 1, 2, 2, 4, 4])
    emulator.add_webhook_fault("drop", count=len(docs))  # held back until the test delivers them
    pg_url = postgres_server.create_database(f"outage_{os.getpid()}_{time.monotonic_ns()}")
    store = ScanStore(pg_url)
    with serve_receiver(store, tmp_path / "artifacts") as receiver_url:
        conn = connection_json(emulator.url, emulator.email, emulator.api_key, webhook_base_url=receiver_url)
        monkeypatch.setenv("AIRFLOW_CONN_COPYLEAKS_DEFAULT", conn)
        TokenCache.clear_memory()
        op = CopyleaksSubmitOperator(task_id="submit", documents=docs, store_url=pg_url)
        scan_ids = op.execute(task_context(op))["scan_ids"]
        assert len(scan_ids) == len(docs)
        replayed, retried, late = scan_ids

        def held_back() -> dict[str, Any]:
            return {w["scanId"]: w for w in emulator.webhooks() if w["kind"] == "status" and w["dropped"]}

        await until(lambda: len(held_back()) == len(docs), 15, "Copyleaks to finish the scans (webhooks held back)")
        dropped = held_back()
        # Resends during the outage go through a hook whose token and rate limit live elsewhere.
        resend_hook = CopyleaksHook("copyleaks_default", store=ScanStore(store_file))

        # One deferred task per scan, each trigger rebuilt from its serialised form.
        triggers = [
            rebuild(
                CopyleaksScanTrigger(
                    [sid], store_url=pg_url, poll_interval=0.1, resend_after_seconds=0, deadline=time.time() + 90
                ).serialize()
            )
            for sid in scan_ids
        ]
        gens = [t.run() for t in triggers]
        waits = [asyncio.ensure_future(g.__anext__()) for g in gens]
        client = httpx.AsyncClient(trust_env=False, timeout=10)
        try:
            await asyncio.sleep(0.5)
            assert not any(w.done() for w in waits), [w.result().payload for w in waits if w.done()]

            await asyncio.to_thread(postgres_server.stop_server)
            try:
                assert not postgres_is_up(postgres_server)
                # The receiver cannot store: it must not answer 2xx, or Copyleaks would not retry.
                original = dropped[replayed]
                body = json.dumps(original["body"]).encode()
                during = await client.post(original["url"], content=body, headers=original["headers"])
                assert during.status_code == 503, f"receiver answered {during.status_code} with the store down"
                health = await client.get(f"{receiver_url}/health")
                assert health.status_code == 503, health.text
                # Copyleaks delivers while the store is down (a resend): its attempts fail with 5xx.
                await asyncio.to_thread(resend_hook.resend_webhook, retried)
                failed = await until(
                    lambda: [
                        w
                        for w in emulator.webhooks()
                        if w["scanId"] == retried and not w["dropped"] and (w["statusCode"] or 0) >= 500
                    ],
                    10,
                    "Copyleaks' delivery to fail during the outage",
                )
                assert failed
                await asyncio.sleep(1.0)  # ten trigger polls against a dead store
                assert not any(w.done() for w in waits), [w.result().payload for w in waits if w.done()]
            finally:
                await asyncio.to_thread(postgres_server.start_server)

            # Copyleaks' own retry of `retried` lands; `replayed` is redelivered as Copyleaks would,
            # twice (at-least-once); `late` arrives only now.
            again = await client.post(original["url"], content=body, headers=original["headers"])
            assert again.status_code == 200 and again.json() == {"stored": True}, again.text
            duplicate = await client.post(original["url"], content=body, headers=original["headers"])
            assert duplicate.status_code == 200 and duplicate.json() == {"stored": False}, duplicate.text
            await asyncio.to_thread(resend_hook.resend_webhook, late)
            _done, pending = await asyncio.wait(waits, timeout=30)
            assert not pending, "triggers still waiting 30 s after the store came back"
            events = [w.result().payload for w in waits]
        finally:
            for w in waits:
                w.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
            for g in gens:
                await g.aclose()
            await client.aclose()

    for sid, event in zip(scan_ids, events, strict=True):
        assert event["status"] == "success", event
        assert event["scan_ids"] == [sid] and event["scans"][sid]["status"] == "completed", event
    attempts = [w for w in emulator.webhooks() if w["scanId"] == retried and not w["dropped"]]
    assert attempts[-1]["statusCode"] == 200, attempts
    assert any((w["statusCode"] or 0) >= 500 for w in attempts), attempts
    assert [store.count_events(sid) for sid in scan_ids] == [1, 1, 1]
    assert {s.status for s in store.get_scans(scan_ids).values()} == {"completed"}
    assert emulator.stats()["credits_used"] == len(docs)
    assert len(submit_calls(emulator)) == len(docs)


@pytest.mark.postgres
async def test_trigger_started_while_postgres_is_down_waits_for_it(postgres_server: TemporaryPostgres) -> None:
    """A triggerer restart (or a task deferring) during a PostgreSQL restart: the new trigger
    waits for the store to answer instead of failing its task, then sees the webhook."""
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    pg_url = postgres_server.create_database(f"late_{os.getpid()}_{time.monotonic_ns()}")
    ScanStore(pg_url).register_scan("started-in-outage", kind="text", action="scan", sandbox=False)
    await asyncio.to_thread(postgres_server.stop_server)
    try:
        trigger = CopyleaksScanTrigger(
            ["started-in-outage"], store_url=pg_url, poll_interval=0.1, resend_after_seconds=0,
            deadline=time.time() + 60,
        )  # fmt: skip
        wait = asyncio.ensure_future(trigger.run().__anext__())
        await asyncio.sleep(1.5)  # several attempts against a dead store
        assert not wait.done(), wait.exception() or wait.result().payload
    finally:
        await asyncio.to_thread(postgres_server.start_server)
    payload = {"status": 0, "scannedDocument": {"scanId": "started-in-outage", "totalWords": 40, "credits": 1}}
    await asyncio.to_thread(
        ScanStore(pg_url).record_event, "started-in-outage", "completed", payload, raw_body=json.dumps(payload).encode()
    )
    event = (await asyncio.wait_for(wait, 30)).payload
    assert event["status"] == "success" and event["scan_ids"] == ["started-in-outage"], event
