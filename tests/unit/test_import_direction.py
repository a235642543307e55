"""The package's layers, read from its source with ``ast``: who may import whom.

Operators and the sensor reach the wait rules through ``airflow_copyleaks.waits``, never through
the triggers or each other; the wait domain depends on nothing but the standard library, so the
store, the receiver and every task can share it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import airflow_copyleaks

PACKAGE_DIR = Path(airflow_copyleaks.__file__).parent
PACKAGE = "airflow_copyleaks"


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (lazy and TYPE_CHECKING imports too)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # "from airflow_copyleaks.waits import records" imports the submodule.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _modules_under(subpackage: str) -> dict[str, set[str]]:
    root = PACKAGE_DIR / subpackage
    files = [root.with_suffix(".py")] if root.with_suffix(".py").exists() else sorted(root.rglob("*.py"))
    return {_module_name(f): _imports(f) for f in files}


def _offenders(subpackage: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for module, imported in _modules_under(subpackage).items():
        for name in sorted(imported):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{module} imports {name}")
    return out


def test_the_helpers_can_tell_a_forbidden_import() -> None:
    # The checks below are only worth something if the parser sees lazy, relative and
    # TYPE_CHECKING imports; this module has all three.
    imported = _imports(PACKAGE_DIR / "operators" / "__init__.py")
    assert "airflow_copyleaks.operators.checks" in imported
    imported = _imports(PACKAGE_DIR / "waits" / "tasks.py")
    assert "airflow_copyleaks.triggers.scan" in imported


def test_operators_never_import_triggers_or_sensors() -> None:
    assert _offenders("operators", (f"{PACKAGE}.triggers", f"{PACKAGE}.sensors")) == []


def test_sensors_never_import_operators_or_triggers() -> None:
    assert _offenders("sensors", (f"{PACKAGE}.operators", f"{PACKAGE}.triggers")) == []


def test_triggers_never_import_tasks() -> None:
    forbidden = (f"{PACKAGE}.operators", f"{PACKAGE}.sensors", f"{PACKAGE}.waits.tasks")
    assert _offenders("triggers", forbidden) == []


def test_the_store_and_receiver_never_import_tasks_or_triggers() -> None:
    forbidden = (f"{PACKAGE}.operators", f"{PACKAGE}.sensors", f"{PACKAGE}.triggers", f"{PACKAGE}.waits.tasks")
    assert _offenders("store", forbidden) == []
    assert _offenders("webhooks", forbidden) == []


@pytest.mark.parametrize("module", ["waits/domain.py"])
def test_the_wait_domain_needs_only_the_standard_library(module: str) -> None:
    imported = {name.split(".")[0] for name in _imports(PACKAGE_DIR / module)}
    assert {name for name in imported if name not in sys.stdlib_module_names} == set()


def test_operators_and_sensors_share_the_wait_domain() -> None:
    users = {**_modules_under("operators"), **_modules_under("sensors"), **_modules_under("triggers")}
    for module in ("airflow_copyleaks.sensors.scan", "airflow_copyleaks.triggers.scan"):
        assert any(name.startswith(f"{PACKAGE}.waits") for name in users[module]), module
