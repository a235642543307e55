"""Fixtures of the gate tests: the example-DAG runner (``dags test``) and the real stack's.

The stack's services inherit this process's environment: the gate runs only when a test triggers
it (no schedule racing the tests for the same drafts) and its embargo deadline is two minutes, so
that a run whose review is still open passes it.
"""

from __future__ import annotations

import os

from tests.dags.conftest import example_dags  # noqa: F401 - fixtures
from tests.scans.conftest import airflow_db, receiver, scan_conn  # noqa: F401 - fixtures

os.environ.setdefault("COPYLEAKS_GATE_SCHEDULE", "none")
os.environ.setdefault("COPYLEAKS_GATE_EMBARGO_MINUTES", "2")
