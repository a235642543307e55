"""Where reports live in object storage, and the same-origin URLs that serve them.

Shared by the report writers (example DAGs), the extra links (workers) and the routes
(api-server): they may run on different machines, so each derives the location from the ids
alone, never from another component's disk.

Layout: ``<[copyleaks] artifacts_url>/reports/<dag_id>/<safe run id>/report.html|csv|json``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlparse

from airflow_copyleaks import config

URL_PREFIX = "/copyleaks/ui"
REPORTS_FOLDER = "reports"
REPORT_FILES = {
    "report.html": "text/html; charset=utf-8",
    "report.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
}
# Airflow's own rule for dag ids (letters, digits, dashes, dots, underscores; at most 250).
_DAG_ID = re.compile(r"[A-Za-z0-9_.-]{1,250}")


def safe_name(value: str) -> str:
    """A run id as one path segment: anything but letters, digits, ``_ . -`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", value)


def _segment(value: str, what: str) -> str:
    """One path segment that can only name a child folder ("." and ".." never do)."""
    if not value or value.strip(".") == "" or "/" in value or "\\" in value:
        raise ValueError(f"{what} {value!r} cannot name a folder")
    return value


def report_key(dag_id: str, run_id: str, name: str = "report.html") -> str:
    """The key of a report file below the artifacts URL; ValueError for an id that could escape."""
    if not _DAG_ID.fullmatch(dag_id):
        raise ValueError(f"dag_id {dag_id!r} is not an Airflow dag id")
    if name not in REPORT_FILES:
        raise ValueError(f"name must be one of {sorted(REPORT_FILES)}, not {name!r}")
    folder = _segment(safe_name(run_id), "run_id")
    return f"{REPORTS_FOLDER}/{_segment(dag_id, 'dag_id')}/{folder}/{name}"


def report_path(dag_id: str, run_id: str, name: str = "report.html", base_url: str | None = None) -> Any:
    """The report file as an ``ObjectStoragePath`` (file://, s3://, gs:// ...)."""
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(f"{(base_url or config.artifacts_url()).rstrip('/')}/{report_key(dag_id, run_id, name)}")


def base_path() -> str:
    """The path part of ``[api] base_url`` ("" at the root), so links work behind a prefix."""
    try:
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="") or ""
    except Exception:  # outside an Airflow install
        base = ""
    return (urlparse(base).path if "://" in base else base).rstrip("/")


def report_url(dag_id: str, run_id: str, name: str = "report.html") -> str:
    """The same-origin URL the api-server serves a report at (raw ids, URL-quoted)."""
    return f"{base_path()}{URL_PREFIX}/reports/{quote(dag_id, safe='')}/{quote(run_id, safe='')}/{quote(name)}"


def export_url(dag_id: str, export_id: str, artifact: str = "pdf") -> str:
    """The same-origin URL of an export's artifact: ``pdf``, ``crawled`` or ``results/<result id>``."""
    tail = "/".join(quote(part, safe="") for part in artifact.split("/", 1))
    return f"{base_path()}{URL_PREFIX}/exports/{quote(dag_id, safe='')}/{quote(export_id, safe='')}/{tail}"


def page_url() -> str:
    return f"{base_path()}{URL_PREFIX}/"
