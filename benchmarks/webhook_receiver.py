"""The webhook receiver under load on loopback: requests/s and latency with the SQLite and the
PostgreSQL store, against the receiver and store of an earlier commit (``--against``, by default
e66301e, the receiver before the store split) on the same kinds of store, and an empty FastAPI
endpoint (the upper bound of the same stack).

Each target is uvicorn in its own process; the load comes from another process that keeps C
keep-alive connections busy with a fixed list of deliveries (a minimal HTTP/1.1 client on raw
asyncio streams, so the client costs little of the two cores). 10% of the deliveries repeat an
earlier one byte for byte, as Copyleaks' at-least-once delivery does; afterwards the store must
hold exactly one event per unique delivery (checked, and reported).

The earlier commit's ``airflow_copyleaks`` is extracted with ``git archive`` and served from its
own folder (its own database too). Old and new run interleaved, ``--rounds`` times each in
alternating order, and the table gives each target's median round: on a shared machine only
figures measured side by side in one run compare.

    python -m benchmarks.webhook_receiver [--requests 5000] [--concurrency 16] [--quick]
        [--against e66301e] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

# At module level: FastAPI resolves the handlers' (string) annotations in the module's globals,
# and a Request it cannot resolve becomes a required query parameter (every call a 422).
from fastapi import FastAPI, Request

from benchmarks._common import (
    ROOT,
    WEBHOOK_SECRET,
    completed_payload,
    fmt,
    latency_figures,
    old_tree,
    prepare_environment,
    print_table,
    write_results,
)

DUPLICATE_SHARE = 0.10


# ---------------------------------------------------------------------------------- the servers


def build_app(kind: str, store_url: str, artifacts: str) -> Any:
    if kind != "empty":
        from airflow_copyleaks.store import ScanStore
        from airflow_copyleaks.webhooks.app import create_app

        return create_app(store=ScanStore(store_url), secret=WEBHOOK_SECRET, artifacts_url=artifacts)
    app = FastAPI()

    @app.post("/status/{status}/{scan_id:path}")
    async def status_webhook(status: str, scan_id: str, request: Request) -> dict[str, bool]:
        await request.body()  # read the body like the receiver does; store nothing
        return {"stored": True}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def serve(kind: str, store_url: str, port: int, artifacts: str) -> int:
    import uvicorn

    uvicorn.run(build_app(kind, store_url, artifacts), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, lifespan="off")  # fmt: skip
    return 0


# -------------------------------------------------------------------------------- the deliveries


def deliveries(total: int, seed: int = 7) -> tuple[list[tuple[str, bytes]], int]:
    """``total`` (scan id, body) pairs, 10% of them repeats of an earlier one; and the unique count."""
    from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, webhook_token

    rng = random.Random(seed)
    unique = total - int(total * DUPLICATE_SHARE)
    originals: list[tuple[str, bytes]] = []
    for i in range(unique):
        scan_id = f"load-{i:06d}"
        payload = completed_payload(scan_id)
        payload["results"]["internet"] = [
            {"id": f"r{k}", "title": "A page that matched", "url": f"https://example.test/{i}/{k}",
             "matchedWords": 12 + k, "identicalWords": 10}
            for k in range(3)
        ]  # fmt: skip
        body = json.dumps(payload).encode()
        path = f"/status/completed/{scan_id}"
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{TOKEN_HEADER}: {webhook_token(WEBHOOK_SECRET, 'scan', scan_id)}\r\n\r\n"
        ).encode()
        originals.append((scan_id, head + body))
    out = list(originals)
    for _ in range(total - unique):
        # A repeat lands somewhere after its original: Copyleaks retries later, never earlier.
        j = rng.randrange(unique)
        out.insert(rng.randrange(j + 1, len(out) + 1), originals[j])
    return out, unique


async def load(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stored_true = 0

    async def connection() -> None:
        nonlocal stored_true
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                try:
                    _scan_id, raw = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                status = int(head.split(b" ", 2)[1])
                statuses[status] = statuses.get(status, 0) + 1
                if b'"stored":true' in body:
                    stored_true += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(requests),
        "elapsed_seconds": round(elapsed, 2),
        "requests_per_second": round(len(requests) / elapsed, 1),
        "statuses": statuses,
        "responses_stored_true": stored_true,
        **latency_figures(latencies),
    }


def run_load(port: int, total: int, concurrency: int, out: Path) -> int:
    requests, unique = deliveries(total)
    result = asyncio.run(load(port, requests, concurrency))
    result["unique"] = unique
    out.write_text(json.dumps(result))
    return 0


# ------------------------------------------------------------------------------------ the runs


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 300, path: str = "/health") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not become healthy")


def server_cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def count_events(store_url: str) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(store_url)  # plain SQL: either commit's schema holds this table
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM copyleaks_event")).scalar_one())
    finally:
        engine.dispose()


def run_target(
    target: str, kind: str, store_url: str, total: int, concurrency: int, work: Path, code: Path = ROOT
) -> dict[str, Any]:
    """One load run against a fresh server of ``kind`` whose ``airflow_copyleaks`` comes from ``code``."""
    from airflow_copyleaks.testing.postgres import free_port

    port = free_port()
    # The server's working directory comes first on its sys.path: an old tree's package wins there.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    args = ["--serve", kind, "--store", store_url, "--port", str(port), "--artifacts", (work / "a").as_uri()]
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.webhook_receiver", *args], env=env, cwd=code)
    try:
        wait_healthy(port, server)
        cpu_before = server_cpu_seconds(server.pid)
        out = work / f"load-{target}.json"
        cmd = ["--load", str(port), "--requests", str(total), "--concurrency", str(concurrency), "--out", str(out)]
        subprocess.run([sys.executable, "-m", "benchmarks.webhook_receiver", *cmd], env=env, cwd=ROOT, check=True,
                       timeout=900)  # fmt: skip
        result: dict[str, Any] = json.loads(out.read_text())
        # CPU time moves far less with the machine's load than wall time does.
        result["server_cpu_ms_per_request"] = round((server_cpu_seconds(server.pid) - cpu_before) / total * 1000, 3)
    finally:
        server.terminate()
        server.wait(30)
    result["target"] = target
    if kind != "empty":
        result["events_stored"] = count_events(store_url)
        result["stored_equals_unique"] = result["events_stored"] == result["unique"] == result["responses_stored_true"]
    return result


def postgres_owner_ready() -> None:
    """As root PostgreSQL needs an unprivileged owner (Debian's package creates ``postgres``)."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
                       check=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="deliveries per target (10%% repeats)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--quick", action="store_true", help="1,000 deliveries per target")
    parser.add_argument("--against", default="e66301e", help="also run this git revision's receiver ('': none)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each store target (interleaved)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--artifacts", help=argparse.SUPPRESS)
    parser.add_argument("--load", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        prepare_environment()
        return serve(args.serve, args.store, args.port, args.artifacts)
    if args.load:
        return run_load(args.load, args.requests, args.concurrency, args.out)

    total = 1000 if args.quick else args.requests
    home = prepare_environment()
    work = Path(tempfile.mkdtemp(prefix="receiver-", dir=home))
    from airflow_copyleaks.testing.postgres import TemporaryPostgres

    postgres_owner_ready()
    old = old_tree(args.against, work) if args.against else None
    runs: dict[str, list[dict[str, Any]]] = {}
    with TemporaryPostgres() as pg:
        stores = {"sqlite": lambda name: f"sqlite:///{work / name}.db", "postgres": pg.create_database}
        plan: list[tuple[str, str, Path]] = [("empty", "empty", ROOT)]
        for kind in ("sqlite", "postgres"):
            pair = [(kind, kind, ROOT)] + ([(f"{kind}-old", kind, old)] if old else [])
            for round_ in range(args.rounds):
                plan += pair[::-1] if round_ % 2 else pair  # alternate who goes first
        for n, (target, kind, code) in enumerate(plan):
            url = "" if kind == "empty" else stores[kind](f"receiver_{target.replace('-', '_')}_{n}")
            print(f"{target}: {total} deliveries, {args.concurrency} connections ...", flush=True)
            runs.setdefault(target, []).append(run_target(target, kind, url, total, args.concurrency, work, code))
    results = [r for rs in runs.values() for r in rs]
    by = {target: median_run(rs) for target, rs in runs.items()}
    table = summary_table(by, bool(old), args.against)
    print_table(
        f"Webhook receiver on loopback: {total:,} deliveries ({DUPLICATE_SHARE:.0%} repeats), "
        f"{args.concurrency} connections" + (f", {args.rounds} interleaved rounds, median" if old else ""),
        table,
        "receiver",
        f"receiver at {args.against}" if old else "empty FastAPI endpoint",
    )
    path = write_results("webhook_receiver", argv, table, {"results": results, "median": by})
    print(f"written to {path}")
    ok = all(r.get("stored_equals_unique", True) for r in results)
    if not ok:
        print("MISMATCH: events stored differ from unique deliveries", file=sys.stderr)
    refused = {r["target"]: r["statuses"] for r in results if set(map(str, r["statuses"])) != {"200"}}
    if refused:  # a target that refuses its deliveries measures nothing worth comparing
        print(f"NOT ALL ANSWERED 200: {refused}", file=sys.stderr)
    return 0 if ok and not refused else 1


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the (lower) median requests/s: a whole round, so its figures belong together."""
    ordered = sorted(runs, key=lambda r: r["requests_per_second"])
    return ordered[(len(ordered) - 1) // 2]


def summary_table(by: dict[str, dict[str, Any]], against_old: bool, rev: str | None) -> list[dict[str, Any]]:
    table = []
    for kind in ("sqlite", "postgres"):
        r, alt = by[kind], by[f"{kind}-old" if against_old else "empty"]
        table += [
            {"what": f"{kind} store: requests/s", "ours": fmt(r["requests_per_second"], 0),
             "alternative": fmt(alt["requests_per_second"], 0)},
            {"what": f"{kind} store: latency median (ms)", "ours": fmt(r["median_ms"]),
             "alternative": fmt(alt["median_ms"])},
            {"what": f"{kind} store: latency p99 (ms)", "ours": fmt(r["p99_ms"]), "alternative": fmt(alt["p99_ms"])},
            {"what": f"{kind} store: receiver CPU per delivery (ms)", "ours": fmt(r["server_cpu_ms_per_request"]),
             "alternative": fmt(alt["server_cpu_ms_per_request"])},
            {"what": f"{kind} store: events stored / unique", "ours": f"{r['events_stored']:,} / {r['unique']:,}",
             "alternative": f"{alt['events_stored']:,} / {alt['unique']:,}" if against_old else "-"},
        ]  # fmt: skip
    bound = by["empty"]
    ceiling = f"{fmt(bound['requests_per_second'], 0)}, {fmt(bound['p99_ms'])}"
    table.append(
        {"what": "empty FastAPI endpoint (ceiling): requests/s, p99 (ms)", "ours": ceiling, "alternative": "-"}
    )
    return table


if __name__ == "__main__":
    sys.exit(main())
