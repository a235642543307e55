"""Local files are read only under [copyleaks] local_roots; webhook_base_url comes from the connection.

A DAG that templates ``documents`` from Params lets whoever triggers it name the files; these
tests give the operators paths outside the roots (a worker's airflow.cfg, a ``..`` escape, a
symlink out) and expect a clear refusal naming the setting, before any request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.operators.export import CopyleaksExportOperator
from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.store.scan_store import ScanStore
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, submit_calls


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    inside, outside = tmp_path / "data", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (inside / "article.txt").write_text(TEXT)
    (outside / "airflow.cfg").write_text(TEXT.replace("harbour", "secret"))
    (inside / "link.txt").symlink_to(outside / "airflow.cfg")
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__LOCAL_ROOTS", str(inside))
    return inside, outside


def test_paths_outside_the_roots_are_refused_before_any_request(
    scan_conn: str, store_file: str, copyleaks_emulator: Any, roots: tuple[Path, Path]
) -> None:
    inside, outside = roots
    documents = [
        {"key": "ok", "path": str(inside / "article.txt")},
        {"key": "cfg", "path": str(outside / "airflow.cfg")},
        {"key": "dots", "path": f"{inside}/../elsewhere/airflow.cfg"},
        {"key": "link", "path": str(inside / "link.txt")},
        {"key": "uri", "path": f"file://{outside / 'airflow.cfg'}"},
        {"key": "osp", "path": ObjectStoragePath(f"file://{outside / 'airflow.cfg'}")},
        {"key": "ocr", "ocr_path": str(outside / "airflow.cfg"), "filename": "scan.png"},
    ]
    op = CopyleaksSubmitOperator(task_id="submit", store_url=store_file, documents=documents, fail_on_item_error=False)
    result = op.execute(context_for(op))
    assert result["items"]["ok"]["submission"] == "submitted"
    for key in ("cfg", "dots", "link", "uri", "osp", "ocr"):
        error = result["errors"][key]
        assert "outside the folders tasks may read" in error and "[copyleaks] local_roots" in error, (key, error)
        assert result["items"][key]["submission"] == "invalid"
        scan_id = result["items"][key].get("scan_id")  # refused before an id was even derived
        assert scan_id is None or ScanStore(store_file).get_scan(scan_id) is None
    assert len(submit_calls(copyleaks_emulator)) == 1


def test_image_check_paths_are_limited_too(copyleaks_conn: str, roots: tuple[Path, Path]) -> None:
    from airflow_copyleaks.checks.inputs import ImageItem, load_image

    _, outside = roots
    with pytest.raises(CopyleaksValidationError, match=r"images\[x\].*\[copyleaks\] local_roots"):
        load_image(ImageItem("x", path=str(outside / "airflow.cfg")))


def test_default_roots_are_the_dags_folder_and_a_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_copyleaks.local_files import check_local_read, local_roots

    monkeypatch.delenv("AIRFLOW__COPYLEAKS__LOCAL_ROOTS", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(tmp_path / "dags"))
    monkeypatch.setenv("AIRFLOW__COPYLEAKS__ARTIFACTS_URL", (tmp_path / "artifacts").as_uri())
    staged = (tmp_path / "artifacts" / "inputs").resolve()
    assert local_roots() == [(tmp_path / "dags").resolve(), (tmp_path / "data").resolve(), staged]
    check_local_read(staged / "run" / "d01.txt", "documents[d01]")
    with pytest.raises(CopyleaksValidationError, match="local_roots"):
        check_local_read(tmp_path / "artifacts" / "reports" / "r" / "report.json", "documents[a]")
    check_local_read(tmp_path / "data" / "a.txt", "documents[a]")
    with pytest.raises(CopyleaksValidationError, match="local_roots"):
        check_local_read(tmp_path / "airflow.cfg", "documents[a]")
    check_local_read(ObjectStoragePath("s3://bucket/airflow.cfg", conn_id="aws_default"), "documents[a]")


@pytest.mark.parametrize("operator", [CopyleaksSubmitOperator, CopyleaksExportOperator])
def test_webhook_base_url_is_not_a_template_field(operator: type) -> None:
    assert "webhook_base_url" not in operator.template_fields


@pytest.mark.parametrize("value", ["{{ params.where }}", "{% if 1 %}x{% endif %}"])
def test_a_templated_webhook_base_url_is_refused(value: str) -> None:
    with pytest.raises(CopyleaksValidationError, match="webhook_base_url"):
        CopyleaksSubmitOperator(task_id="s", documents=[TEXT], webhook_base_url=value)
