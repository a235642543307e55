"""2,000 scans lasting 30 emulated minutes with healthy webhooks: how many resend requests each
costs, and how late its trigger wakes after its webhook, with the triggerer's resend service
against today's per-trigger resend (each trigger resending its own silent scans every period).

Time is scaled: the emulator runs ``--time-scale`` emulated seconds per real second, and every
duration on our side (resend periods, budget) is scaled the same way, so a 30-minute scan takes
30 x 60 / scale real seconds. For each kind: a fresh SQLite store behind the real receiver,
the scans submitted through the hook, then one trigger per scan in one event loop (a triggerer),
run until every trigger yielded.

    python -m benchmarks.long_scans [--scans 2000] [--minutes 30] [--time-scale 90]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._common import (
    WEBHOOK_SECRET,
    connection_json,
    fmt,
    latency_figures,
    prepare_environment,
    print_table,
    write_results,
)

TODAYS_RESEND_AFTER = 900.0  # emulated seconds: the period every trigger resent its silent scans at
OURS_EXPECTED = 3600.0  # emulated seconds: [copyleaks] resend_after_seconds' default
OURS_BUDGET = 60.0  # resend requests per emulated minute: [copyleaks] resend_budget_per_minute
POLL = 0.5  # real seconds between the store watcher's reads


async def todays_wait(store_url: str, store: Any, scan_id: str, resend_after: float) -> AsyncIterator[str]:
    """Today's trigger loop, kept here as the baseline: each trigger resends its own silent scans
    every ``resend_after`` seconds (on the default thread pool) and wakes on that clock."""
    from airflow_copyleaks.triggers.watcher import watcher_for
    from airflow_copyleaks.waits import records

    sub = await watcher_for(store_url, store, POLL).subscribe([scan_id], POLL)
    scans: dict[str, Any] = dict(await asyncio.to_thread(records.get_scans, store, [scan_id]))
    resender = records.Resender(store, "copyleaks_default", resend_after)
    try:
        while (scans.get(scan_id) or {}).get("status") != "completed":
            await resender.resend_silent([scan_id], scans, time.time())
            scans.update(await sub.changes(min(60.0, max(POLL, resend_after / 4))))
        yield "success"
    finally:
        sub.close()


async def ours_wait(store_url: str, scan_id: str, resend_after: float) -> AsyncIterator[str]:
    from airflow_copyleaks.triggers.scan import CopyleaksScanTrigger

    trigger = CopyleaksScanTrigger(
        [scan_id], store_url=store_url, poll_interval=POLL, resend_after_seconds=resend_after
    )
    async for event in trigger.run():
        yield str(event.payload["status"])


def submit_all(hook: Any, store: Any, receiver_url: str, ids: list[str]) -> None:
    from airflow_copyleaks.webhooks.urls import status_webhook

    def one(scan_id: str) -> None:
        store.register_scan(scan_id, kind="text", action="scan", sandbox=False, meta={})
        props = {"sandbox": False, "webhooks": status_webhook(receiver_url, scan_id, WEBHOOK_SECRET)}
        hook.submit_text(scan_id, f"Long scan {scan_id}: the harbour committee met again to review the plan.", props)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, ids))


async def run_waits(kind: str, store_url: str, store: Any, ids: list[str], scale: float) -> dict[str, float]:
    woke: dict[str, float] = {}

    async def wait(scan_id: str) -> None:
        if kind == "ours":
            gen = ours_wait(store_url, scan_id, OURS_EXPECTED / scale)
        else:
            gen = todays_wait(store_url, store, scan_id, TODAYS_RESEND_AFTER / scale)
        async for status in gen:
            if status == "success":
                woke[scan_id] = time.time()
            return

    await asyncio.gather(*(wait(sid) for sid in ids))
    return woke


def measure(kind: str, client: Any, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook
    from airflow_copyleaks.hooks.token_cache import TokenCache
    from airflow_copyleaks.store import ScanStore
    from airflow_copyleaks.testing.serving import serve_in_thread
    from airflow_copyleaks.webhooks.app import create_app

    client.reset()
    client.set_config(scan_duration_minutes=args.minutes, time_scale=args.time_scale, send_new_results=False)
    store_url = f"sqlite:///{home / f'{kind}.db'}"
    store = ScanStore(store_url)
    app = create_app(store=store, secret=WEBHOOK_SECRET, artifacts_url=(home / "artifacts").as_uri())
    ids = [f"long-{kind}-{n:05d}" for n in range(args.scans)]
    with serve_in_thread(app) as receiver_url:
        os.environ["AIRFLOW_CONN_COPYLEAKS_DEFAULT"] = connection_json(
            client.url, client.email, client.api_key, webhook_base_url=receiver_url, requests_per_second=0
        )
        TokenCache.clear_memory()
        started = time.time()
        submit_all(CopyleaksHook(store=store), store, receiver_url, ids)
        submitted = time.time() - started
        resends_before = sum(1 for c in client.calls() if c["path"].endswith("/webhooks/resend"))
        woke = asyncio.run(run_waits(kind, store_url, store, ids, args.time_scale))
        elapsed = time.time() - started
    resends = sum(1 for c in client.calls() if c["path"].endswith("/webhooks/resend")) - resends_before
    records = store.get_scans(ids)
    delays = [woke[sid] - records[sid].updated_at.timestamp() for sid in ids if sid in woke and sid in records]
    store.dispose()
    return {
        "kind": kind,
        "scans": args.scans,
        "completed": sum(1 for r in records.values() if r.status == "completed"),
        "woken": len(woke),
        "resend_requests": resends,
        "resends_per_scan": round(resends / args.scans, 4),
        "wake_up": latency_figures(delays),
        "submit_seconds": round(submitted, 1),
        "elapsed_seconds": round(elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=30.0, help="emulated minutes each scan lasts")
    parser.add_argument("--time-scale", type=float, default=90.0, help="emulated seconds per real second")
    args = parser.parse_args(argv)
    home = prepare_environment()
    # Our budget is per emulated minute, like every other duration here.
    os.environ["AIRFLOW__COPYLEAKS__RESEND_BUDGET_PER_MINUTE"] = str(OURS_BUDGET * args.time_scale)
    from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(requests_per_second=0, initial_credits=10_000_000)) as server:
        email, api_key = next(iter(server.config.accounts.items()))
        client = EmulatorClient(server.url, email=email, api_key=api_key)
        print(f"ours: {args.scans} scans of {args.minutes:g} emulated minutes ...", flush=True)
        ours = measure("ours", client, home, args)
        print(f"today's per-trigger resend: {args.scans} scans ...", flush=True)
        todays = measure("todays", client, home, args)
    table = [
        {"what": "resend requests per scan", "ours": fmt(ours["resends_per_scan"], 4),
         "alternative": fmt(todays["resends_per_scan"], 4), "unit": "requests"},
        {"what": "webhook -> trigger event, p95 (ms)", "ours": fmt(ours["wake_up"]["p95_ms"]),
         "alternative": fmt(todays["wake_up"]["p95_ms"]), "unit": "ms"},
        {"what": "webhook -> trigger event, max (ms)", "ours": fmt(ours["wake_up"]["max_ms"]),
         "alternative": fmt(todays["wake_up"]["max_ms"]), "unit": "ms"},
        {"what": "woken / scans", "ours": f"{ours['woken']}/{ours['scans']}",
         "alternative": f"{todays['woken']}/{todays['scans']}", "unit": ""},
    ]  # fmt: skip
    title = f"{args.scans} scans of {args.minutes:g} emulated minutes (x{args.time_scale:g}), healthy webhooks"
    print_table(title, table, ours="resend service", alternative="per-trigger resend")
    figures = {
        "time_scale": args.time_scale,
        "scan_minutes": args.minutes,
        "resends_per_scan": {"ours": ours["resends_per_scan"], "alternative": todays["resends_per_scan"]},
        "wake_up_p95_ms": {"ours": ours["wake_up"]["p95_ms"], "alternative": todays["wake_up"]["p95_ms"]},
        "runs": [ours, todays],
    }
    path = write_results("long_scans", argv, table, figures)
    print(f"written to {path}")
    complete = ours["woken"] == ours["scans"] and todays["woken"] == todays["scans"]
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
