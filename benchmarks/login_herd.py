"""20 task processes start while Copyleaks blocks the account's logins: how many logins do they try?

Copyleaks blocks logins for five minutes after too many, and every try during the block extends
it. The emulator is set to allow one login per window; the benchmark spends it and makes one more
try, so the block is in force. Then 20 fresh processes (no token in memory, an empty store) each
ask for the credit balance, twice: with the refusal shared through the store (ours) and with each
process finding out on its own (``[copyleaks] shared_login_block = False``, the cache as it was
before). Prints and writes ``benchmarks/results/login_herd.json``: ``login_attempts`` per
scenario, and how each process ended.

    python -m benchmarks.login_herd [--processes 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks._common import connection_json, fmt, prepare_environment, print_table, write_results

LOGIN = "/v3/account/login/api"


def _child(env: dict[str, str], queue: Any) -> None:
    os.environ.update(env)
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

    try:
        queue.put(("ok", CopyleaksHook("copyleaks_bench").get_credits()))
    except Exception as err:
        queue.put((type(err).__name__, "not logging in again" in str(err)))


def run_scenario(name: str, client: Any, processes: int, shared: bool, home: Path) -> dict[str, Any]:
    import requests

    client.reset()
    client.set_config(login_limit=1, login_block_seconds=300)
    client.login()  # the window's one login
    blocked = requests.post(f"{client.url}{LOGIN}", json={"email": client.email, "key": client.api_key}, timeout=10)
    assert blocked.status_code == 429, blocked.status_code  # the block is in force from here on
    before = len([c for c in client.calls() if c["path"] == LOGIN])
    env = {
        "AIRFLOW_CONN_COPYLEAKS_BENCH": connection_json(client.url, client.email, client.api_key),
        "AIRFLOW__COPYLEAKS__STORE_URL": f"sqlite:///{home / name}.db",
        "AIRFLOW__COPYLEAKS__SHARED_LOGIN_BLOCK": str(shared),
    }
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sqlalchemy", "airflow_copyleaks.store", "airflow_copyleaks.hooks.copyleaks"])
    queue = ctx.Queue()
    started = time.monotonic()
    procs = [ctx.Process(target=_child, args=(env, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    elapsed = time.monotonic() - started
    attempts = len([c for c in client.calls() if c["path"] == LOGIN]) - before
    return {
        "scenario": name,
        "processes": processes,
        "login_attempts": attempts,
        "outcomes": dict(Counter(kind for kind, _ in outcomes)),
        "failed_fast_on_the_shared_record": sum(1 for kind, fast in outcomes if kind != "ok" and fast is True),
        "elapsed_s": round(elapsed, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=20)
    args = parser.parse_args(argv)
    home = prepare_environment()
    from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorConfig, EmulatorServer

    with EmulatorServer(EmulatorConfig(requests_per_second=0)) as server:
        email, api_key = next(iter(server.config.accounts.items()))
        client = EmulatorClient(server.url, email=email, api_key=api_key)
        ours = run_scenario("shared_block", client, args.processes, True, home)
        today = run_scenario("per_process", client, args.processes, False, home)
    table = [
        {"what": f"login attempts, {args.processes} processes, logins blocked", "ours": ours["login_attempts"],
         "alternative": today["login_attempts"], "unit": "logins"},
        {"what": "processes that failed fast on the shared record", "ours": ours["failed_fast_on_the_shared_record"],
         "alternative": today["failed_fast_on_the_shared_record"], "unit": "processes"},
        {"what": "wall time", "ours": fmt(ours["elapsed_s"]), "alternative": fmt(today["elapsed_s"]), "unit": "s"},
    ]  # fmt: skip
    figures = {"ours": ours, "alternative": today, "login_attempts": ours["login_attempts"]}
    print_table("Login herd while Copyleaks blocks logins", table, "shared block", "each process alone")
    path = write_results("login_herd", sys.argv[1:] if argv is None else argv, table, figures)
    print(f"\nwrote {path}")
    return 0 if ours["login_attempts"] <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
