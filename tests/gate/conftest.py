"""Fixtures of the gate tests: the example-DAG runner (``dags test``) and the real stack's."""

from __future__ import annotations

from tests.dags.conftest import example_dags  # noqa: F401 - fixtures
from tests.scans.conftest import airflow_db, receiver, scan_conn  # noqa: F401 - fixtures
