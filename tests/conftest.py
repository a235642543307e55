"""Root fixtures: a throwaway PostgreSQL server for the tests that run against both stores.

The server is Debian's (or any) PostgreSQL binaries run by ``TemporaryPostgres``: ``initdb`` into
a temporary folder, ``pg_ctl start`` on a free port of 127.0.0.1, removed at the end of the
session even when a test or the start itself failed. PostgreSQL refuses to run as root, so under
root the cluster belongs to the ``postgres`` system user (created here if the package did not).
Missing binaries fail the tests rather than skipping them: the PostgreSQL half of the suite is
not optional.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_copyleaks.testing.postgres import TemporaryPostgres, find_bindir

_databases = itertools.count()


def _ensure_postgres_user() -> None:
    """As root, PostgreSQL needs an unprivileged owner; Debian's package creates ``postgres``."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"],
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TemporaryPostgres]:
    """One PostgreSQL cluster for the session, in a temporary folder, removed at the end."""
    try:
        find_bindir()
    except RuntimeError as err:
        pytest.fail(f"{err} Run `make test`, which installs PostgreSQL, or install it yourself.", pytrace=False)
    _ensure_postgres_user()
    server = TemporaryPostgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()  # also removes the folder when start() failed half way


@pytest.fixture(scope="session")
def postgres_url(postgres_server: TemporaryPostgres) -> str:
    """SQLAlchemy URL (psycopg2) of a database for the whole session."""
    return postgres_server.create_database("copyleaks_session")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store database of each kind: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: TemporaryPostgres = request.getfixturevalue("postgres_server")
    return server.create_database(f"store_{os.getpid()}_{next(_databases)}")


@pytest.fixture(scope="session", autouse=True)
def local_roots_for_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests write the files they submit under pytest's temporary folder; the example DAGs read
    theirs from dags/. Set in os.environ so that the Airflow subprocesses tests start see it too."""
    name = "AIRFLOW__COPYLEAKS__LOCAL_ROOTS"
    before = os.environ.get(name)
    repo_dags = Path(__file__).resolve().parent.parent / "dags"
    os.environ[name] = f"{tmp_path_factory.getbasetemp()},{repo_dags}"
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


# The real stack (tests/e2e and tests/stack share one per session; registered here, once).
from tests.e2e.harness import api, stack  # noqa: E402, F401
