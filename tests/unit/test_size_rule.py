"""The size rule (no module over 400 lines, no function over 60) for the packages that keep it.

A package joins the list once it keeps the rule; the list only grows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_copyleaks

PACKAGE_DIR = Path(airflow_copyleaks.__file__).parent
KEEPING_THE_RULE = [
    "operators",
    "triggers",
    "sensors",
    "waits",
    "checks",
    "scans",
    "hooks",
    "testing/emulator",
    "testing/wordpress",
    "review",
]
MODULE_MAX_LINES = 400
FUNCTION_MAX_LINES = 60


def _too_big(path: Path) -> list[str]:
    text = path.read_text()
    out = []
    if len(text.splitlines()) > MODULE_MAX_LINES:
        out.append(f"{path.name}: {len(text.splitlines())} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > FUNCTION_MAX_LINES:
                out.append(f"{path.name}:{node.lineno} {node.name}: {length} lines")
    return out


@pytest.mark.parametrize("package", KEEPING_THE_RULE)
def test_no_module_or_function_over_the_limit(package: str) -> None:
    files = sorted((PACKAGE_DIR / package).rglob("*.py"))
    assert files, package
    assert [problem for f in files for problem in _too_big(f)] == []
