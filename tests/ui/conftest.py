"""Airflow's real authentication for the UI routes: the simple auth manager with teams.

A DAG belongs to a team through its bundle; a user of another team may not read it. That is
Airflow's own per-DAG access rule, so ``requires_access_dag`` answers 403 for real. The metadata
tables live in the session's SQLite database (created once, no migration history needed).
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

NEWS_DAG = "copyleaks_plagiarism_sweep"
SPORT_DAG = "sport_results"
USERS = "admin:admin,alice:viewer:newsroom,bob:viewer:sport"
AUTH_ENV = {
    "AIRFLOW__CORE__MULTI_TEAM": "True",
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
    from airflow.models.team import Team
    from airflow.utils.session import create_session

    Base.metadata.create_all(settings.engine)
    with create_session() as session:
        for team_name, bundle in (("newsroom", "news-dags"), ("sport", "sport-dags")):
            if session.get(DagBundleModel, bundle) is None:
                team = Team(name=team_name)
                session.add(team)
                model = DagBundleModel(name=bundle)
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
        people = {"admin": ("admin", None), "alice": ("viewer", ["newsroom"]), "bob": ("viewer", ["sport"])}
        tokens = {
            name: manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role, teams=teams))
            for name, (role, teams) in people.items()
        }
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
