"""The test stacks' auth manager: the simple auth manager, a listed user limited to named DAGs."""

from __future__ import annotations

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

from airflow_copyleaks.testing.auth import DagListAuthManager, dag_access_setting


def test_a_listed_user_reads_only_the_listed_dags_others_keep_their_role(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in dag_access_setting({"moderator": ["moderation"]}).items():
        monkeypatch.setenv(key, value)
    manager = DagListAuthManager()
    moderator = SimpleAuthManagerUser(username="moderator", role="viewer")
    viewer = SimpleAuthManagerUser(username="someone", role="viewer")

    def reads(user: SimpleAuthManagerUser, dag_id: str | None) -> bool:
        details = DagDetails(id=dag_id) if dag_id else None
        return manager.is_authorized_dag(method="GET", user=user, access_entity=DagAccessEntity.RUN, details=details)

    assert reads(moderator, "moderation") and not reads(moderator, "sweep")
    assert reads(moderator, None)  # "may the user read DAGs at all": the list is then filtered per DAG
    assert manager.filter_authorized_dag_ids(dag_ids={"moderation", "sweep"}, user=moderator) == {"moderation"}
    assert reads(viewer, "moderation") and reads(viewer, "sweep")  # not listed: the simple auth manager's rule
    assert not manager.is_authorized_dag(method="PUT", user=moderator, details=DagDetails(id="moderation"))


def test_a_malformed_setting_stops_the_manager_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__COPYLEAKS_TESTING__DAG_ACCESS", '{"moderator": "moderation"}')
    with pytest.raises(ValueError, match=r"\[copyleaks_testing\] dag_access must map user names to lists"):
        DagListAuthManager()
