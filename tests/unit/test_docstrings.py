"""Every argument of a class DAG authors use is documented with ``:param:`` in its docstring."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

# The packages whose classes DAG authors build directly (with Policy and the scan properties).
PUBLIC_PACKAGES = ("operators", "sensors", "triggers")


def _public_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for package in PUBLIC_PACKAGES:
        pkg = importlib.import_module(f"airflow_copyleaks.{package}")
        for info in pkgutil.iter_modules(pkg.__path__, f"{pkg.__name__}."):
            module = importlib.import_module(info.name)
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == module.__name__ and not name.startswith("_") and "__init__" in cls.__dict__:
                    found[f"{module.__name__}.{name}"] = cls
    from airflow_copyleaks.checks import policy
    from airflow_copyleaks.scans import properties, property_parts

    found["airflow_copyleaks.checks.policy.Policy"] = policy.Policy
    for module in (properties, property_parts):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = cls
    return found


def _documented(cls: type) -> set[str]:
    # An operator documents its own arguments; those of a base it extends are documented there.
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.startswith("airflow_copyleaks"):
            names.update(re.findall(r":param (\w+):", inspect.getdoc(klass) or ""))
    return names


def test_the_public_classes_are_found() -> None:
    names = _public_classes()
    assert "airflow_copyleaks.operators.submit.CopyleaksSubmitOperator" in names
    assert "airflow_copyleaks.triggers.scan.CopyleaksScanTrigger" in names


@pytest.mark.parametrize("classpath", sorted(_public_classes()))
def test_every_argument_is_documented(classpath: str) -> None:
    cls = _public_classes()[classpath]
    parameters = inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    arguments = [p.name for p in parameters if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    assert [a for a in arguments if a not in _documented(cls)] == []
