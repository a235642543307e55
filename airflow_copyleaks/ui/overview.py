"""What the Copyleaks page shows, gathered from the store and the reports' JSON.

Only the DAGs the user may read are looked at. Everything is read, nothing written.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from airflow_copyleaks import config
from airflow_copyleaks.store import ScanStore, StoredEvent
from airflow_copyleaks.store.activity import last_event, paid_checks_since, scans_since
from airflow_copyleaks.store.scan_store import FINAL_STATUSES, utcnow
from airflow_copyleaks.ui import locations

log = logging.getLogger(__name__)

DAYS = 14  # the credits table's window
MAX_AUDITS = 20
CHARGED_STATUSES = {"completed", "indexed"}


@dataclass(frozen=True)
class Audit:
    dag_id: str
    run_id: str
    title: str
    written_at: datetime | None
    scanned: int | None
    flagged: int | None
    held: int | None
    url: str


@dataclass
class Overview:
    audits: list[Audit] = field(default_factory=list)
    credits_by_day: dict[str, float] = field(default_factory=dict)
    credits_by_dag: dict[str, float] = field(default_factory=dict)
    waiting_by_dag: dict[str, int] = field(default_factory=dict)
    oldest_waiting: datetime | None = None
    last_webhook: StoredEvent | None = None
    now: datetime = field(default_factory=utcnow)
    problems: list[str] = field(default_factory=list)


def collect(store: ScanStore, dag_ids: set[str], artifacts_url: str | None = None) -> Overview:
    data = Overview()
    try:
        _scan_figures(data, store, dag_ids)
        data.last_webhook = last_event(store)
    except Exception as err:  # the page still shows the reports when the store is down
        log.warning("Copyleaks page: the store does not answer: %s", err)
        data.problems.append("The ScanStore does not answer: credits, waiting scans and webhooks are unknown.")
    try:
        data.audits = recent_audits(dag_ids, artifacts_url)
    except Exception as err:
        log.warning("Copyleaks page: the reports cannot be listed: %s", err)
        data.problems.append("The reports in [copyleaks] artifacts_url cannot be listed.")
    return data


def _scan_figures(data: Overview, store: ScanStore, dag_ids: set[str]) -> None:
    """Credits of completed scans and of paid synchronous checks, and the scans still waiting."""
    by_day: defaultdict[str, float] = defaultdict(float)
    by_dag: defaultdict[str, float] = defaultdict(float)
    waiting: Counter[str] = Counter()
    since = data.now - timedelta(days=DAYS)
    for check in paid_checks_since(store, since):
        if check.dag_id in dag_ids:
            by_day[check.created_at.date().isoformat()] += check.credits
            by_dag[check.dag_id] += check.credits
    for scan in scans_since(store, since):
        dag_id = scan.meta.get("dag_id")
        if dag_id not in dag_ids:
            continue
        if scan.status in CHARGED_STATUSES and scan.credits and not scan.sandbox:
            by_day[scan.updated_at.date().isoformat()] += scan.credits
            by_dag[dag_id] += scan.credits
        if scan.status not in FINAL_STATUSES:
            waiting[dag_id] += 1
            if data.oldest_waiting is None or scan.created_at < data.oldest_waiting:
                data.oldest_waiting = scan.created_at
    data.credits_by_day = dict(sorted(by_day.items(), reverse=True))
    data.credits_by_dag = dict(sorted(by_dag.items(), key=lambda item: item[1], reverse=True))
    data.waiting_by_dag = dict(waiting.most_common())


def recent_audits(dag_ids: set[str], artifacts_url: str | None = None) -> list[Audit]:
    """The newest reports of the readable DAGs, from each run's ``report.json``."""
    from airflow.sdk import ObjectStoragePath

    root = ObjectStoragePath(f"{(artifacts_url or config.artifacts_url()).rstrip('/')}/{locations.REPORTS_FOLDER}")
    if not root.exists():
        return []
    found: dict[str, list[Any]] = defaultdict(list)
    for dag_folder in root.iterdir():
        if dag_folder.name in dag_ids and dag_folder.is_dir():
            found[dag_folder.name].extend(p / "report.json" for p in dag_folder.iterdir() if p.is_dir())
    audits = [_audit(dag_id, path) for dag_id, paths in found.items() for path in paths if path.exists()]
    audits.sort(key=lambda a: a.written_at.timestamp() if a.written_at else 0.0, reverse=True)
    return audits[:MAX_AUDITS]


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return len(value) if isinstance(value, list) else None


def _audit(dag_id: str, path: Any) -> Audit:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        report = {}
    totals = report.get("totals") or {}
    rows = report.get("rows") or []
    held = next((_count(totals[k]) for k in ("held back", "held", "held_back") if k in totals), None)
    if held is None and rows:
        held = sum(1 for r in rows if r.get("held") or r.get("action") == "held back")
    folder = path.parent.name  # the safe run id: safe_name() maps it to itself
    run_id = str(report.get("run_id") or folder)
    return Audit(
        dag_id=dag_id,
        run_id=run_id,
        title=str(report.get("title") or dag_id),
        written_at=_written_at(report, path),
        scanned=_count(totals.get("scanned", totals.get("checked"))),  # moderation "checks"
        flagged=_count(totals.get("flagged")),
        held=held,
        url=locations.report_url(dag_id, run_id),
    )


def _written_at(report: dict[str, Any], path: Any) -> datetime | None:
    for key in ("generated_at", "generated"):
        try:
            return datetime.fromisoformat(str(report[key]))
        except (KeyError, ValueError):
            continue
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    except Exception:  # a store without modification times
        return None
