"""Pytest fixtures for the Copyleaks emulator (registered as a ``pytest11`` entry point).

* ``copyleaks_emulator_server`` (session): one running EmulatorServer, not throttled
  (``requests_per_second=0``) unless a test asks for it through the control API.
* ``copyleaks_emulator`` (function): resets the server's state and configuration, then yields an
  EmulatorClient with ``.url``, ``.email`` and ``.api_key``.
* ``wordpress_fake`` (function): a started, empty WordPress fake (a CMS for draft-source tests).

Import-light on purpose: the emulator (FastAPI, uvicorn) is only imported when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_copyleaks.testing.emulator import EmulatorClient, EmulatorServer


@pytest.fixture(scope="session")
def copyleaks_emulator_server() -> Iterator[EmulatorServer]:
    from airflow_copyleaks.testing.emulator import EmulatorConfig, EmulatorServer

    # Copyleaks' webhook retry schedule at a tenth of its pace: 0.2 s, 0.4 s, 0.8 s, ...
    config = EmulatorConfig(requests_per_second=0, webhook_retry_time_scale=0.1)
    server = EmulatorServer(config, host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def copyleaks_emulator(copyleaks_emulator_server: EmulatorServer) -> Iterator[EmulatorClient]:
    from airflow_copyleaks.testing.emulator import EmulatorClient

    email, api_key = next(iter(copyleaks_emulator_server.config.accounts.items()))
    client = EmulatorClient(copyleaks_emulator_server.url, email=email, api_key=api_key)
    client.reset()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def wordpress_fake() -> Iterator[Any]:
    """A started WordPress fake (``airflow_copyleaks.testing.wordpress.WordPressFake``) on loopback,
    empty: add users, posts and faults, then point an HTTP connection at ``.url``."""
    from airflow_copyleaks.testing.wordpress import WordPressFake

    with WordPressFake() as fake:
        yield fake
