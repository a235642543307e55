"""The plugin: two faces mounted apart, registered once, the Copyleaks page in the navigation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_copyleaks import plugins
from airflow_copyleaks.ui import locations


def test_ui_routes_and_receiver_are_mounted_apart(store_file: str) -> None:
    host = FastAPI()
    for entry in plugins.CopyleaksPlugin.fastapi_apps:  # mounted in order, as the api-server does
        host.mount(entry["url_prefix"], entry["app"])
    client = TestClient(host)
    assert [a["url_prefix"] for a in plugins.CopyleaksPlugin.fastapi_apps] == ["/copyleaks/ui", "/copyleaks"]
    assert client.get("/copyleaks/health").status_code == 200  # the receiver: anonymous to Airflow
    for path in ("/copyleaks/docs", "/copyleaks/redoc", "/copyleaks/openapi.json", "/copyleaks/ui/docs"):
        assert client.get(path).status_code in (401, 404), path  # no public API docs on the api-server
    page = client.get(locations.page_url())
    assert page.status_code == 401  # the UI face: Airflow's login first
    assert client.get(f"{locations.URL_PREFIX}/reports/d/r/report.html").status_code == 401
    (view,) = plugins.CopyleaksPlugin.external_views
    assert view["href"] == "/copyleaks/ui/" and view["destination"] == "nav"


PROBE = """
import json
from airflow import plugins_manager
if hasattr(plugins_manager, "_get_plugins"):  # Airflow 3.3
    plugins, errors = plugins_manager._get_plugins()
else:  # Airflow 3.1
    plugins_manager.ensure_plugins_loaded()
    plugins, errors = plugins_manager.plugins or [], plugins_manager.import_errors
print(json.dumps({"names": [p.name for p in plugins], "errors": errors}))
"""


@pytest.mark.parametrize("lazy", ["True", "False"])
def test_plugin_is_registered_once_with_lazy_or_eager_provider_discovery(tmp_path: Path, lazy: str) -> None:
    """Entry point and provider info both registered it: eager discovery recorded an import error."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS": lazy,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    # Run outside the source tree: its build metadata (*.egg-info) would list the entry point again.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}, found["errors"]
    assert found["names"].count("copyleaks") == 1, found["names"]
