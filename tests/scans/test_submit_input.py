"""Input the submit operator refuses before any request leaves no trace: no call, no store row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks.operators.submit import CopyleaksSubmitOperator
from airflow_copyleaks.store.scan_store import ScanStore
from tests.fixtures import context_for
from tests.scans.conftest import TEXT, submit_calls


@pytest.mark.parametrize(
    ("document", "properties", "field"),
    [
        ({"key": "short", "text": "only five words in here"}, None, "text"),
        ({"key": "payload", "text": TEXT}, {"developerPayload": "p" * 600}, "properties.developerPayload"),
        ({"key": "file", "path": "TMP/notes.txt", "filename": "notes.exe"}, None, "filename"),
        ({"key": "url", "url": "ftp://example.com/a.txt"}, None, "url"),
    ],
)
def test_input_refused_before_any_request_writes_nothing_to_the_store(
    scan_conn: str,
    store_file: str,
    copyleaks_emulator: Any,
    tmp_path: Path,
    document: dict[str, Any],
    properties: Any,
    field: str,
) -> None:
    if "path" in document:
        (tmp_path / "notes.txt").write_text(TEXT)
        document = {**document, "path": document["path"].replace("TMP", str(tmp_path))}
    op = CopyleaksSubmitOperator(
        task_id="submit", store_url=store_file, documents=[document], properties=properties, fail_on_item_error=False
    )
    result = op.execute(context_for(op))
    [entry] = result["items"].values()
    assert entry["submission"] == "invalid" and field in entry["error"], entry
    assert submit_calls(copyleaks_emulator) == []
    assert ScanStore(store_file).get_scan(entry["scan_id"]) is None  # not "submitted": nothing was sent
