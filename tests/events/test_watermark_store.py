"""The watermark table (schema version 8) and its rules, on both stores."""

from __future__ import annotations

import sqlalchemy as sa

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.store import schema as t


def test_a_version_7_store_gains_the_watermark_table_and_keeps_its_events(store_url: str) -> None:
    store = ScanStore(store_url)
    store.record_event("s1", "completed", {"status": 0}, raw_body=b"1")
    store.dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.update(t.schema_version).values(version=7))
        conn.exec_driver_sql("DROP TABLE copyleaks_watermark")
    engine.dispose()
    store = ScanStore(store_url)
    assert store.schema_version() == t.SCHEMA_VERSION >= 8
    assert store.start_watermark("w") == 1  # a first start begins at the feed's end
    assert store.count_events() == 1
    store.dispose()


def test_watermarks_start_at_the_feed_end_once_and_never_move_back(store_url: str) -> None:
    store = ScanStore(store_url)
    assert store.watermark("w") is None
    assert store.start_watermark("w") == 0
    for i in range(3):
        store.record_event(f"s{i}", "completed", {"status": 0}, raw_body=b"x")
    assert store.start_watermark("w") == 0  # its saved position, not the feed's end
    assert store.start_watermark("late") == 3
    store.advance_watermarks({"w": 2, "late": 2})
    assert (store.watermark("w"), store.watermark("late")) == (2, 3)
    store.advance_watermarks({"w": 1})
    assert store.watermark("w") == 2
    store.dispose()


def test_the_feed_reads_completions_only_in_pages_and_says_how_far_it_looked(store_url: str) -> None:
    store = ScanStore(store_url)
    store.record_event("a", "newResult", {"score": 1}, raw_body=b"1")
    store.record_event("a", "completed", {"status": 0, "results": {"score": {"aggregatedScore": 12}}}, raw_body=b"2")
    store.record_event("b", "creditsChecked", {"status": 2, "credits": 1}, raw_body=b"3")
    store.record_event("c", "error", {"status": 1, "error": {"code": 13, "message": "no credits"}}, raw_body=b"4")
    store.record_event("d", "newResult", {"score": 2}, raw_body=b"5")
    completions, upto = store.completions_after(0)
    assert [(c.scan_id, c.status) for c in completions] == [("a", "completed"), ("c", "error")]
    assert completions[0].score == 12.0 and completions[1].error == {"code": "13", "message": "no credits"}
    assert upto == 5  # past the trailing newResult too
    page, upto = store.completions_after(0, limit=1)
    assert [c.scan_id for c in page] == ["a"] and upto == 2
    assert store.completions_after(5) == ([], 5)
    store.dispose()
