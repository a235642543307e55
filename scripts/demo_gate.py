"""The pre-publication gate in ``make demo``: the run, and an editor answering its reviews.

``airflow dags test`` runs the gate in this machine's process; its reviews wait in Airflow's
metadata database until someone answers them. Here the "editor" is this script, answering through
the api-server's HITL REST API (``PATCH .../taskInstances/{task_id}/{map_index}/hitlDetails``) as a
CMS would: d02 (a copy of our own article) is rejected, d03 (insults in a quoted outburst) goes
back to its author. d01 is clean and is published without a review.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

DAG_ID = "copyleaks_prepublication_gate"
ANSWERS = {"d02": "Reject", "d03": "Request edits"}
READING_SECONDS = 3


class ApiServer:
    """``airflow api-server`` on the demo's metadata database, with one admin login."""

    def __init__(self, bin_dir: Path, env: dict[str, str], port: int, logs: Path) -> None:
        from airflow_copyleaks.deployment import write_passwords_file

        self.url = f"http://127.0.0.1:{port}"
        self.password = "demo-editor-password"
        passwords = write_passwords_file(Path(env["AIRFLOW_HOME"]) / "passwords.json", {"editor": self.password})
        self.env = {
            **env,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "editor:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": self.url,
        }
        self.log = open(logs / "api-server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [bin_dir / "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.session = requests.Session()

    def login(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                answer = requests.post(
                    f"{self.url}/auth/token", json={"username": "editor", "password": self.password}, timeout=5
                )
                if answer.status_code == 201:
                    self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the api-server at {self.url} did not come up (see api-server.log)")

    def open_reviews(self) -> list[dict[str, Any]]:
        answer = self.session.get(f"{self.url}/api/v2/dags/{DAG_ID}/dagRuns/~/hitlDetails", timeout=30)
        answer.raise_for_status()
        return [d for d in answer.json()["hitl_details"] if not d.get("response_received")]

    def answer(self, detail: dict[str, Any], option: str) -> None:
        ti = detail["task_instance"]
        run, task, index = ti["dag_run_id"], ti["task_id"], ti["map_index"]
        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run}/taskInstances/{task}/{index}/hitlDetails"
        answer = self.session.patch(
            f"{self.url}{path}", json={"chosen_options": [option], "params_input": {}}, timeout=30
        )
        answer.raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def run_gate(bin_dir: Path, env: dict[str, str], api: ApiServer, logs: Path, stats: Any) -> dict[str, Any]:
    """Run the gate, answer its reviews through the REST API; what it cost and how long it took."""
    before, started = stats(), time.monotonic()
    gate_env = {**env, "COPYLEAKS_GATE_EMBARGO_MINUTES": "0", "AIRFLOW__API__BASE_URL": api.url}
    conf = {"review_timeout_minutes": 10}
    with open(logs / f"{DAG_ID}.log", "wb") as log:
        process = subprocess.Popen(
            [bin_dir / "airflow", "dags", "test", DAG_ID, "--conf", json.dumps(conf)],
            env=gate_env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        api.login()
        answered: dict[str, str] = {}
        parked: dict[str, float] = {}
        reviews_at = None
        while process.poll() is None:
            for detail in api.open_reviews():
                draft = detail["subject"].split()[2]
                if draft not in ANSWERS or draft in answered or detail["task_instance"]["state"] != "awaiting_input":
                    continue
                reviews_at = reviews_at or time.monotonic() - started
                # An editor reads for a while; an instant answer can race the parking task's exit.
                if time.monotonic() - parked.setdefault(draft, time.monotonic()) >= READING_SECONDS:
                    api.answer(detail, ANSWERS[draft])
                    answered[draft] = ANSWERS[draft]
            time.sleep(1)
    after = stats()
    return {
        "outcome": "success" if process.returncode == 0 else f"failed (see {logs / DAG_ID}.log)",
        "answered": answered,
        "seconds": time.monotonic() - started,
        "reviews_after": reviews_at,
        "requests": after["calls"] - before["calls"],
        "credits": after["credits_used"] - before["credits_used"],
    }


def print_gate(result: dict[str, Any], artifacts: Path) -> None:
    print(f"\n  Pre-publication gate ({DAG_ID}): {result['outcome']}")
    reports = sorted((artifacts / "reports" / DAG_ID).glob("*/report.json"))
    rows = json.loads(reports[-1].read_text())["rows"] if reports else []
    for row in rows:
        print(f"    {row['key']} {row['verdict']:8} {row['action'] or 'published'}: {row['decision'] or 'no review'}"
              f" · {row['credits']} credit(s)")  # fmt: skip
    drafts = max(len(rows), 1)
    print(
        f"    editor answered through the REST API: {result['answered']}"
        f"\n    wall time {result['seconds']:.0f} s for {len(rows)} draft(s)"
        f" ({result['seconds'] / drafts:.1f} s per draft;"
        f" reviews opened after {result['reviews_after'] or 0:.0f} s) ·"
        f" {result['requests']} requests ({result['requests'] / drafts:.1f} per draft) ·"
        f" {result['credits']} credits ({result['credits'] / drafts:.1f} per draft)"
    )
