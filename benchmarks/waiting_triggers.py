"""How N waiting CopyleaksScanTriggers in one triggerer process load the store.

    python benchmarks/waiting_triggers.py --scans 1000 --poll 1.0

Starts N triggers (one scan each) on one event loop against a fresh SQLite ScanStore, as one
triggerer would hold them, then measures:

* store queries per poll interval while everyone waits (the process-wide watcher should make
  this ~1, whatever N is; one query per scan per poll would be N);
* the wake-up delay: time from a webhook being recorded in the store (``record_event``, what the
  receiver does) to the trigger yielding its event, for a batch of completions;
* the one-off cost of the triggers' initial bulk reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def completed_payload(scan_id: str) -> dict[str, Any]:
    return {
        "status": 0,
        "scannedDocument": {"scanId": scan_id, "totalWords": 120, "credits": 1},
        "results": {"score": {"aggregatedScore": 12.5}, "internet": []},
    }


async def run(n: int, poll: float, measure_polls: int, complete: int) -> dict[str, Any]:
    from airflow_copyleaks.store import get_store
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    store = get_store(url)
    ids = [f"bench-{i:06d}" for i in range(n)]
    for sid in ids:
        store.register_scan(sid, kind="text", action="scan", sandbox=True, meta={})

    q0 = store.query_count
    triggers = [
        CopyleaksScanTrigger(
            [sid], store_url=url, poll_interval=poll, resend_after_seconds=0, deadline=time.time() + 3600
        )
        for sid in ids
    ]
    done_at: dict[str, float] = {}

    async def wait(trigger: CopyleaksScanTrigger) -> None:
        async for _event in trigger.run():
            done_at[trigger.scan_ids[0]] = time.perf_counter()
            return

    tasks = [asyncio.create_task(wait(t)) for t in triggers]
    # Let every trigger subscribe and do its initial read.
    while store.query_count - q0 < n + 1:
        await asyncio.sleep(0.05)
    await asyncio.sleep(poll)
    startup_queries = store.query_count - q0

    q1 = store.query_count
    t1 = time.perf_counter()
    await asyncio.sleep(poll * measure_polls)
    idle_queries = store.query_count - q1
    polls = (time.perf_counter() - t1) / poll

    # A burst of completions: record them as the receiver would, then time the wake-ups.
    chosen = ids[:complete]
    recorded_at: dict[str, float] = {}
    q2 = store.query_count
    for sid in chosen:
        payload = completed_payload(sid)
        await asyncio.to_thread(store.record_event, sid, "completed", payload, raw_body=json.dumps(payload).encode())
        recorded_at[sid] = time.perf_counter()
    deadline = time.perf_counter() + 30
    while len(done_at) < complete and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    delays = [done_at[sid] - recorded_at[sid] for sid in chosen if sid in done_at]
    burst_queries = store.query_count - q2  # includes the record_event writes
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "waiting_scans": n,
        "poll_interval_s": poll,
        "startup_queries": startup_queries,
        "idle_queries_per_poll": round(idle_queries / polls, 2),
        "naive_queries_per_poll": n,
        "completed_in_burst": complete,
        "woken": len(delays),
        "wake_delay_median_s": round(statistics.median(delays), 3) if delays else None,
        "wake_delay_max_s": round(max(delays), 3) if delays else None,
        "burst_queries_incl_writes": burst_queries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--polls", type=int, default=5, help="idle poll intervals to measure")
    parser.add_argument("--complete", type=int, default=100, help="scans completed in the burst")
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    print(json.dumps(asyncio.run(run(args.scans, args.poll, args.polls, args.complete)), indent=2))


if __name__ == "__main__":
    main()
