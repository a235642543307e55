"""The receiver inside an api-server: does a burst of webhooks on a slow store hold up the host?

Airflow's api-server serves the UI and the Execution API (task heartbeats, plain ``def``
endpoints run in its shared thread pool) from the process the receiver is mounted in. Here a
FastAPI host app with a sync ``/heartbeat`` endpoint mounts the receiver at ``/copyleaks``; the
store is a real PostgreSQL whose event inserts take 200 ms each (a trigger calling
``pg_sleep(0.2)``). The load process measures the heartbeat's latency idle, then while 5,000
deliveries arrive at once (``--connections`` of them in flight), both for ``--window`` seconds,
and reports ``p99_ratio``:
heartbeat p99 during the burst / idle p99 (goal <= 2). A heartbeat unanswered after 60 s is
counted as 60 s (the client gives up there), so a starved host shows a p99 of 60,000 ms.

Ours is this tree's receiver (the store opened and used in the receiver's own threads); the
alternative is the receiver of commit ``e66301e`` (the store opened on the event loop, the
deliveries run in the host's shared thread pool), extracted with ``git archive`` and served
from its own folder on its own database. Both run in this one run, one after the other: on a
shared machine only figures measured side by side compare.

    python -m benchmarks.receiver_in_api_server [--deliveries 5000] [--window 20] [--against e66301e]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, fmt, latency_figures, old_tree, prepare_environment, print_table, write_results
from benchmarks.webhook_receiver import deliveries, postgres_owner_ready, wait_healthy

WRITE_DELAY_SECONDS = 0.2
HEARTBEAT_CLIENTS = 4  # task processes heartbeating at once
HEARTBEAT_GAP = 0.05  # seconds between one client's heartbeats

SLOW_INSERTS = f"""
CREATE OR REPLACE FUNCTION copyleaks_bench_slow_write() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep({WRITE_DELAY_SECONDS}); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER copyleaks_bench_slow_write BEFORE INSERT ON copyleaks_event
  FOR EACH ROW EXECUTE FUNCTION copyleaks_bench_slow_write();
"""


# ---------------------------------------------------------------------------------- the server


def build_host() -> Any:
    """The api-server stand-in: a sync endpoint in the shared pool, and the receiver mounted."""
    from fastapi import FastAPI

    from airflow_copyleaks.webhooks.app import create_app

    host = FastAPI()

    @host.get("/heartbeat")
    def heartbeat() -> dict[str, bool]:  # a plain def: Starlette runs it in the shared thread pool
        return {"ok": True}

    # The store comes from [copyleaks] store_url, opened the way each receiver opens it.
    host.mount("/copyleaks", create_app(artifacts_url=(Path(tempfile.gettempdir()) / "bench-a").as_uri()))
    return host


def serve(port: int) -> int:
    import uvicorn

    uvicorn.run(build_host(), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    return 0


def migrate(url: str) -> int:
    from airflow_copyleaks.store import ScanStore

    ScanStore(url).dispose()
    return 0


# ---------------------------------------------------------------------------------- the load


async def _request(port: int, raw: bytes, timeout: float) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.split(b"\r\n")
        length = next((int(x.split(b":", 1)[1]) for x in lines if x.lower().startswith(b"content-length:")), 0)
        await asyncio.wait_for(reader.readexactly(length), timeout)
        return int(head.split(b" ", 2)[1]), time.perf_counter() - started
    finally:
        writer.close()


async def heartbeats(port: int, seconds: float) -> list[float]:
    raw = b"GET /heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < deadline:
            try:
                _status, took = await _request(port, raw, 60)
            except (OSError, asyncio.TimeoutError):
                took = 60.0
            latencies.append(took)
            await asyncio.sleep(HEARTBEAT_GAP)

    await asyncio.gather(*(client() for _ in range(HEARTBEAT_CLIENTS)))
    return latencies


async def burst(port: int, total: int, connections: int, window: float) -> dict[str, Any]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for _scan_id, raw in deliveries(total)[0]:
        queue.put_nowait(raw.replace(b"POST /status/", b"POST /copyleaks/status/", 1))
    statuses: dict[int, int] = {}

    async def sender() -> None:
        while not queue.empty():
            raw = queue.get_nowait()
            try:
                status, _took = await _request(port, raw, 120)
            except (OSError, asyncio.TimeoutError):
                status = 0
            statuses[status] = statuses.get(status, 0) + 1

    senders = [asyncio.create_task(sender()) for _ in range(connections)]
    await asyncio.sleep(1)  # the burst is under way
    busy = await heartbeats_elsewhere(port, window)
    answered = sum(statuses.values())
    for task in senders:
        task.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    return {"busy": busy, "answered_in_window": answered, "statuses": statuses}


async def heartbeats_elsewhere(port: int, seconds: float) -> list[float]:
    """Heartbeats from a process of their own: the burst's client must not delay their clock."""
    me = [sys.executable, "-m", "benchmarks.receiver_in_api_server"]
    proc = await asyncio.create_subprocess_exec(
        *me, "--heartbeats", str(port), "--window", str(seconds), stdout=asyncio.subprocess.PIPE, cwd=ROOT
    )
    out, _ = await proc.communicate()
    latencies: list[float] = json.loads(out)
    return latencies


def run_load(port: int, total: int, connections: int, window: float, out: Path) -> int:
    async def measure() -> dict[str, Any]:
        # As long as the burst's window, so that both p99s come from a like number of samples.
        idle = await heartbeats_elsewhere(port, window)
        result = await burst(port, total, connections, window)
        return {"idle": latency_figures(idle), "idle_samples": len(idle), "burst": latency_figures(result["busy"]),
                "burst_samples": len(result["busy"]), "deliveries_answered_in_window": result["answered_in_window"],
                "statuses": result["statuses"]}  # fmt: skip

    out.write_text(json.dumps(asyncio.run(measure())))
    return 0


# ---------------------------------------------------------------------------------- the runs


def run_target(name: str, code: Path, store_url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    from airflow_copyleaks.testing.postgres import free_port

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "AIRFLOW__COPYLEAKS__STORE_URL": store_url}  # fmt: skip
    me = [sys.executable, "-m", "benchmarks.receiver_in_api_server"]
    subprocess.run([*me, "--migrate", store_url], env=env, cwd=code, check=True, timeout=300)
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.text(SLOW_INSERTS))
    port = free_port()
    server = subprocess.Popen([*me, "--serve", str(port)], env=env, cwd=code)
    try:
        wait_healthy(port, server, path="/heartbeat")
        out = work / f"load-{name}.json"
        load = ["--load", str(port), "--deliveries", str(args.deliveries), "--connections", str(args.connections),
                "--window", str(args.window), "--out", str(out)]  # fmt: skip
        subprocess.run([*me, *load], env=env, cwd=ROOT, check=True, timeout=args.window + 600)
        result: dict[str, Any] = json.loads(out.read_text())
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)
    with engine.connect() as conn:
        result["events_stored"] = int(conn.execute(sa.text("SELECT count(*) FROM copyleaks_event")).scalar_one())
    engine.dispose()
    idle, busy = result["idle"]["p99_ms"], result["burst"]["p99_ms"]
    result["p99_ratio"] = round(busy / idle, 2) if idle and busy is not None else None
    result["target"] = name
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=200, help="deliveries in flight at once")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of heartbeats during the burst")
    parser.add_argument("--against", default="e66301e", help="the earlier receiver's git revision")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--migrate", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--heartbeats", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        prepare_environment()
        return serve(args.serve)
    if args.migrate:
        prepare_environment()
        return migrate(args.migrate)
    if args.heartbeats:
        print(json.dumps(asyncio.run(heartbeats(args.heartbeats, args.window))))
        return 0
    if args.load:
        return run_load(args.load, args.deliveries, args.connections, args.window, args.out)

    home = prepare_environment()
    work = Path(tempfile.mkdtemp(prefix="receiver-in-api-", dir=home))
    from airflow_copyleaks.testing.postgres import TemporaryPostgres

    postgres_owner_ready()
    old = old_tree(args.against, work)
    with TemporaryPostgres() as pg:
        ours = run_target("ours", ROOT, pg.create_database("api_ours"), args, work)
        alternative = run_target("alternative", old, pg.create_database("api_old"), args, work)
    table = [
        {"what": "heartbeat p99 during the burst / idle p99", "ours": fmt(ours["p99_ratio"]),
         "alternative": fmt(alternative["p99_ratio"]), "unit": "ratio"},
        {"what": "heartbeat p99 idle (ms)", "ours": fmt(ours["idle"]["p99_ms"]),
         "alternative": fmt(alternative["idle"]["p99_ms"]), "unit": "ms"},
        {"what": "heartbeat p99 during the burst (ms)", "ours": fmt(ours["burst"]["p99_ms"]),
         "alternative": fmt(alternative["burst"]["p99_ms"]), "unit": "ms"},
        {"what": "heartbeat max during the burst (ms)", "ours": fmt(ours["burst"]["max_ms"]),
         "alternative": fmt(alternative["burst"]["max_ms"]), "unit": "ms"},
        {"what": f"deliveries answered in the {args.window:.0f} s window",
         "ours": ours["deliveries_answered_in_window"],
         "alternative": alternative["deliveries_answered_in_window"], "unit": "deliveries"},
    ]  # fmt: skip
    figures = {
        "p99_ratio": {"ours": ours["p99_ratio"], "alternative": alternative["p99_ratio"]},
        "write_delay_seconds": WRITE_DELAY_SECONDS,
        "against": args.against,
        "note": "ours and the alternative ran one after the other in this run on a shared 2-core machine",
        "runs": [ours, alternative],
    }
    print_table(
        f"Receiver in an api-server: {args.deliveries:,} deliveries, {args.connections} in flight, "
        f"store writes {WRITE_DELAY_SECONDS * 1000:.0f} ms each",
        table,
        "receiver",
        f"receiver at {args.against}",
    )
    path = write_results("receiver_in_api_server", argv, table, figures)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
