"""Takedown review: a DAG run for every scan that completes with a high similarity score.

No sensor and no schedule: the DAG is scheduled on an asset whose watcher is the provider's
``CopyleaksScanCompletedTrigger``. Every completion the webhook receiver records at or above the
threshold becomes an asset event, which queues a run, whether a task of this Airflow submitted the
scan or a CMS plugin did (with the receiver's webhook URL and credential). The run lists the scans
to review with their score and developer payload (the CMS's own reference).

The threshold (percent) comes from ``COPYLEAKS_TAKEDOWN_MIN_SCORE`` (default 50); the watcher keeps
its position under the name ``takedown-review`` whatever the threshold, so changing it neither
replays nor skips completions.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_copyleaks.config import env_number
from airflow_copyleaks.triggers.events import CopyleaksScanCompletedTrigger

MIN_SCORE = env_number("COPYLEAKS_TAKEDOWN_MIN_SCORE", "50", minimum=0)

high_similarity = Asset(
    name="copyleaks_high_similarity_completions",
    uri="copyleaks://completions/takedown-review",
    watchers=[
        AssetWatcher(
            name="copyleaks_takedown_review",
            trigger=CopyleaksScanCompletedTrigger(min_score=MIN_SCORE, name="takedown-review"),
        )
    ],
)


def completions_of(triggering_asset_events: Any) -> list[dict[str, Any]]:
    """The completions behind this run: each asset event's payload, as the trigger made it."""
    found = []
    for events in triggering_asset_events.values():
        for event in events:
            payload = (event.extra or {}).get("payload") or {}
            if payload.get("scan_id"):
                found.append(payload)
    return found


@dag(
    dag_id="copyleaks_takedown_review",
    schedule=[high_similarity],
    catchup=False,
    tags=["copyleaks", "event-driven"],
    doc_md=__doc__,
)
def copyleaks_takedown_review() -> None:
    @task
    def list_for_review(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        from airflow.exceptions import AirflowSkipException

        completions = completions_of(triggering_asset_events or {})
        if not completions:
            raise AirflowSkipException("no completion behind this run (started by hand?): nothing to review")
        for c in completions:
            print(
                f"Review for takedown: scan {c['scan_id']} {c['status']} score {c.get('score')}% "
                f"payload {c.get('developer_payload')!r}"
            )
        return [
            {k: c.get(k) for k in ("scan_id", "status", "score", "developer_payload", "event_id")} for c in completions
        ]

    list_for_review()


copyleaks_takedown_review()
