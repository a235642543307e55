"""A plagiarism sweep of 1,000 documents against the emulator with Copyleaks' real limits on
(10 requests/s per account, 12 logins per 15 minutes), submitted and waited for.

Ours, two ways, each document paid once and waited for through receiver + store + trigger:

* ``one task``: one CopyleaksSubmitOperator task submits all documents, defers, and its
  CopyleaksScanTrigger (rebuilt from ``serialize()``, as the triggerer does) waits in the store.
* ``mapped``: dynamic task mapping simulated by W worker processes (default 4 x 250 documents),
  each with its own hook and rate limiter, sharing the store's token; a worker that ends with
  retryable items is run again as Airflow's task retry would (same scan ids: no double charge).

The alternative is what a DAG author writes without us: the official ``copyleaks`` SDK called from
one task per document (a thread pool of the same width W), one login per task, no retry, and a
plain receiver for the webhooks. The login limit is what loses documents there.

    python -m benchmarks.sweep_throughput [--docs 1000] [--workers 4] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from airflow_copyleaks.testing.serving import serve_in_thread
from benchmarks._common import (
    ROOT,
    WEBHOOK_SECRET,
    TaskInstance,
    connection_json,
    fmt,
    prepare_environment,
    print_table,
    write_results,
)

RATE = 10.0
POLL_SECONDS = 1.0
_VOCABULARY = (
    "harbour council budget ferry library bridge archive reporter editor column station river market "
    "school garden festival railway museum tower street museum coast island village season weather "
    "review winter summer evening morning lantern orchard meadow quarry mill canal lighthouse pier"
)
WORDS = _VOCABULARY.split(" ")
EXIT_RETRYABLE = 3
WAIT_LIMIT_SECONDS = 600.0


def document_text(n: int) -> str:
    """A distinct ~60-word article body per document (seeded, so every run scans the same texts)."""
    rng = random.Random(n)
    words = [rng.choice(WORDS) for _ in range(60)]
    return f"Report {n}: " + " ".join(words) + "."


def documents(first: int, count: int) -> list[dict[str, str]]:
    return [{"key": f"doc-{n:05d}", "text": document_text(n)} for n in range(first, first + count)]


# ------------------------------------------------------------------------------------ our worker


def run_worker(index: int, first: int, count: int, mapped: bool, try_number: int, out: Path) -> int:
    """One Airflow task (or one mapped task instance): submit, then defer. Writes what it deferred on."""
    from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred

    from airflow_copyleaks.operators import CopyleaksSubmitOperator

    op = CopyleaksSubmitOperator(
        task_id="submit",
        documents=documents(first, count),
        wait_for_completion=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        fail_on_item_error=False,
    )
    ti = TaskInstance(dag_id="sweep", task_id="submit", map_index=index if mapped else -1, try_number=try_number)
    context = {"ti": ti, "task_instance": ti, "run_id": ti.run_id}
    result: dict[str, Any] = {"index": index, "hook_stats": None}
    code = 0
    try:
        op.execute(context)  # type: ignore[arg-type]
        result["status"] = "finished without deferring"
    except TaskDeferred as deferred:
        result["status"] = "deferred"
        result["trigger"] = list(deferred.trigger.serialize())
    except AirflowException as err:  # some items were refused for now (429s outlived the retries)
        result["status"] = "retryable failure"
        result["error"] = str(err)[:300]
        code = EXIT_RETRYABLE
    result["hook_stats"] = dict(op.hook.stats)
    result["scan_ids"] = ti.xcoms.get("scan_ids", [])
    out.write_text(json.dumps(result))
    return code


async def run_trigger(serialized: list[Any]) -> dict[str, Any]:
    """Rebuild the trigger from its serialisation (what the triggerer does) and wait for its event."""
    import importlib

    classpath, kwargs = serialized
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)
    async for event in trigger.run():
        return dict(event.payload)
    raise RuntimeError("the trigger ended without an event")


async def ours(workers: int, docs: int, env: dict[str, str], home: Path) -> dict[str, Any]:
    """Run ``workers`` task processes over ``docs`` documents; each defers and its trigger waits here."""
    per = docs // workers
    retries = 0
    worker_stats: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    async def task(index: int) -> None:
        nonlocal retries
        for try_number in (1, 2, 3):
            out = home / f"worker-{index}-{try_number}.json"
            args = ["--worker", str(index), "--first", str(index * per), "--count", str(per), "--out", str(out)]
            if workers > 1:
                args.append("--mapped")
            args += ["--try-number", str(try_number)]
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.sweep_throughput", *args, env=env, cwd=str(ROOT)
            )
            code = await proc.wait()
            result = json.loads(out.read_text())
            worker_stats.append(result)
            if code == EXIT_RETRYABLE and try_number < 3:
                retries += 1  # Airflow would retry the task instance: same ids, 409 for the ones already in
                continue
            if result.get("trigger"):
                # Bounded: a sweep that stalls is a finding, not a hang.
                events.append(await asyncio.wait_for(run_trigger(result["trigger"]), timeout=WAIT_LIMIT_SECONDS))
            return

    started = time.monotonic()
    await asyncio.gather(*(task(i) for i in range(workers)))
    return {"elapsed": time.monotonic() - started, "task_retries": retries, "workers": worker_stats, "events": events}


def our_scenario(name: str, client: Any, workers: int, docs: int, home: Path) -> dict[str, Any]:
    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.webhooks.app import create_app

    client.reset()
    store_url = f"sqlite:///{home / f'{name}.db'}"
    store = ScanStore(store_url)
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=(home / f"{name}-artifacts").as_uri())
    # The triggerer reads the same configured store as the workers and the receiver.
    os.environ["AIRFLOW__COPYLEAKS__STORE_URL"] = store_url
    with serve_in_thread(app) as receiver_url:
        env = {
            **os.environ,
            "AIRFLOW__COPYLEAKS__STORE_URL": store_url,
            "AIRFLOW_CONN_COPYLEAKS_DEFAULT": connection_json(
                client.url, client.email, client.api_key, webhook_base_url=receiver_url
            ),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",  # not one log line per submitted document
        }
        run = asyncio.run(ours(workers, docs, env, home))
    scan_ids = sorted({sid for e in run["events"] for sid in e["scan_ids"]})
    completed = [s for s in store.get_scans(scan_ids).values() if s.status == "completed"]
    not_deferred = sum(1 for w in run["workers"] if w["status"] != "deferred")
    figures = emulator_figures(client, run["elapsed"])
    figures.update(
        scenario=name,
        documents=docs,
        workers=workers,
        task_retries=run["task_retries"],
        worker_attempts_not_deferred=not_deferred,
        completed=len(completed),
        lost_or_failed=docs - len(completed),
        trigger_events=dict(Counter(e["status"] for e in run["events"])),
        hook_stats_per_attempt=[w["hook_stats"] for w in run["workers"]],
    )
    store.dispose()
    return figures


# ------------------------------------------------------------------------------- the naive way


def naive_scenario(client: Any, workers: int, docs: int, home: Path) -> dict[str, Any]:
    """The official SDK, one task per document: login, submit, no retry."""
    from copyleaks.copyleaks import Copyleaks
    from copyleaks.exceptions.command_error import CommandError
    from copyleaks.models.submit.document import FileDocument
    from copyleaks.models.submit.properties.scan_properties import ScanProperties

    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.webhooks.app import create_app

    client.reset()
    store = ScanStore(f"sqlite:///{home / 'naive.db'}")
    # The DAG author's own endpoint: no credentials at all (we are kind to it: it never loses a delivery).
    app = create_app(store=store, secret="", allow_unauthenticated=True, artifacts_url=(home / "na").as_uri())
    failures: dict[str, int] = {}
    submitted: list[str] = []
    tally = threading.Lock()  # the pool's threads count into the same dict

    def failed(key: str) -> None:
        with tally:
            failures[key] = failures.get(key, 0) + 1

    with serve_in_thread(app) as receiver_url:
        Copyleaks.set_identity_uri(client.url)
        Copyleaks.set_api_uri(client.url)

        def task(n: int) -> None:
            scan_id = f"naive-{n:05d}"
            try:
                token = Copyleaks.login(client.email, client.api_key)  # every task logs in
                doc = FileDocument(base64.b64encode(document_text(n).encode()).decode(), "doc.txt")
                props = ScanProperties(f"{receiver_url}/status/{{STATUS}}/{scan_id}")
                props.set_sandbox(False)
                doc.set_properties(props)
                Copyleaks.submit_file(token, scan_id, doc)
                with tally:
                    submitted.append(scan_id)
            except CommandError as err:
                failed(f"HTTP {err.get_response().status_code}")
            except Exception as err:
                failed(type(err).__name__)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(task, range(docs)))
        assert len(submitted) + sum(failures.values()) == docs, "a document was neither submitted nor counted"
        # Then wait (generously) for the webhooks of what got in.
        deadline = time.monotonic() + 30
        completed: list[Any] = []
        while time.monotonic() < deadline:
            completed = [s for s in store.get_scans(submitted).values() if s.status == "completed"]
            if len(completed) == len(submitted):
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    figures = emulator_figures(client, elapsed)
    figures.update(
        scenario="naive SDK",
        documents=docs,
        workers=workers,
        submitted=len(submitted),
        completed=len(completed),
        lost_or_failed=docs - len(completed),
        submit_failures=failures,
    )
    store.dispose()
    return figures


# -------------------------------------------------------------------------------- measurements


def emulator_figures(client: Any, elapsed: float) -> dict[str, Any]:
    """What Copyleaks saw: logins, 429s, credits, and the API request rate actually achieved."""
    stats = client.stats()
    calls = client.calls()
    logins = [c for c in calls if c["path"].endswith("/account/login/api")]
    api = [c for c in calls if not c["path"].endswith("/account/login/api")]
    accepted = [c for c in api if c["status"] < 400 or c["status"] == 409]
    span = (max(c["time"] for c in api) - min(c["time"] for c in api)) if len(api) > 1 else 0.0
    # A rate needs a sustained run: a handful of calls in one burst (the emulator lets the first
    # second's worth through at once) would read as many times the bound.
    rate = len(accepted) / span if span >= 1.0 and len(accepted) >= 2 * RATE else None
    return {
        "elapsed_seconds": round(elapsed, 1),
        "api_requests": len(api),
        "api_requests_accepted": len(accepted),
        "api_429": sum(1 for c in api if c["status"] == 429),
        "logins": stats["logins"],
        "login_attempts": len(logins),
        "login_429": sum(1 for c in logins if c["status"] == 429),
        "submit_phase_seconds": round(span, 1),
        "achieved_requests_per_second": None if rate is None else round(rate, 2),
        "fraction_of_rate_bound": None if rate is None else round(rate / RATE, 3),
        "credits_used": stats["credits_used"],
        "submits_accepted": sum(1 for c in api if "/submit/" in c["path"] and c["status"] < 300),
        "submits_409": sum(1 for c in api if "/submit/" in c["path"] and c["status"] == 409),
        "webhooks_sent": stats["webhooks_sent"],
        "webhook_failures": stats["webhook_failures"],
    }


def table_rows(one: dict[str, Any], mapped: dict[str, Any], naive: dict[str, Any]) -> list[dict[str, Any]]:
    def both(key: str, label: str, digits: int = 1) -> dict[str, Any]:
        return {
            "what": label,
            "ours": f"{fmt(one[key], digits)} / {fmt(mapped[key], digits)}",
            "alternative": fmt(naive[key], digits),
        }

    rate = both("fraction_of_rate_bound", "achieved API rate / 10 per s", 2)
    if naive["lost_or_failed"]:
        # Its few accepted calls come in one burst before the login limit shuts it out: no rate to speak of.
        rate["alternative"] = f"- ({naive['api_requests_accepted']} calls accepted)"
    return [
        both("documents", "documents", 0),
        both("elapsed_seconds", "wall time, submit + wait (s)"),
        rate,
        both("api_429", "API 429s received", 0),
        both("logins", "logins", 0),
        both("login_429", "login 429s", 0),
        both("credits_used", "credits used", 0),
        both("completed", "documents completed", 0),
        both("lost_or_failed", "documents lost or failed", 0),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="100 documents: a smoke run")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--mapped", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--try-number", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return run_worker(args.worker, args.first, args.count, args.mapped, args.try_number, args.out)

    docs = 100 if args.quick else args.docs
    home = prepare_environment()
    os.environ["AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS"] = str(POLL_SECONDS)
    from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorConfig, EmulatorServer

    # Copyleaks' real limits: 10 requests/s, 12 logins per 15 minutes (then 5 minutes blocked).
    config = EmulatorConfig(requests_per_second=RATE, initial_credits=10_000_000)
    with EmulatorServer(config) as server:
        email, api_key = next(iter(server.config.accounts.items()))
        client = EmulatorClient(server.url, email=email, api_key=api_key)
        work = Path(tempfile.mkdtemp(prefix="sweep-", dir=home))
        print(f"ours, one task: {docs} documents ...", flush=True)
        one = our_scenario("one task", client, 1, docs, work)
        print(f"ours, mapped: {args.workers} processes x {docs // args.workers} documents ...", flush=True)
        mapped = our_scenario("mapped", client, args.workers, docs, work)
        print(f"naive SDK: {docs} tasks on {args.workers} threads ...", flush=True)
        naive = naive_scenario(client, args.workers, docs, work)
    table = table_rows(one, mapped, naive)
    print_table(
        f"Sweep of {docs} documents at 10 requests/s, 12 logins/15 min "
        f"(ours: one task / {args.workers} mapped processes)",
        table,
        ours="ours (one / mapped)",
        alternative="SDK, task per doc",
    )
    figures = {"rate_bound_per_second": RATE, "poll_interval_seconds": POLL_SECONDS,
               "scenarios": [one, mapped, naive]}  # fmt: skip
    path = write_results("sweep_throughput", argv, table, figures)
    print(f"written to {path}")
    failed = one["lost_or_failed"] or mapped["lost_or_failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
