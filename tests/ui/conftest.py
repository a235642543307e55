"""Airflow's real authentication for the UI routes: the simple auth manager with teams.

A DAG belongs to a team through its bundle; a user of another team may not read it. On Airflow
3.3 that is Airflow's own per-DAG access rule; on the 3.1 floor (no teams) the same rule is a
``SimpleAuthManager`` subclass (tests/ui/floor.py). Either way ``requires_access_dag`` answers
403 for real. The metadata tables live in the session's SQLite database (created once, no
migration history needed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.ui import locations
from airflow_copyleaks.ui.routes import create_ui_app
from tests.ui.floor import NEWS_DAG, SPORT_DAG, USER_TEAMS, has_teams

ROLES = {"admin": "admin", "alice": "viewer", "bob": "viewer"}
TEAMS = has_teams()
if TEAMS:
    # username:role[:team] - the admin has no team and reads every DAG
    USERS = ",".join(
        f"{name}:{role}:{USER_TEAMS[name]}" if name in USER_TEAMS else f"{name}:{role}" for name, role in ROLES.items()
    )
    AUTH_ENV = {"AIRFLOW__CORE__MULTI_TEAM": "True"}
else:
    USERS = ",".join(f"{name}:{role}" for name, role in ROLES.items())
    AUTH_ENV = {"AIRFLOW__CORE__AUTH_MANAGER": "tests.ui.floor.TeamDagAuthManager"}
AUTH_ENV |= {
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
}


@dataclass
class Auth:
    tokens: dict[str, str]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def _metadata_with_teams() -> None:
    from airflow import settings
    from airflow.models import import_all_models
    from airflow.models.base import Base

    import_all_models()
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    Base.metadata.create_all(settings.engine)
    with create_session() as session:
        for team_name, bundle in (("newsroom", "news-dags"), ("sport", "sport-dags")):
            if session.get(DagBundleModel, bundle) is None:
                model = DagBundleModel(name=bundle)
                if TEAMS:  # on 3.1 the team rule lives in the auth manager (tests/ui/floor.py)
                    from airflow.models.team import Team

                    team = Team(name=team_name)
                    session.add(team)
                    model.teams.append(team)
                session.add(model)
    with create_session() as session:
        for dag_id, bundle in ((NEWS_DAG, "news-dags"), (SPORT_DAG, "sport-dags")):
            if session.get(DagModel, dag_id) is None:
                session.add(DagModel(dag_id=dag_id, bundle_name=bundle, fileloc=f"/dags/{dag_id}.py", is_stale=False))


@pytest.fixture(scope="session")
def airflow_auth() -> Iterator[Auth]:
    saved = {key: os.environ.get(key) for key in AUTH_ENV}
    os.environ.update(AUTH_ENV)
    try:
        _metadata_with_teams()
        from airflow.api_fastapi.app import create_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        manager: Any = create_auth_manager()
        manager.init()
        tokens = {}
        for name, role in ROLES.items():
            teams = {"teams": [USER_TEAMS[name]] if name in USER_TEAMS else None} if TEAMS else {}
            tokens[name] = manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role, **teams))
        yield Auth(tokens)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = tmp_path / "artifacts"
    folder.mkdir()
    return folder


RUN_ID = "manual__2026-11-20T06:00:00+00:00"


def write_report(artifacts: Path, dag_id: str, run_id: str, body: str = "<h1>Plagiarism sweep</h1>") -> Path:
    folder = artifacts / "reports" / dag_id / locations.safe_name(run_id)
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(body)
    (folder / "report.csv").write_text("key,score\na03,62.5\n")
    (folder / "report.json").write_text(json.dumps({"run_id": run_id, "totals": {"scanned": 3, "flagged": 1}}))
    return folder


@pytest.fixture
def client(airflow_auth: Auth, artifacts: Path, tmp_path: Path) -> TestClient:
    host = FastAPI()  # what the api-server does with the plugin's app
    store = ScanStore(f"sqlite:///{tmp_path / 'store.db'}")
    host.state.store = store
    host.mount(locations.URL_PREFIX, create_ui_app(store=store, artifacts_url=artifacts.as_uri()))
    return TestClient(host)
