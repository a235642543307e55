"""Root fixtures: a throwaway PostgreSQL server for the tests that run against both stores."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_copyleaks.testing.postgres import TemporaryPostgres

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryPostgres]:
    """One PostgreSQL cluster for the session, in a temporary folder, removed at the end."""
    server = TemporaryPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: TemporaryPostgres) -> str:
    return postgres_server.create_database("copyleaks_session")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: TemporaryPostgres = request.getfixturevalue("postgres_server")
    return server.create_database(f"store_{next(_databases)}")
