"""Where the emulator follows Copyleaks' documents: the sandbox hourly limit, the 409 body, the
webhook retry schedule (17 tries, exponential back-off) on a configurable time scale."""

from __future__ import annotations

from typing import Any

from airflow_copyleaks.testing.emulator import EmulatorClient
from tests.emulator.conftest import Api, Receiver

TEXT = (
    "The committee reviewed the harbour restoration plan in detail and agreed to publish the full "
    "budget, the timeline and the list of contractors before the public meeting next month."
)
DEAD = "http://127.0.0.1:9/hook/{STATUS}"  # never processed: scans here are slowed right down


def test_the_101st_sandbox_scan_within_the_hour_gets_429_and_real_scans_go_on(
    api: Api, emu: EmulatorClient
) -> None:
    emu.set_config(scan_duration_seconds=3600)  # nothing gets processed: only the submits count
    assert emu.config()["sandbox_scans_per_hour"] == 100  # the documented limit is the default
    for n in range(100):
        resp = api.submit_text(f"sbx-{n}", TEXT, DEAD, sandbox=True)
        assert resp.status_code == 201, (n, resp.text)
    over = api.submit_text("sbx-100", TEXT, DEAD, sandbox=True)
    assert over.status_code == 429 and over.json() == {"error": "Rate limit exceeded"}
    assert emu.scan("sbx-100") is None
    assert api.submit_text("real-1", TEXT, DEAD, sandbox=False).status_code == 201


def test_a_duplicate_id_answers_the_documented_problem_details_conflict(api: Api, emu: EmulatorClient) -> None:
    emu.set_config(scan_duration_seconds=3600)
    assert api.submit_text("dup-1", TEXT, DEAD).status_code == 201
    again = api.submit_text("dup-1", TEXT, DEAD)
    assert again.status_code == 409
    body = again.json()
    assert body["type"] == "https://tools.ietf.org/html/rfc9110#section-15.5.10"
    assert (body["title"], body["status"]) == ("Conflict", 409) and body["traceId"].startswith("00-")
    emu.set_config(conflict_body_format="envelope")  # the other shape clients must also read
    assert api.submit_text("dup-1", TEXT, DEAD).json()["error"]["id"] == "duplicate_scan_id"


def test_webhooks_follow_copyleaks_retry_schedule_on_a_fast_time_scale(
    api: Api, emu: EmulatorClient, receiver: Receiver
) -> None:
    scale = 1e-5
    emu.set_config(webhook_retry_delays=[], webhook_retry_time_scale=scale, scan_duration_seconds=0.01)
    schedule = emu.config()["webhook_retry_schedule"]
    assert schedule == [min(2**n, 65535) * scale for n in range(1, 17)]  # 2, 4, ... 65,535 s apart
    emu.add_webhook_fault("fail_status", count=100, status=503)  # every attempt answered 503
    assert api.submit_text("retry-1", TEXT, f"{receiver.url}/hook/{{STATUS}}/retry-1").status_code == 201

    def attempts() -> list[dict[str, Any]]:
        return [w for w in emu.webhooks() if "/hook/completed/retry-1" in w["url"]]

    emu.wait_for(lambda: len(attempts()) >= 17, timeout=30)
    emu.wait_for(lambda: emu.stats()["webhook_failures"] >= 1, timeout=10)
    assert [w["attempt"] for w in attempts()] == list(range(1, 18))  # 17 tries, then given up
