"""The browser test's screenshots are listed at the end (the stack fixtures: tests/e2e/harness.py)."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import ARTIFACTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shots = sorted(ARTIFACTS.glob("*.png")) if ARTIFACTS.exists() else []
    if shots:
        terminalreporter.write_line(f"Browser test screenshots ({len(shots)}): {ARTIFACTS}")
