"""Reading what workers and receivers wrote to ``artifacts_url``, for the authenticated routes.

Every file is found from ids through :mod:`locations` (reports) or from the location the store
recorded for an export (artifacts), and read only when it lies below the artifacts URL: a
tampered store row or an id with ``..`` never makes the api-server read another file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_copyleaks import config
from airflow_copyleaks.ui import locations

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "result": "application/json",
    "crawled": "application/json",
    "ai": "application/json",
    "writing": "application/json",
}


class NotFound(LookupError):
    """Nothing to serve; the message is safe to show to the user."""


@dataclass(frozen=True)
class Served:
    data: bytes
    media_type: str
    filename: str


def _root(base_url: str | None) -> str:
    return (base_url or config.artifacts_url()).rstrip("/")


def read_report(dag_id: str, run_id: str, name: str, base_url: str | None = None) -> Served:
    try:
        path = locations.report_path(dag_id, run_id, name, _root(base_url))
    except ValueError as err:
        raise NotFound(str(err)) from err
    if not path.exists():
        raise NotFound(f"No {name} for run {run_id!r} of {dag_id!r} (the report task has not written one)")
    return Served(path.read_bytes(), locations.REPORT_FILES[name], name)


def select_artifact(export: Any, artifact: str) -> dict[str, Any]:
    """The stored artifact an URL tail names: ``pdf``, ``crawled`` or ``results/<result id>``."""
    kind, _, result_id = artifact.partition("/")
    if kind == "results":
        kind = "result"
    for item in export.artifacts:
        if item["kind"] == kind and (kind != "result" or item.get("result_id") == result_id):
            return dict(item)
    raise NotFound(f"Export {export.export_id!r} has no {artifact!r} artifact (yet)")


def read_artifact(location: str, kind: str, base_url: str | None = None) -> Served:
    from airflow.sdk import ObjectStoragePath

    root = _root(base_url)
    segments = location[len(root) :].split("/")
    if not location.startswith(root + "/") or any(s in ("", ".", "..") for s in segments[1:]):
        raise NotFound("The artifact is not stored below [copyleaks] artifacts_url")
    path = ObjectStoragePath(location)
    if not path.exists():
        raise NotFound("The artifact file is missing from the artifacts storage")
    return Served(path.read_bytes(), MEDIA_TYPES.get(kind, "application/octet-stream"), path.name)
