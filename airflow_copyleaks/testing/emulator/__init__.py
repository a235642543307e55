"""A faithful local Copyleaks API for tests, examples and demos (what moto is for AWS).

It shares no code with the rest of ``airflow_copyleaks`` and imports nothing from Airflow, so a
bug in the provider's validation cannot hide behind the same bug here.

    from airflow_copyleaks.testing.emulator import EmulatorConfig, EmulatorServer, EmulatorClient

    with EmulatorServer(EmulatorConfig(requests_per_second=0)) as server:
        client = EmulatorClient(server.url)
        ...
"""

from .client import EmulatorClient
from .config import DEFAULT_API_KEY, DEFAULT_EMAIL, EmulatorConfig
from .server import EmulatorServer, main, serve

__all__ = ["DEFAULT_API_KEY", "DEFAULT_EMAIL", "EmulatorClient", "EmulatorConfig", "EmulatorServer", "main", "serve"]
