"""Where the provider's parts meet across machines: one store for all of them, and saying which.

Every component (workers, triggerers, the receiver in the api-server) must read and write the same
ScanStore. Left unset, ``[copyleaks] store_url`` means an SQLite file in each machine's own
AIRFLOW_HOME: fine for LocalExecutor, a silent split on any executor that runs tasks elsewhere
(webhooks land in the api-server's file, triggers read an empty one and wait to their deadline).
This module refuses that default under a distributed executor and words the errors that name a
store, without its password.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_copyleaks.exceptions import CopyleaksError

# Executors that run every task on the scheduler's machine; any other may run them elsewhere.
LOCAL_EXECUTORS = frozenset({"LocalExecutor", "SequentialExecutor", "DebugExecutor"})
SETTING = "[copyleaks] store_url"


class CopyleaksTopologyError(CopyleaksError, AirflowFailException):
    """The deployment's parts would not share one store; retrying cannot help."""


def display_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: say nothing of it
        return "(unreadable URL)"


def configured_executors() -> list[str]:
    """Class names of ``[core] executor`` (a comma-separated list; ``alias:module.Class`` allowed)."""
    try:
        from airflow.configuration import conf

        value = str(conf.get("core", "executor", fallback="") or "")
    except Exception:  # outside an Airflow install (the standalone receiver in a slim image)
        return []
    names = []
    for part in value.split(","):
        part = part.strip()
        if part:
            # "alias:path.to.Class" or "path.to.Class": the class name is the last dotted part.
            names.append(part.split(":")[-1].rsplit(".", 1)[-1])
    return names


def distributed_executors(names: Sequence[str] | None = None) -> list[str]:
    return [n for n in (configured_executors() if names is None else names) if n not in LOCAL_EXECUTORS]


def refuse_machine_local_store() -> None:
    """Raise when ``store_url`` is unset but tasks may run on other machines than this one."""
    remote = distributed_executors()
    if remote:
        raise CopyleaksTopologyError(
            f"{SETTING} is not set, and the executor {', '.join(remote)} runs tasks on other machines: "
            "each machine would keep its own SQLite store, webhooks would land in one and waits would "
            f"read another. Set {SETTING} (AIRFLOW__COPYLEAKS__STORE_URL) to one database every "
            "machine reaches, e.g. postgresql+psycopg2://user:password@db-host/copyleaks."
        )


def unregistered_message(store_url: str, scan_ids: Sequence[str], store_id: str | None = None) -> str:
    shown = ", ".join(scan_ids[:5]) + (f" and {len(scan_ids) - 5} more" if len(scan_ids) > 5 else "")
    ident = f", store id {store_id}" if store_id else ""
    return (
        f"scan(s) {shown} are not registered in the Copyleaks store {display_url(store_url)}{ident} ({SETTING}): "
        "they were submitted through another store, so their webhooks are recorded elsewhere and this "
        f"wait would run to its deadline. Give every machine the same {SETTING}."
    )
