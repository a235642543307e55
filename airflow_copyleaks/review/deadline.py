"""The gate's deadline alert: when the embargo nears and drafts still wait for an editor, say which.

:func:`notify_unreviewed` is an ``AsyncCallback`` for Airflow's ``DeadlineAlert``; it runs in the
triggerer with the missed run's context. Which drafts wait, and who is told, are the DAG's to
choose: ``pending`` and ``notifier`` are dotted paths (``module:function``) imported from the
DAGs folder or any installed package, so the callback knows no CMS and no chat tool.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)


def _dags_folder_on_path() -> None:
    # The triggerer does not put the DAGs folder on sys.path; the DAG's helpers live there.
    try:
        from airflow.configuration import conf

        folder = conf.get("core", "dags_folder", fallback="")
    except Exception:  # outside an Airflow install
        folder = ""
    if folder and folder not in sys.path:
        sys.path.append(folder)


def load(path: str) -> Callable[..., Any]:
    """``"package.module:function"`` (or with a dot before the function) as a callable."""
    module, sep, name = path.partition(":")
    if not sep:
        module, _, name = path.rpartition(".")
    _dags_folder_on_path()
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def log_unreviewed(message: str, drafts: list[Mapping[str, Any]], context: Mapping[str, Any]) -> None:
    """The default notifier: one warning in the triggerer's log."""
    log.warning("%s", message)


def describe(drafts: list[Mapping[str, Any]], run_id: str, deadline: Any) -> str:
    listed = "; ".join(f"{d.get('id')} \u201c{d.get('title', '')}\u201d ({d.get('note', '')})" for d in drafts)
    return f"Embargo deadline {deadline} of run {run_id}: {len(drafts)} draft(s) still unreviewed: {listed}"


async def notify_unreviewed(
    context: Mapping[str, Any] | None = None,
    pending: str = "publishing.gate_drafts:unreviewed",
    notifier: str = "airflow_copyleaks.review.deadline:log_unreviewed",
) -> list[str]:
    """List the drafts still waiting for an editor when the run's deadline passes, and tell someone.

    :param context: What Airflow passes a deadline callback (``dag_run``, ``deadline``).
    :param pending: Dotted path of a function returning the unreviewed drafts (dicts with ``id``,
        ``title`` and ``note``).
    :param notifier: Dotted path of a function ``(message, drafts, context)`` that tells editors.
    :return: The ids of the drafts listed.
    """
    context = context or {}
    run = context.get("dag_run") or {}
    drafts = list(load(pending)())
    if not drafts:
        log.info(
            "Deadline of run %s passed: no draft waiting for an editor", run.get("dag_run_id") or run.get("run_id")
        )
        return []
    run_id = str(run.get("dag_run_id") or run.get("run_id"))  # Airflow passes the REST API's DAG run
    message = describe(drafts, run_id, (context.get("deadline") or {}).get("deadline_time"))
    load(notifier)(message, drafts, context)
    return [str(d.get("id")) for d in drafts]
