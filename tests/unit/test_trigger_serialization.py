"""Every trigger of the provider survives ``serialize()``: the triggerer rebuilds it from that.

Triggers are found by walking the package, so a new trigger class without a sample here fails.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from typing import Any

import pytest
from airflow.models.trigger import Trigger
from airflow.triggers.base import BaseTrigger

import airflow_copyleaks
from airflow_copyleaks.get_provider_info import get_provider_info

# Arguments for each trigger class: every optional argument set, so each must come back.
SAMPLES: dict[str, dict[str, Any]] = {
    "airflow_copyleaks.triggers.scan.CopyleaksScanTrigger": {
        "scan_ids": ["af-1", "af-2"],
        "wanted": ["creditsChecked"],
        "deadline": 1_900_000_000.5,
        "copyleaks_conn_id": "copyleaks_other",
        "store_url": "sqlite:////tmp/copyleaks-store.db",
        "poll_interval": 0.5,
        "resend_after_seconds": 900.0,
    },
    "airflow_copyleaks.triggers.scan.CopyleaksExportTrigger": {
        "export_id": "ex-1",
        "scan_id": "af-1",
        "deadline": 1_900_000_000.5,
        "store_url": "sqlite:////tmp/copyleaks-store.db",
        "poll_interval": 2.0,
    },
    "airflow_copyleaks.triggers.events.CopyleaksScanCompletedTrigger": {
        "statuses": ["completed", "error"],
        "min_score": 30.0,
        "developer_payload": "cms:post",
        "developer_payload_pattern": "cms:.*",
        "copyleaks_conn_id": "copyleaks_other",
        "account": "editor@example.com",
        "scan_id_prefix": "cms-",
        "name": "takedown",
        "store_url": "sqlite:////tmp/copyleaks-store.db",
        "poll_interval": 2.0,
    },
}


def _trigger_classes() -> dict[str, type[BaseTrigger]]:
    found: dict[str, type[BaseTrigger]] = {}
    for info in pkgutil.walk_packages(airflow_copyleaks.__path__, "airflow_copyleaks."):
        if ".testing" in info.name:
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseTrigger) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_trigger_class_has_a_sample() -> None:
    classes = _trigger_classes()
    assert classes, "no trigger found: the walk is broken"
    assert sorted(classes) == sorted(SAMPLES)


def test_provider_info_names_the_modules_of_every_trigger() -> None:
    modules = {m for entry in get_provider_info()["triggers"] for m in entry["python-modules"]}
    assert {path.rpartition(".")[0] for path in _trigger_classes()} <= modules


@pytest.mark.parametrize("classpath", sorted(SAMPLES))
def test_serialize_round_trip(classpath: str) -> None:
    module, _, name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    trigger = cls(**SAMPLES[classpath])
    path, kwargs = trigger.serialize()
    assert path == classpath
    assert kwargs == SAMPLES[classpath]
    # What the triggerer does: the kwargs go through the database, encoded the way this Airflow
    # encodes them (serde since 3.2, BaseSerialization on 3.1).
    assert json.loads(json.dumps(kwargs)) == kwargs
    stored = Trigger._decrypt_kwargs(Trigger.encrypt_kwargs(kwargs))
    rebuilt = cls(**stored)
    assert rebuilt.serialize() == (path, kwargs)
