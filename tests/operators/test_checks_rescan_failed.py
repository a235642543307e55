"""``rescan_failed`` in the synchronous checks: a rerun checks again, and pays for, only the items
whose paid answer was lost; every other item is read back from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_copyleaks.operators import (
    CopyleaksAiDetectionOperator,
    CopyleaksImageCheckOperator,
    CopyleaksModerateOperator,
    CopyleaksWritingFeedbackOperator,
)
from tests.operators.conftest import png_image, run
from tests.operators.test_checks_ai_writing import HUMAN

PRODUCTS: dict[str, tuple[str, Any, str]] = {
    "moderation": ("/v1/text-moderation/", CopyleaksModerateOperator, "texts"),
    "ai_text": ("/v2/writer-detector/", CopyleaksAiDetectionOperator, "texts"),
    "writing": ("/v1/writing-feedback/", CopyleaksWritingFeedbackOperator, "texts"),
    "images": ("/v1/image-plagiarism-detector/", CopyleaksImageCheckOperator, "images"),
}


def batch(product: str, tmp_path: Path) -> list[dict[str, Any]]:
    if product != "images":
        return [{"key": f"item-{i}", "text": f"{HUMAN} Letter number {i}."} for i in range(5)]
    items = []
    for i in range(5):
        path = tmp_path / f"image-{i}.png"
        path.write_bytes(png_image(seed=i + 1))
        items.append({"key": f"item-{i}", "path": str(path)})
    return items


def paid_calls(emulator: Any, prefix: str) -> int:
    """Checks Copyleaks processed (and charged), answered or not; a 409 repeat is not one."""
    return sum(1 for c in emulator.calls() if c["path"].startswith(prefix) and c["status"] == 200)


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_rescan_failed_checks_again_only_the_items_whose_answer_was_lost(
    copyleaks_conn: str, copyleaks_emulator: Any, tmp_path: Path, product: str
) -> None:
    prefix, operator, field = PRODUCTS[product]
    items = batch(product, tmp_path)

    def check(**kwargs: Any) -> dict[str, Any]:
        op = operator(task_id="check", max_workers=1, policy={"fail_on_error": False}, **{field: items}, **kwargs)
        report, _ = run(op)
        return {i["key"]: i for i in report["items"]}

    # Copyleaks checks (and charges) the first two items, but their answers are lost.
    copyleaks_emulator.add_fault(path_prefix=prefix, kind="drop_answer", method="POST", count=2)
    first = check()
    lost = {key for key, item in first.items() if item["status"] == "error"}
    assert len(lost) == 2 and paid_calls(copyleaks_emulator, prefix) == 5

    # A plain rerun pays nothing: the lost ones say so, the others are read back.
    plain = check()
    assert {key for key, item in plain.items() if item["status"] == "error"} == lost
    assert all("rescan_failed" in plain[key]["error"] for key in lost)
    assert paid_calls(copyleaks_emulator, prefix) == 5

    # rescan_failed: two new checks under new ids; the three others keep theirs; all five report.
    redo = check(rescan_failed=True)
    assert paid_calls(copyleaks_emulator, prefix) == 7
    assert {key: item["status"] for key, item in redo.items()} == {
        key: "ok" if key in lost else "already_checked" for key in first
    }
    for key, item in redo.items():
        assert (item["scan_id"] != first[key]["scan_id"]) == (key in lost)

    # A plain rerun after it follows each item to its newest check: nothing fails, nothing is paid.
    after = check()
    assert {item["status"] for item in after.values()} == {"already_checked"}
    assert {key: item["scan_id"] for key, item in after.items()} == {k: i["scan_id"] for k, i in redo.items()}
    assert paid_calls(copyleaks_emulator, prefix) == 7

    # force_new_scan still checks (and pays for) every item again.
    check(force_new_scan=True)
    assert paid_calls(copyleaks_emulator, prefix) == 12
