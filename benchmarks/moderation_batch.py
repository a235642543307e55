"""Moderate 200 texts through CopyleaksModerateOperator at Copyleaks' real rate limit (10 requests/s).

Starts an emulator enforcing ``requests_per_second=10`` and runs the operator's batch runner with
the real hook twice: with the connection's client-side limit at 10/s (the default) and without
one (``requests_per_second=0``), to show what the shared limiter saves. Prints and writes
``benchmarks/results/moderation_batch.json``: elapsed seconds against the ideal 200/10 = 20 s,
429s (emulator and hook), items ok/failed, logins, credits.

    .venv/bin/python benchmarks/moderation_batch.py [--items 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "moderation_batch.json"
RATE = 10.0

SAMPLES = [
    "The council approved the library budget after a long debate about opening hours.",
    "What an idiot, this is a stupid and pathetic plan.",
    "Damn, the trains were late again this morning.",
    "Great reporting on the harbour restoration, thank you for the photos.",
    "Nobody likes you, shut up and stop posting.",
]


@dataclass
class _TaskInstance:
    """What the operator reads from ``context["ti"]`` (ids for scan ids; XCom for skip/fail)."""

    dag_id: str = "benchmark"
    task_id: str = "moderate"
    run_id: str = "bench"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def _connection(url: str, email: str, api_key: str, requests_per_second: float) -> str:
    extra = {"api_base_url": url, "identity_base_url": url, "sandbox": False,
             "requests_per_second": requests_per_second, "timeout_seconds": 30}  # fmt: skip
    return json.dumps({"conn_type": "copyleaks", "login": email, "password": api_key, "extra": extra})


def run_scenario(name: str, client: Any, items: int, requests_per_second: float, home: Path) -> dict[str, Any]:
    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.operators import CopyleaksModerateOperator
    from airflow_copyleaks.operators.batch import workers_for_rate

    # A cold start per scenario: fresh store (no cached token), fresh emulator state.
    os.environ["AIRFLOW__COPYLEAKS__STORE_URL"] = f"sqlite:///{home / name}.db"
    client.reset()
    client.set_config(requests_per_second=RATE, initial_credits=100_000, credits=100_000)
    TokenCache.clear_memory()
    os.environ["AIRFLOW_CONN_COPYLEAKS_BENCH"] = _connection(client.url, client.email, client.api_key,
                                                             requests_per_second)  # fmt: skip
    texts = [{"key": f"comment-{i}", "text": f"{SAMPLES[i % len(SAMPLES)]} (comment {i})"} for i in range(items)]
    op = CopyleaksModerateOperator(
        task_id=f"moderate_{name}", texts=texts, copyleaks_conn_id="copyleaks_bench", policy={"fail_on_error": False}
    )
    started = time.monotonic()
    report = op.execute({"ti": _TaskInstance(run_id=f"bench-{name}-{time.time_ns()}")})  # type: ignore[arg-type]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--skip-unlimited", action="store_true", help="only the rate-limited scenario")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="copyleaks-bench-"))
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

    from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorConfig, EmulatorServer

    server = EmulatorServer(EmulatorConfig(requests_per_second=RATE, initial_credits=100_000)).start()
    try:
        email, api_key = next(iter(server.config.accounts.items()))
        client = EmulatorClient(server.url, email=email, api_key=api_key)
        scenarios = [run_scenario("limited", client, args.items, RATE, home)]
        if not args.skip_unlimited:
            scenarios.append(run_scenario("no_client_limit", client, args.items, 0, home))
    finally:
        server.stop()

    result = {
        "benchmark": "moderation_batch",
        "server_requests_per_second": RATE,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "scenarios": scenarios,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for s in scenarios:
        print(
            f"{s['scenario']:>16}: {s['items']} items in {s['elapsed_seconds']:.1f}s "
            f"(ideal {s['ideal_seconds']:.0f}s), "
            f"ok {s['items_ok']}, failed {s['items_failed']}, 429s {s['emulator_rate_limited_429']} "
            f"(hook saw {s['hook_stats']['rate_limited']}, retries {s['hook_stats']['retries']}), logins {s['logins']}"
        )
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
