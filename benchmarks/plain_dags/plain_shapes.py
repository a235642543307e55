"""The example DAGs' shapes with EmptyOperators only: the baseline for DAG parse cost."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

START = datetime(2026, 11, 12, tzinfo=timezone.utc)

with DAG("plain_sweep", schedule="@daily", start_date=START, catchup=False):
    select, archive, index, check, start, wait, flag, export, report = (
        EmptyOperator(task_id=name)
        for name in ("select", "archive", "index", "check", "start", "wait", "flag", "export", "report")
    )
    archive >> index >> check
    select >> check >> start >> wait >> flag >> export >> report

with DAG("plain_moderation", schedule="@hourly", start_date=START, catchup=False):
    texts, images, moderate, check, hold = (
        EmptyOperator(task_id=name) for name in ("texts", "images", "moderate", "check", "hold")
    )
    texts >> moderate >> hold
    images >> check >> hold
