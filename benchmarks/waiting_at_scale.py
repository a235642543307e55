"""1,000 and 5,000 scans waiting in one triggerer-like process: what the wait costs, and how fast
a webhook wakes its trigger.

One asyncio loop runs N ``CopyleaksScanTrigger.run()`` generators (one scan each) against a fresh
SQLite ScanStore, as one triggerer holds N deferred tasks. Side by side, a naive trigger that
reads its own scan once per poll (below, a dozen lines) runs the same waits. For each we measure,
while everyone waits: CPU share of one core, RSS, store queries per second; then webhooks are
recorded in the store from another thread (``record_event``, what the receiver does), spread
evenly over a few poll intervals, and we time each one's delay until its trigger yields. Each
(trigger, size) pair runs in a fresh process: memory freed by one run would otherwise be reused
by the next and hide its growth.

    python -m benchmarks.waiting_at_scale [--sizes 1000 5000] [--poll 1.0] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from benchmarks._common import (
    ROOT,
    completed_payload,
    fmt,
    percentile,
    prepare_environment,
    print_table,
    rss_mib,
    write_results,
)


class NaiveScanTrigger:
    """What a trigger without a shared watcher does: one store query per scan per poll."""

    def __init__(self, scan_id: str, store: Any, poll_interval: float) -> None:
        self.scan_ids = [scan_id]
        self.store = store
        self.poll_interval = poll_interval

    async def run(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            scan = await asyncio.to_thread(self.store.get_scan, self.scan_ids[0])
            if scan is not None and scan.final:
                yield {"status": "success", "scan_ids": self.scan_ids}
                return
            await asyncio.sleep(self.poll_interval)


def register(store: Any, ids: list[str]) -> None:
    for sid in ids:
        store.register_scan(sid, kind="text", action="scan", sandbox=False, meta={})


async def measure(kind: str, n: int, poll: float, idle_seconds: float, completions: int, home: Path) -> dict[str, Any]:
    from airflow_copyleaks.store import get_store
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    url = f"sqlite:///{home / f'{kind}-{n}.db'}"
    store = get_store(url)
    ids = [f"wait-{i:06d}" for i in range(n)]
    await asyncio.to_thread(register, store, ids)
    gc.collect()
    rss_before = rss_mib()

    if kind == "ours":
        deadline = time.time() + 3600
        triggers: list[Any] = [
            CopyleaksScanTrigger([sid], store_url=url, poll_interval=poll, resend_after_seconds=0, deadline=deadline)
            for sid in ids
        ]
    else:
        triggers = [NaiveScanTrigger(sid, store, poll) for sid in ids]
    done_at: dict[str, float] = {}

    async def wait(trigger: Any) -> None:
        async for _event in trigger.run():
            done_at[trigger.scan_ids[0]] = time.perf_counter()
            return

    q0 = store.query_count
    started = time.perf_counter()
    tasks = [asyncio.create_task(wait(t)) for t in triggers]
    # Startup: ours subscribes and reads each trigger's scans once; give both a few polls to settle.
    if kind == "ours":
        settle_by = time.perf_counter() + 300
        while store.query_count - q0 < n:
            if time.perf_counter() > settle_by:
                raise RuntimeError(f"{n} triggers made {store.query_count - q0} startup queries in 300 s")
            await asyncio.sleep(0.05)
    await asyncio.sleep(2 * poll)
    startup_seconds = time.perf_counter() - started
    startup_queries = store.query_count - q0

    # While everyone waits: CPU of the whole process (loop and its worker threads), queries, memory.
    q1, cpu1, wall1 = store.query_count, time.process_time(), time.perf_counter()
    await asyncio.sleep(idle_seconds)
    wall = time.perf_counter() - wall1
    cpu_share = (time.process_time() - cpu1) / wall
    queries_per_second = (store.query_count - q1) / wall
    rss_waiting = rss_mib()

    # Webhooks arrive, spread evenly over four polls, recorded from another thread like the receiver.
    chosen = ids[:: max(1, n // completions)][:completions]
    recorded_at: dict[str, float] = {}

    def deliver() -> None:
        gap = 4 * poll / len(chosen)
        for sid in chosen:
            payload = completed_payload(sid)
            store.record_event(sid, "completed", payload, raw_body=json.dumps(payload).encode())
            recorded_at[sid] = time.perf_counter()
            time.sleep(gap)

    sender = threading.Thread(target=deliver)
    sender.start()
    limit = time.perf_counter() + 4 * poll + 60
    while (len(done_at) < len(chosen) or sender.is_alive()) and time.perf_counter() < limit:
        await asyncio.sleep(0.02)
    sender.join()
    delays = [done_at[sid] - recorded_at[sid] for sid in chosen if sid in done_at and sid in recorded_at]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    store.dispose()
    return {
        "trigger": kind,
        "waiting_scans": n,
        "poll_interval_s": poll,
        "startup_seconds": round(startup_seconds, 2),
        "startup_queries": startup_queries,
        "idle_seconds": round(wall, 1),
        "cpu_share_of_one_core": round(cpu_share, 3),
        "store_queries_per_second": round(queries_per_second, 1),
        "rss_before_mib": rss_before,
        "rss_waiting_mib": rss_waiting,
        "rss_growth_mib": round(rss_waiting - rss_before, 1),
        "webhooks": len(chosen),
        "woken": len(delays),
        "delay_median_s": round(statistics.median(delays), 3) if delays else None,
        "delay_p95_s": round(percentile(delays, 95) or 0, 3) if delays else None,
        "delay_max_s": round(max(delays), 3) if delays else None,
    }


def rows(results: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    by = {(r["trigger"], r["waiting_scans"]): r for r in results}
    table = []
    for n in sizes:
        ours, naive = by[("ours", n)], by[("naive", n)]
        for key, label, digits in (
            ("cpu_share_of_one_core", "CPU share of one core while waiting", 3),
            ("rss_growth_mib", "RSS growth while waiting (MiB)", 1),
            ("store_queries_per_second", "store queries per second", 1),
            ("delay_median_s", "webhook -> trigger event, median (s)", 3),
            ("delay_p95_s", "webhook -> trigger event, p95 (s)", 3),
            ("delay_max_s", "webhook -> trigger event, max (s)", 3),
        ):
            table.append({"what": f"{n:,} scans: {label}", "ours": fmt(ours[key], digits),
                          "alternative": fmt(naive[key], digits)})  # fmt: skip
        table.append({"what": f"{n:,} scans: woken / webhooks", "ours": f"{ours['woken']}/{ours['webhooks']}",
                      "alternative": f"{naive['woken']}/{naive['webhooks']}"})  # fmt: skip
    return table


def measure_in_fresh_process(kind: str, n: int, args: argparse.Namespace, home: Path) -> dict[str, Any]:
    out = home / f"result-{kind}-{n}.json"
    cmd = [sys.executable, "-m", "benchmarks.waiting_at_scale", "--one", kind, str(n), "--out", str(out),
           "--poll", str(args.poll), "--idle", str(args.idle), "--completions", str(args.completions)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, timeout=1200)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--poll", type=float, default=1.0, help="poll interval of both triggers (s)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds measured while everyone waits")
    parser.add_argument("--completions", type=int, default=200, help="webhooks recorded per size")
    parser.add_argument("--quick", action="store_true", help="200 and 1,000 scans, short windows")
    parser.add_argument("--one", nargs=2, metavar=("TRIGGER", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        kind, n = args.one[0], int(args.one[1])
        home = prepare_environment()
        result = asyncio.run(measure(kind, n, args.poll, args.idle, args.completions, home))
        args.out.write_text(json.dumps(result))
        return 0
    if args.quick:
        args.sizes, args.idle, args.completions = [200, 1000], 3.0, 50
    home = prepare_environment()
    results = []
    for n in args.sizes:
        for kind in ("ours", "naive"):
            print(f"{kind}: {n} waiting scans ...", flush=True)
            results.append(measure_in_fresh_process(kind, n, args, home))
    table = rows(results, args.sizes)
    print_table(
        f"Scans waiting in one triggerer process (poll {args.poll:g} s)", table, "ours (shared watcher)", "naive"
    )
    path = write_results("waiting_at_scale", argv, table, {"results": results})
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
