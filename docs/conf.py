"""Sphinx configuration: the provider's documentation, built by ``make docs`` with warnings as errors."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Autodoc imports the provider, hence Airflow: give it a home of its own, never the user's.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="copyleaks-docs-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", "docs-build-only")

from airflow_copyleaks import __version__  # noqa: E402
from airflow_copyleaks.config import SETTINGS  # noqa: E402

project = "airflow-provider-copyleaks"
author = "airflow-provider-copyleaks contributors"
release = version = __version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
exclude_patterns = ["_build", "_generated"]
html_theme = "alabaster"
html_static_path: list[str] = []
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Airflow's own classes are not documented here: references to them stay plain text.
nitpicky = False


def _write_configuration_table() -> None:
    """The ``[copyleaks]`` options, from the same list the code reads: this page cannot drift."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 25 20 55",
        "",
        "   * - Option",
        "     - Default",
        "     - Meaning",
    ]
    for setting in SETTINGS.values():
        default = f"``{setting.default}``" if setting.default else "(empty)"
        lines += [f"   * - ``{setting.name}``", f"     - {default}", f"     - {setting.description}"]
    out = Path(__file__).parent / "_generated"
    out.mkdir(exist_ok=True)
    (out / "settings.rst").write_text("\n".join(lines) + "\n")


_write_configuration_table()
