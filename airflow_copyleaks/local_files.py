"""Which local files a task may upload to Copyleaks: only those under ``[copyleaks] local_roots``.

Document and image items name files by path, and a DAG may build them from Params that anyone who
can trigger it chooses; without a limit such a run could send ``airflow.cfg`` to Copyleaks and
export it to a URL of the triggerer's choice. Object storage paths (s3://, gs://, ...) are left to
their connections' permissions.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from airflow_copyleaks import config
from airflow_copyleaks.exceptions import CopyleaksValidationError

SETTING = "[copyleaks] local_roots"
_LOCAL_PROTOCOLS = {"file", "local"}


def _dags_folder() -> Path:
    try:
        from airflow.configuration import conf

        return Path(conf.get("core", "dags_folder")).expanduser()
    except Exception:  # outside a configured Airflow
        return config.airflow_home() / "dags"


INPUTS_FOLDER = "inputs"  # below artifacts_url: where DAGs stage what they check (drafts from a CMS)


def staged_inputs_root() -> Path | None:
    """``<artifacts_url>/inputs`` when the artifacts are on a local file system, else None."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(config.artifacts_url())
    if parsed.scheme not in ("file", ""):
        return None
    return Path(unquote(parsed.path)) / INPUTS_FOLDER


def local_roots() -> list[Path]:
    """The configured roots, or the DAGs folder, AIRFLOW_HOME/data and the staged inputs below a
    local ``artifacts_url`` (written by tasks, never named by a Param); symlinks resolved."""
    configured = [p.strip() for p in config.get_setting("local_roots").split(",") if p.strip()]
    staged = staged_inputs_root()
    defaults = [_dags_folder(), config.airflow_home() / "data", *([staged] if staged else [])]
    roots = [Path(p).expanduser() for p in configured] or defaults
    return [root.resolve() for root in roots]


def _local_path(path: Any) -> Path | None:
    """The file system path behind ``path``, or None when it is remote object storage."""
    # First: an ObjectStoragePath is a PurePath too where universal_pathlib subclasses pathlib (3.1).
    protocol = getattr(path, "protocol", None)
    if protocol is not None:
        protocols = {protocol} if isinstance(protocol, str) else set(protocol)
        return Path(str(getattr(path, "path", path))) if protocols & _LOCAL_PROTOCOLS else None
    if isinstance(path, PurePath):
        return Path(path)
    return Path(os.fspath(path))


def check_local_read(path: Any, field: str) -> None:
    """Refuse a local ``path`` outside every root (after resolving ``..`` and symlinks)."""
    local = _local_path(path)
    if local is None:
        return
    resolved = local.resolve()
    roots = local_roots()
    if not any(resolved.is_relative_to(root) for root in roots):
        raise CopyleaksValidationError(
            field,
            f"{local} is outside the folders tasks may read local files from",
            limit=f"{SETTING} = {','.join(str(r) for r in roots)}",
        )
