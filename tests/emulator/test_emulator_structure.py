"""The emulator shares no code with the provider: a bug in one validator must not hide on both sides."""

from __future__ import annotations

import ast
from pathlib import Path

import airflow_copyleaks.testing.emulator as emulator

EMULATOR_DIR = Path(emulator.__file__).parent


def test_the_emulator_imports_nothing_from_the_provider_or_airflow() -> None:
    offending = []
    for path in sorted(EMULATOR_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                inside = name.startswith("airflow_copyleaks.testing.emulator")
                if (name.startswith("airflow_copyleaks") and not inside) or name.split(".")[0] == "airflow":
                    offending.append(f"{path.relative_to(EMULATOR_DIR)}: {name}")
    assert offending == []


def test_the_routes_are_split_by_concern() -> None:
    from airflow_copyleaks.testing.emulator.routes import ROUTERS

    routes = EMULATOR_DIR / "routes"
    assert {p.stem for p in routes.glob("*.py")} >= {"identity", "scans", "products", "misc", "control", "faults"}
    assert len(ROUTERS) == 6
