"""The ScanStore suite, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.store import schema as t

COMPLETED = {
    "status": 0,
    "scannedDocument": {"scanId": "s1", "totalWords": 120, "credits": 1},
    "results": {"score": {"aggregatedScore": 42.5}, "internet": [{"id": "r1"}]},
}


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True).encode()


def test_duplicate_delivery_is_stored_once(store_url: str) -> None:
    store = ScanStore(store_url)
    store.register_scan("s1", kind="text", action="scan", sandbox=False, meta={"dag_id": "d"})
    assert store.record_event("s1", "completed", COMPLETED, raw_body=raw(COMPLETED))
    assert not store.record_event("s1", "completed", COMPLETED, raw_body=raw(COMPLETED))
    scan = store.get_scan("s1")
    assert scan is not None
    assert (scan.status, scan.score, scan.credits, scan.total_words, scan.event_count) == ("completed", 42.5, 1, 120, 1)
    assert scan.meta == {"dag_id": "d"}
    assert store.count_events("s1") == 1


def test_register_is_idempotent_and_never_downgrades(store_url: str) -> None:
    store = ScanStore(store_url)
    assert store.register_scan("s2", kind="text", action="scan", sandbox=False)
    store.record_event("s2", "completed", COMPLETED, raw_body=raw(COMPLETED))
    assert not store.register_scan("s2", kind="text", action="scan", sandbox=False)
    assert store.get_scan("s2").status == "completed"  # type: ignore[union-attr]


def test_status_never_moves_backwards(store_url: str) -> None:
    store = ScanStore(store_url)
    store.record_event("s3", "creditsChecked", {"status": 2, "credits": 3}, raw_body=b"c")
    assert store.get_scan("s3").credits == 3  # type: ignore[union-attr]
    store.mark_started(["s3"])
    assert store.get_scan("s3").status == "started"  # type: ignore[union-attr]
    store.record_event("s3", "completed", COMPLETED, raw_body=raw(COMPLETED))
    # A late, different delivery of an earlier status must not move it back.
    store.record_event("s3", "creditsChecked", {"status": 2, "credits": 9}, raw_body=b"late")
    store.record_event("s3", "error", {"status": 1, "error": {"code": 16, "message": "x"}}, raw_body=b"late-err")
    scan = store.get_scan("s3")
    assert scan is not None and scan.status == "completed" and scan.credits == 1 and scan.error_code is None


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        ({"code": 13, "message": "no credits"}, "13", "no credits"),
        ({"type": "payment_error", "id": "insufficient_credits", "code": "13", "message": "m"}, "13", "m"),
        ([{"code": 5, "message": "download failed"}], "5", "download failed"),
        ("plain text error", None, "plain text error"),
    ],
)
def test_error_payload_variants(store_url: str, error: Any, code: str | None, message: str) -> None:
    store = ScanStore(store_url)
    store.record_event("e1", "error", {"status": 1, "error": error}, raw_body=raw({"error": error}))
    scan = store.get_scan("e1")
    assert scan is not None and (scan.status, scan.error_code, scan.error_message) == ("error", code, message)


def test_get_scans_is_one_query_per_500_ids(store_url: str) -> None:
    store = ScanStore(store_url)
    ids = [f"bulk-{i}" for i in range(1200)]
    with store._write() as conn:
        now = datetime.now(timezone.utc)
        conn.execute(
            sa.insert(t.scan),
            [
                dict(scan_id=i, status="submitted", event_count=0, meta="{}", created_at=now, updated_at=now)
                for i in ids
            ],
        )
    before = store.query_count
    found = store.get_scans(ids)
    assert len(found) == 1200
    assert store.query_count - before <= 3 + 2  # three SELECTs, plus BEGIN/COMMIT bookkeeping


def test_events_after_is_a_global_cursor(store_url: str) -> None:
    store = ScanStore(store_url)
    start = store.latest_event_id()
    store.record_event("a", "completed", COMPLETED, raw_body=b"1")
    store.record_event("b", "indexed", {"status": 3}, raw_body=b"2")
    events = store.events_after(start)
    assert [(e.scan_id, e.event) for e in events] == [("a", "completed"), ("b", "indexed")]
    assert store.events_after(events[-1].id) == []
    assert store.get_event_payload("a", "completed") == COMPLETED


def test_exports_and_artifacts(store_url: str) -> None:
    store = ScanStore(store_url)
    assert store.register_export("x1", "s1", expected=["result:r1", "pdf"])
    assert store.record_artifact("x1", "result", result_id="r1", location="file:///a", size=3, sha256="00")
    assert not store.record_artifact("x1", "result", result_id="r1", location="file:///a", size=3, sha256="00")
    payload = {"completed": True, "tasks": [{"endpoint": "e", "httpStatusCode": 200, "isHealthy": True}]}
    assert store.record_export_completed("x1", payload, raw_body=raw(payload))
    assert not store.record_export_completed("x1", payload, raw_body=raw(payload))
    export = store.get_export("x1")
    assert export is not None and export.status == "completed" and export.artifacts[0]["result_id"] == "r1"
    bad = {"completed": True, "tasks": [{"endpoint": "e", "httpStatusCode": None, "isHealthy": False}]}
    store.register_export("x2", "s1", expected=["pdf"])
    store.record_export_completed("x2", bad, raw_body=raw(bad))
    failed = store.get_export("x2")
    assert failed is not None and failed.status == "failed" and failed.unhealthy == bad["tasks"]


def test_token_compare_and_delete(store_url: str) -> None:
    store = ScanStore(store_url)
    expires = datetime.now(timezone.utc) + timedelta(hours=1)
    store.put_token("acct", b"one", expires)
    store.delete_token("acct", only_if=b"other")
    assert store.get_token("acct") is not None
    store.put_token("acct", b"two", expires)
    assert store.get_token("acct")[0] == b"two"  # type: ignore[index]
    store.delete_token("acct", only_if=b"two")
    assert store.get_token("acct") is None


def test_lease_is_exclusive_until_it_expires(store_url: str) -> None:
    store = ScanStore(store_url)
    assert store.try_acquire_lease("login", "a", 30)
    assert not store.try_acquire_lease("login", "b", 30)
    assert store.try_acquire_lease("login", "a", 30)  # re-entrant for its holder
    store.release_lease("login", "a")
    assert store.try_acquire_lease("login", "b", 0.001)
    import time

    time.sleep(0.01)
    assert store.try_acquire_lease("login", "c", 30)  # an expired lease is taken over


def test_check_results(store_url: str) -> None:
    store = ScanStore(store_url)
    assert store.save_check_result("m1", "moderation", {"verdict": "ok"})
    assert not store.save_check_result("m1", "moderation", {"verdict": "changed"})
    assert store.get_check_result("m1") == {"verdict": "ok"}
    assert store.get_check_result("nope") is None


def test_hostile_ids_are_data_not_sql(store_url: str) -> None:
    store = ScanStore(store_url)
    hostile = "x'); drop table copyleaks_scan;--"[:36]
    store.register_scan(hostile, kind="text", action="scan", sandbox=False)
    assert store.get_scan(hostile) is not None
    assert store.get_scans(["a", hostile]).keys() == {hostile}


def _race_lease(url: str, holder: str, queue: Any) -> None:
    queue.put((holder, ScanStore(url).try_acquire_lease("race", holder, 60)))


def _create_schema(url: str, queue: Any) -> None:
    queue.put(ScanStore(url).schema_version())


def _run_in_processes(target: Any, args: list[tuple[Any, ...]]) -> list[Any]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, queue)) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    return [queue.get(timeout=5) for _ in procs]


def test_eight_processes_race_for_a_lease_and_one_wins(store_url: str) -> None:
    ScanStore(store_url)
    results = _run_in_processes(_race_lease, [(store_url, f"p{i}") for i in range(8)])
    assert sum(won for _, won in results) == 1


def test_eight_processes_create_the_schema_at_once(store_url: str) -> None:
    assert _run_in_processes(_create_schema, [(store_url,)] * 8) == [t.SCHEMA_VERSION] * 8


def test_upgrade_from_an_older_schema(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        t.schema_version.create(conn)
        t.MIGRATIONS[1](conn)
        conn.execute(sa.insert(t.schema_version).values(id=1, version=1))
        conn.execute(
            sa.insert(t.scan).values(
                scan_id="old",
                status="completed",
                event_count=1,
                meta="{}",
                created_at=datetime.now(timezone.utc),
                updated_at=datetime.now(timezone.utc),
            )
        )
    engine.dispose()
    store = ScanStore(store_url)
    assert store.schema_version() == t.SCHEMA_VERSION
    assert store.get_scan("old").status == "completed"  # type: ignore[union-attr]
    assert store.save_check_result("new", "moderation", {})  # the v2 table exists now


def test_postgres_store_survives_a_server_restart(postgres_server: Any) -> None:
    url = postgres_server.create_database("restart_check")
    store = ScanStore(url)
    store.register_scan("before", kind="text", action="scan", sandbox=False)
    postgres_server.restart()
    assert store.get_scan("before") is not None  # pool_pre_ping replaces the dead connections
