"""The provider works on every Airflow version ``pyproject.toml`` admits (``make test-floor`` runs this on the floor).

These checks are what broke on the floor while the newest Airflow hid it: modules importing names
that only newer ``airflow.sdk`` releases export, and the hook's form behaviour (the only one an
Airflow that does not read ``ui-field-behaviour`` from provider info uses) in a shape Airflow's
schema refuses.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from importlib.metadata import requires, version

import airflow_copyleaks


def _provider_modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(airflow_copyleaks.__path__, "airflow_copyleaks.")
        if not m.name.endswith("__main__")
    ]


def test_every_provider_module_imports_on_this_airflow() -> None:
    failures = {}
    for name in _provider_modules():
        try:
            importlib.import_module(name)
        except ImportError as err:
            failures[name] = str(err)
    assert failures == {}, f"on apache-airflow {version('apache-airflow')}"


def test_every_lazily_exported_operator_resolves() -> None:
    import airflow_copyleaks.operators as operators

    for name in operators.__all__:
        assert getattr(operators, name) is not None


def test_this_airflow_is_inside_the_declared_range() -> None:
    spec = next(r for r in requires("airflow-provider-copyleaks") or [] if re.match(r"apache-airflow[<>=]", r))
    floor = re.search(r">=([\d.]+)", spec)
    assert floor is not None
    have = tuple(int(p) for p in version("apache-airflow").split(".")[:2])
    assert have >= tuple(int(p) for p in floor.group(1).split(".")[:2])
    assert have[0] < 4


def test_hook_form_behaviour_passes_airflows_own_schema() -> None:
    from airflow.providers_manager import _create_customized_form_field_behaviours_schema_validator

    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

    behaviour = CopyleaksHook.get_ui_field_behaviour()
    _create_customized_form_field_behaviours_schema_validator().validate(behaviour)
    # Where Airflow falls back to the hook it shows no conn-fields: the extras stay editable as JSON.
    assert "extra" not in behaviour["hidden_fields"]
    assert behaviour["relabeling"]["password"] == "API key"


def test_airflow_lists_the_copyleaks_hook_without_an_import_error() -> None:
    from airflow.providers_manager import ProvidersManager

    hook = ProvidersManager().hooks["copyleaks"]
    assert hook is not None
    assert hook.hook_class_name == "airflow_copyleaks.hooks.copyleaks.CopyleaksHook"
