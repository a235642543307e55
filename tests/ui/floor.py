"""What tests/ui needs from Airflow, on the newest Airflow and on the 3.1 floor alike.

Airflow 3.3 gives a DAG bundle to a team and the simple auth manager a user's teams, so its own
per-DAG rule refuses a DAG of another team. Airflow 3.1 has neither: there the same rule (a
user reads the DAGs of their team, an admin all) is a real ``SimpleAuthManager`` subclass that
refuses per DAG in ``is_authorized_dag``, the hook both ``requires_access_dag`` and
``get_authorized_dag_ids`` go through.
"""

from __future__ import annotations

import inspect
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

NEWS_DAG = "copyleaks_plagiarism_sweep"
SPORT_DAG = "sport_results"
DAG_TEAMS = {NEWS_DAG: "newsroom", SPORT_DAG: "sport"}
USER_TEAMS = {"alice": "newsroom", "bob": "sport"}  # admin: no team, reads every DAG


def has_teams() -> bool:
    """Airflow 3.3+: simple-auth users carry their teams (3.1 has a team table but no such rule)."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return "teams" in inspect.signature(SimpleAuthManagerUser.__init__).parameters


class TeamDagAuthManager(SimpleAuthManager):
    """The simple auth manager plus the per-DAG team rule Airflow 3.1 lacks."""

    def is_authorized_dag(self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None) -> bool:
        dag_team = DAG_TEAMS.get(details.id) if details is not None and details.id else None
        user_team = USER_TEAMS.get(user.username)
        if dag_team is not None and user_team is not None and dag_team != user_team:
            return False
        allowed: bool = super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
        return allowed


def serialize_dag(dag: Any) -> dict[str, Any]:
    """A DAG as the scheduler stores it (3.3: ``DagSerialization``; 3.1: ``SerializedDAG``)."""
    from airflow.serialization import serialized_objects

    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    encoded: dict[str, Any] = serializer.to_dict(dag)
    return encoded
