"""The synchronous check products: options validated before any call, inputs prepared, ids."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_copyleaks import validation as v
from airflow_copyleaks.checks.ai_text import ai_text_spec
from airflow_copyleaks.checks.images import image_spec
from airflow_copyleaks.checks.inputs import TextItem
from airflow_copyleaks.checks.moderation import moderation_spec, parse_labels
from airflow_copyleaks.checks.runtime import CheckRun
from airflow_copyleaks.checks.spec import CheckSpec
from airflow_copyleaks.checks.writing import writing_spec
from airflow_copyleaks.exceptions import CopyleaksValidationError


def test_every_product_has_its_own_kind_and_id_prefix() -> None:
    specs = [moderation_spec(None, None, max_details=5), image_spec(max_details=5), ai_text_spec(None, None),
             writing_spec(None, None)]  # fmt: skip
    assert [s.kind for s in specs] == ["moderation", "image", "ai_text", "writing"]
    assert len({s.id_prefix for s in specs}) == 4
    for spec in specs:
        assert set(spec.default_thresholds) <= {*spec.bounds, "*"}, spec.kind


def test_labels_from_a_list_or_a_rendered_string() -> None:
    assert parse_labels("toxic-v1, profanity-v1") == ["toxic-v1", "profanity-v1"]
    assert parse_labels("") is None and parse_labels(None) is None
    spec = moderation_spec("toxic-v1", "en", max_details=5)
    assert dict(spec.bounds) == {"toxic-v1": "max"} and spec.fingerprint == "toxic-v1|en"
    assert spec.values({"counts": {}}) == {"toxic-v1": 0.0}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: moderation_spec(["no-such-label"], None, max_details=5), "labels"),
        (lambda: ai_text_spec(None, 4), "sensitivity"),
        (lambda: writing_spec(None, {"grammarScoreWeight": 2}), "score_weights.grammarScoreWeight"),
        (lambda: writing_spec(None, {"wordChoiceScoreWeight": "heavy"}), "score_weights.wordChoiceScoreWeight"),
    ],
)
def test_a_bad_option_fails_when_the_spec_is_built(build: Any, field: str) -> None:
    with pytest.raises(CopyleaksValidationError) as err:
        build()
    assert err.value.field == field


def test_texts_are_prepared_within_the_products_limits() -> None:
    ai = ai_text_spec(None, None)
    with pytest.raises(CopyleaksValidationError, match=r"texts\[short\]"):
        ai.prepare(TextItem("short", "too short for AI detection"))
    with pytest.raises(CopyleaksValidationError, match="must be a string"):
        ai.prepare(TextItem("n", 42))
    text = "x" * v.AI_DETECTION_TEXT_MIN
    prepared = ai.prepare(TextItem("ok", text))
    assert prepared.payload == text and len(prepared.content_sha256) == 64


def _run(spec: CheckSpec, mode: str, *, sandbox: bool = True, nonce: str = "", **ti: Any) -> CheckRun:
    fields = {"dag_id": "d", "task_id": "t", "run_id": "r", "map_index": -1, **ti}
    return CheckRun(spec, hook=None, store=None, ti=SimpleNamespace(**fields), log=None,  # type: ignore[arg-type]
                    scan_id_mode=mode, sandbox_override=sandbox, nonce=nonce)  # fmt: skip


def test_task_ids_are_stable_per_task_instance_and_item() -> None:
    spec = writing_spec(None, None)
    prepared = spec.prepare(TextItem("k", "Some text."))
    first = _run(spec, "task").scan_id("k", prepared)
    assert first == _run(spec, "task").scan_id("k", prepared)
    assert first.startswith("wf") and 3 <= len(first) <= 36
    assert first != _run(spec, "task", run_id="other").scan_id("k", prepared)
    assert first != _run(spec, "task", map_index=2).scan_id("k", prepared)
    assert first != _run(spec, "task", nonce="forced").scan_id("k", prepared)


def test_content_ids_depend_on_content_options_and_sandbox_not_on_the_run() -> None:
    spec = writing_spec(None, None)
    prepared = spec.prepare(TextItem("k", "Some text."))
    first = _run(spec, "content").scan_id("k", prepared)
    assert first == _run(spec, "content", run_id="another-run").scan_id("k", prepared)
    assert first != _run(spec, "content", sandbox=False).scan_id("k", prepared)
    assert first != _run(spec, "content").scan_id("k", spec.prepare(TextItem("k", "Other text.")))
    weighted = writing_spec(None, {"grammarScoreWeight": 0.5})
    assert first != _run(weighted, "content").scan_id("k", prepared)
