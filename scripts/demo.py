"""``make demo``: the example DAGs against the local emulator, no account, no network, no Docker.

Starts the Copyleaks emulator and the standalone webhook receiver, registers the "internet"
images, gives Airflow a throwaway home under ``.demo/`` (SQLite metadata DB and ScanStore, a
random webhook secret, the connection), runs ``airflow dags test`` for both DAGs (deferrable
tasks run their triggers in line), then the pre-publication gate, whose reviews this script
answers through an api-server's REST API (``scripts/demo_gate.py``), and prints what happened and
where the reports are.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorConfig, EmulatorServer  # noqa: E402
from airflow_copyleaks.testing.postgres import free_port  # noqa: E402
from scripts.demo_gate import ApiServer, print_gate, run_gate  # noqa: E402

WORK = ROOT / ".demo"
BIN = Path(sys.executable).parent
LOGICAL_DATE = "2026-11-20T00:00:00+00:00"
DAGS = ["copyleaks_plagiarism_sweep", "copyleaks_content_moderation"]
# The demo looks at more than one day / one hour, so that every planted case shows up
# (dags/data/README.md): the sweep scans these articles against the archive published before
# the first of them, the moderation run checks the twelve days up to its logical date.
CONF = {
    "copyleaks_plagiarism_sweep": {"article_ids": ["a05", "a08", "a10", "a12", "a13", "a15"]},
    "copyleaks_content_moderation": {"lookback_hours": 24 * 12},
}


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> int:
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "airflow-home").mkdir(parents=True)
    emulator = EmulatorServer(EmulatorConfig(scan_duration_seconds=0.5), port=0)
    emulator.start()
    client = EmulatorClient(emulator.url)
    for image in json.loads((ROOT / "dags" / "data" / "internet_images.json").read_text()):
        client.add_image(image["url"], (ROOT / "dags" / "data" / image["file"]).read_bytes(), pages=image["pages"])

    receiver_port = free_port()
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(WORK / "airflow-home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COPYLEAKS__STORE_URL": f"sqlite:///{WORK / 'copyleaks-store.db'}",
        "AIRFLOW__COPYLEAKS__WEBHOOK_SECRET": secrets.token_hex(32),
        "AIRFLOW__COPYLEAKS__ARTIFACTS_URL": (WORK / "artifacts").as_uri(),
        "AIRFLOW__COPYLEAKS__POLL_INTERVAL_SECONDS": "0.5",
        "AIRFLOW_CONN_COPYLEAKS_DEFAULT": (
            f"copyleaks://{quote(client.email, safe='')}:{client.api_key}@/?sandbox=false"
            f"&api_base_url={quote(emulator.url, safe='')}&identity_base_url={quote(emulator.url, safe='')}"
            f"&webhook_base_url={quote(receiver_url, safe='')}"
        ),
    }
    logs = WORK / "logs"
    logs.mkdir()
    receiver_log = open(logs / "receiver.log", "wb")  # noqa: SIM115 - lives as long as the receiver
    receiver = subprocess.Popen(
        [BIN / "airflow-copyleaks", "webhooks", "serve", "--port", str(receiver_port)],
        env=env,
        stdout=receiver_log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"{receiver_url}/health")
        print("Preparing Airflow (metadata database)...", flush=True)
        subprocess.run([BIN / "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
        # Started now, it is up by the time the gate's reviews open.
        api = ApiServer(BIN, env, free_port(), logs)
        outcomes = {}
        for dag_id in DAGS:
            print(f"Running {dag_id} ...", flush=True)
            with open(logs / f"{dag_id}.log", "wb") as log:
                command = [BIN / "airflow", "dags", "test", dag_id, LOGICAL_DATE, "--conf", json.dumps(CONF[dag_id])]
                result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            outcomes[dag_id] = "success" if result.returncode == 0 else f"failed (see {logs / dag_id}.log)"
        print("Running copyleaks_prepublication_gate (answering its reviews through the REST API) ...", flush=True)
        try:
            gate = run_gate(BIN, env, api, logs, client.stats)
        finally:
            api.stop()
        outcomes["copyleaks_prepublication_gate"] = gate["outcome"]
        stats = client.stats()
        print_summary(outcomes, stats, time.monotonic() - started)
        print_gate(gate, WORK / "artifacts")
        return 0 if all(v == "success" for v in outcomes.values()) else 1
    finally:
        receiver.terminate()
        receiver.wait(10)
        receiver_log.close()
        emulator.stop()


def print_summary(outcomes: dict[str, str], stats: dict, seconds: float) -> None:
    from airflow_copyleaks.ui.locations import report_url

    print("\n=== Copyleaks demo ===")
    for dag_id, outcome in outcomes.items():
        print(f"{dag_id:32} {outcome}")
    for path in sorted((WORK / "artifacts" / "reports").rglob("report.json")):
        data = json.loads(path.read_text())
        if data["kind"] == "gate":
            continue  # print_gate shows it
        totals = ", ".join(f"{k} {v}" for k, v in data["totals"].items())
        print(f"\n  {data['title']} ({data['dag_id']}): {totals}")
        held = [row.get("key") or row.get("item") for row in data["rows"] if row.get("action") == "held back"]
        print(f"    held back by this DAG: {', '.join(held) or 'nothing'}")
        print(f"    served at: {report_url(data['dag_id'], data['run_id'])}  (make stack, logged in)")
        print(f"    file:      {path.with_suffix('.html')}")
    print(f"\ncredits used: {stats['credits_used']} · logins: {stats['logins']} · 429s: {stats['rate_limited']}")
    print(f"wall time: {seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
