"""An auth manager for test stacks: the simple auth manager, with some users limited to named DAGs.

Airflow's ``SimpleAuthManager`` gives a role to every DAG at once: a viewer reads all of them.
Testing "a user without access to this DAG gets 403" needs a user who may read some DAGs and not
others. This subclass keeps every rule of the simple auth manager (users, passwords, roles,
tokens, the login page) and refuses, per DAG, what a listed user may not read::

    [core] auth_manager = airflow_copyleaks.testing.auth.DagListAuthManager
    [copyleaks_testing] dag_access = {"editor": ["copyleaks_content_moderation"]}

A user not named in ``dag_access`` is authorized as by the simple auth manager. Both
``requires_access_dag`` (one DAG) and the DAG lists (``get_authorized_dag_ids``) go through
:meth:`DagListAuthManager.is_authorized_dag`. For test stacks only: ``make stack`` keeps the
simple auth manager. Unlike the rest of ``airflow_copyleaks.testing``, this module imports Airflow.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

SECTION = "copyleaks_testing"
OPTION = "dag_access"
AUTH_MANAGER = f"{__name__}.DagListAuthManager"


def dag_access_setting(access: dict[str, list[str]]) -> dict[str, str]:
    """The environment that selects this auth manager with ``access`` (user -> readable dag ids)."""
    return {
        "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
        f"AIRFLOW__{SECTION.upper()}__{OPTION.upper()}": json.dumps(access),
    }


def read_dag_access() -> dict[str, frozenset[str]]:
    """``[copyleaks_testing] dag_access``; a value that is not a JSON object of lists is an error."""
    from airflow.configuration import conf

    raw = conf.get(SECTION, OPTION, fallback="") or "{}"
    try:
        access = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"[{SECTION}] {OPTION} is not JSON: {err}") from err
    if not isinstance(access, dict) or not all(
        isinstance(ids, list) and all(isinstance(i, str) for i in ids) for ids in access.values()
    ):
        raise ValueError(f'[{SECTION}] {OPTION} must map user names to lists of dag ids, e.g. {{"editor": ["a_dag"]}}')
    return {str(user): frozenset(ids) for user, ids in access.items()}


class DagListAuthManager(SimpleAuthManager):
    """The simple auth manager; a user named in ``[copyleaks_testing] dag_access`` reads only the DAGs
    listed for them (and may not act on any other)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dag_access = read_dag_access()  # at start: a bad setting stops the api-server at once

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        allowed = self._dag_access.get(getattr(user, "username", ""))
        dag_id = getattr(details, "id", None)
        if allowed is not None and dag_id is not None and dag_id not in allowed:
            return False
        authorized: bool = super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
        return authorized
