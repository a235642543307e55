"""Deterministic ids: same inputs, same id; always a valid Copyleaks id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from airflow_copyleaks import ids
from airflow_copyleaks.validation import validate_scan_id


def test_same_task_instance_same_id() -> None:
    a = ids.scan_id_for_task("dag", "task", "run1", -1, "article-7")
    assert a == ids.scan_id_for_task("dag", "task", "run1", -1, "article-7")
    assert a != ids.scan_id_for_task("dag", "task", "run2", -1, "article-7")
    assert a != ids.scan_id_for_task("dag", "task", "run1", 0, "article-7")
    assert a != ids.scan_id_for_task("dag", "task", "run1", -1, "article-7", nonce="force-1")


def test_parts_do_not_run_together() -> None:
    assert ids.derive_id("ab", "c") != ids.derive_id("a", "bc")


def test_content_ids_survive_a_new_run_but_not_new_content() -> None:
    sha = ids.content_sha256("the article body")
    assert ids.scan_id_for_content("dag", "a1", sha) == ids.scan_id_for_content("dag", "a1", sha)
    assert ids.scan_id_for_content("dag", "a1", sha) != ids.scan_id_for_content(
        "dag", "a1", ids.content_sha256("edited body")
    )


@given(
    st.text(max_size=300),
    st.text(max_size=300),
    st.text(max_size=300),
    st.integers(min_value=-1, max_value=10**6),
    st.text(max_size=300),
    st.text(max_size=20),
)
def test_derived_ids_are_always_valid(dag: str, task: str, run: str, index: int, key: str, prefix: str) -> None:
    scan_id = ids.scan_id_for_task(dag, task, run, index, key, prefix=prefix)
    assert validate_scan_id(scan_id) == scan_id
    assert "/" not in scan_id and ".." not in scan_id
