"""The unit layer: pure logic, no PostgreSQL, no emulator process, no receiver (``make test-fast``)."""

from __future__ import annotations

import pytest

# Fixtures that start a server or a process; a test that needs one belongs to another layer.
SERVER_FIXTURES = frozenset(
    {
        "postgres_server",
        "postgres_url",
        "store_url",
        "copyleaks_emulator_server",
        "copyleaks_emulator",
        "copyleaks_conn",
        "hook",
        "receiver",
    }
)


@pytest.fixture(autouse=True)
def _no_servers_in_unit_tests(request: pytest.FixtureRequest) -> None:
    used = SERVER_FIXTURES.intersection(request.fixturenames)
    if used:
        pytest.fail(f"{request.node.nodeid} uses {sorted(used)}: unit tests start no server or process")
