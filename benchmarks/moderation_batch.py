"""Moderate 200 texts through CopyleaksModerateOperator at Copyleaks' real rate limit (10 requests/s).

Starts an emulator enforcing ``requests_per_second=10`` and runs the operator's batch runner with
the real hook twice: with the connection's client-side limit at 10/s (the default) and without
one (``requests_per_second=0``), to show what the shared limiter saves. Prints and writes
``benchmarks/results/moderation_batch.json``: elapsed seconds against the ideal 200/10 = 20 s,
429s (emulator and hook), items ok/failed, logins, credits.

    python -m benchmarks.moderation_batch [--items 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import TaskInstance, connection_json, fmt, prepare_environment, print_table, write_results

RATE = 10.0

SAMPLES = [
    "The council approved the library budget after a long debate about opening hours.",
    "What an idiot, this is a stupid and pathetic plan.",
    "Damn, the trains were late again this morning.",
    "Great reporting on the harbour restoration, thank you for the photos.",
    "Nobody likes you, shut up and stop posting.",
]


def run_scenario(name: str, client: Any, items: int, requests_per_second: float, home: Path) -> dict[str, Any]:
    from airflow_copyleaks.checks.batch import workers_for_rate
    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.operators import CopyleaksModerateOperator

    # A cold start per scenario: fresh store (no cached token), fresh emulator state.
    os.environ["AIRFLOW__COPYLEAKS__STORE_URL"] = f"sqlite:///{home / name}.db"
    client.reset()
    client.set_config(requests_per_second=RATE, initial_credits=100_000, credits=100_000)
    TokenCache.clear_memory()
    os.environ["AIRFLOW_CONN_COPYLEAKS_BENCH"] = connection_json(
        client.url, client.email, client.api_key, requests_per_second=requests_per_second, timeout_seconds=30
    )
    texts = [{"key": f"comment-{i}", "text": f"{SAMPLES[i % len(SAMPLES)]} (comment {i})"} for i in range(items)]
    op = CopyleaksModerateOperator(
        task_id=f"moderate_{name}", texts=texts, copyleaks_conn_id="copyleaks_bench", policy={"fail_on_error": False}
    )
    started = time.monotonic()
    report = op.execute({"ti": TaskInstance(task_id="moderate", run_id=f"bench-{name}-{time.time_ns()}")})  # type: ignore[arg-type,typeddict-item]
    elapsed = time.monotonic() - started
    emulator = client.stats()
    totals = report["totals"]
    return {
        "scenario": name,
        "client_requests_per_second": requests_per_second,
        "threads": workers_for_rate(requests_per_second, items),
        "items": items,
        "elapsed_seconds": round(elapsed, 2),
        "ideal_seconds": round(items / RATE, 2),
        "overhead_vs_ideal": round(elapsed / (items / RATE), 3),
        "items_ok": totals["ok"] + totals["already_checked"],
        "items_failed": totals["errors"],
        "hits": totals["hits"],
        "credits": totals["credits"],
        "emulator_rate_limited_429": emulator["rate_limited"],
        "emulator_calls": emulator["calls"],
        "logins": emulator["logins"],
        "xcom_report_bytes": len(json.dumps(report)),
        "hook_stats": dict(op.hook.stats),
        "failed_examples": [i["error"] for i in report["items"] if i.get("error")][:3],
    }


def table_rows(limited: dict[str, Any], unlimited: dict[str, Any]) -> list[dict[str, Any]]:
    def row(key: str, label: str, digits: int = 1) -> dict[str, Any]:
        return {"what": label, "ours": fmt(limited[key], digits), "alternative": fmt(unlimited[key], digits)}

    return [
        row("items", "texts moderated", 0),
        row("elapsed_seconds", "wall time (s)"),
        row("ideal_seconds", "ideal at 10 requests/s (s)"),
        row("emulator_rate_limited_429", "429s received", 0),
        row("items_failed", "texts failed", 0),
        row("logins", "logins", 0),
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args(argv)
    home = prepare_environment()
    work = Path(tempfile.mkdtemp(prefix="moderation-", dir=home))

    from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(requests_per_second=RATE, initial_credits=100_000)) as server:
        email, api_key = next(iter(server.config.accounts.items()))
        client = EmulatorClient(server.url, email=email, api_key=api_key)
        limited = run_scenario("limited", client, args.items, RATE, work)
        unlimited = run_scenario("no_client_limit", client, args.items, 0, work)
    table = table_rows(limited, unlimited)
    print_table(
        f"Moderating {args.items} texts against a 10 requests/s account",
        table,
        "client limiter 10/s",
        "no client limit",
    )
    path = write_results("moderation_batch", argv, table, {"scenarios": [limited, unlimited]})
    print(f"written to {path}")
    return 1 if limited["items_failed"] or unlimited["items_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
