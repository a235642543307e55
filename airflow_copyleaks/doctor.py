"""``airflow-copyleaks doctor``: check a deployment before it pays for a scan, without a login.

A wrong ``webhook_base_url`` costs a whole scan: Copyleaks is paid, its webhooks meet a 404 and
the task waits until its deadline. One GET of the receiver's ``/health`` route at that URL, before
any scan is sent, tells a right URL from a wrong one, and the store identity it answers with tells
whether the receiver writes to the store this machine reads. The other checks: the connection
(with the cached token only: a login is a scarce resource), the store, the webhook secret's
strength, and the executor against the store (a machine-local store under a distributed executor).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

HEALTH_ROUTE = "/health"


@dataclass(frozen=True)
class Finding:
    ok: bool
    message: str


def check_receiver(webhook_base_url: str | None, *, timeout: float = 10.0, store_id: str | None = None) -> Finding:
    """Whether the webhook receiver answers at ``webhook_base_url`` (the connection's setting), and
    (given ``store_id``) whether it writes to that store."""
    if not webhook_base_url:
        return Finding(False, "webhook_base_url is not set on the connection: Copyleaks would have nowhere to report")
    url = webhook_base_url.rstrip("/") + HEALTH_ROUTE
    try:
        resp = requests.get(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as err:
        return Finding(False, f"webhook_base_url: nothing answers at {url} ({type(err).__name__})")
    if resp.status_code == 404:
        return Finding(
            False,
            f"webhook_base_url: {url} answers 404, so every webhook would too. The receiver's routes are "
            "under the plugin's /copyleaks mount of the api-server (https://HOST/copyleaks) or at the root "
            "of a standalone receiver.",
        )
    if resp.status_code in (200, 503) and _is_receiver_answer(resp):
        state = "its store answers" if resp.status_code == 200 else "but its store does not answer (503)"
        theirs = resp.json().get("store_id") if resp.status_code == 200 else None
        if store_id and theirs and theirs != store_id:
            return Finding(
                False,
                f"webhook_base_url: the receiver at {url} writes to store id {theirs}, but this machine's "
                f"store is {store_id}: its webhooks would never reach these waits. Give every component "
                "the same [copyleaks] store_url.",
            )
        return Finding(resp.status_code == 200, f"webhook_base_url: the receiver answers at {url}; {state}")
    if resp.status_code in (401, 403):
        return Finding(True, f"webhook_base_url: {url} answers {resp.status_code} (health needs a login there)")
    return Finding(False, f"webhook_base_url: {url} answers {resp.status_code}, not the Copyleaks receiver")


def _is_receiver_answer(resp: requests.Response) -> bool:
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and ("status" in body or "detail" in body)


def run(conn_id: str) -> int:
    """Run every check; print what was found. Exit code 0 when all is well."""
    from airflow_copyleaks.doctor_checks import all_findings

    findings = all_findings(conn_id, check_receiver)
    for name, finding in findings:
        print(("ok: " if finding.ok else "problem: ") + (f"{name}: " if name else "") + finding.message)
    return 0 if all(f.ok for _name, f in findings) else 1
