"""The ScanStore suite, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_copyleaks.store import ScanStore
from airflow_copyleaks.store import schema as t
from tests.fixtures import clean_process_context, run_in_clean_processes

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
    assert store.query_count - before <= 3  # one SELECT per 500 ids


def test_events_for_an_unknown_scan_create_its_row_and_registration_fills_it(store_url: str) -> None:
    store = ScanStore(store_url)
    store.record_event("early", "newResult", {"score": 10}, raw_body=b"n1")
    scan = store.get_scan("early")
    assert scan is not None and scan.status == "submitted" and scan.event_count == 1 and scan.kind is None
    store.record_event("early", "creditsChecked", {"status": 2, "credits": 4}, raw_body=b"c1")
    # The operator's registration arrives after the webhook: details filled, status kept.
    assert not store.register_scan("early", kind="file", action="checkCredits", sandbox=True, meta={"task_id": "t"})
    scan = store.get_scan("early")
    assert scan is not None
    assert (scan.status, scan.kind, scan.action, scan.sandbox, scan.meta) == (
        "creditsChecked",
        "file",
        "checkCredits",
        True,
        {"task_id": "t"},
    )
    # A second registration changes nothing that is already set.
    store.register_scan("early", kind="text", action="scan", sandbox=False, meta={"task_id": "other"})
    assert store.get_scan("early").kind == "file"  # type: ignore[union-attr]


def test_new_result_does_not_change_the_status(store_url: str) -> None:
    store = ScanStore(store_url)
    store.register_scan("nr", kind="text", action="scan", sandbox=False)
    assert store.record_event("nr", "newResult", {"score": {"aggregatedScore": 3}}, raw_body=b"r1")
    assert store.record_event("nr", "newResult", {"score": 5}, raw_body=b"r2")
    scan = store.get_scan("nr")
    assert scan is not None and (scan.status, scan.event_count, scan.score) == ("submitted", 2, None)
    assert store.get_event_payload("nr", "newResult") == {"score": 5}  # the newest


def test_started_and_deleted_events(store_url: str) -> None:
    store = ScanStore(store_url)
    store.record_event("st", "creditsChecked", {"credits": 1}, raw_body=b"c")
    store.record_event("st", "started", {}, raw_body=b"s")
    assert store.get_scan("st").status == "started"  # type: ignore[union-attr]
    store.record_event("st", "creditsChecked", {"credits": 2}, raw_body=b"late")
    assert store.get_scan("st").status == "started"  # type: ignore[union-attr]
    store.record_event("st", "completed", COMPLETED, raw_body=raw(COMPLETED))
    store.record_event("st", "deleted", {}, raw_body=b"")
    assert store.get_scan("st").status == "deleted"  # type: ignore[union-attr]
    # A delete request's completion is an event but not a scan.
    assert store.record_event("delete:req-1", "deleted", {}, raw_body=b"")
    assert store.get_scan("delete:req-1") is None
    assert store.get_event_payload("delete:req-1", "deleted") == {}
    with pytest.raises(ValueError, match="unknown scan event"):
        store.record_event("st", "finished", {}, raw_body=b"x")


def test_malformed_numbers_do_not_fail_a_delivery(store_url: str) -> None:
    store = ScanStore(store_url)
    payload = {
        "scannedDocument": {"credits": "two", "totalWords": "12"},
        "results": {"score": {"aggregatedScore": "x"}},
    }
    assert store.record_event("junk", "completed", payload, raw_body=raw(payload))
    scan = store.get_scan("junk")
    assert scan is not None and (scan.status, scan.credits, scan.total_words, scan.score) == (
        "completed",
        None,
        12,
        None,
    )


def test_mark_started_and_resend(store_url: str) -> None:
    store = ScanStore(store_url)
    for sid in ("m1", "m2", "m3"):
        store.register_scan(sid, kind="text", action="checkCredits", sandbox=True)
    store.record_event("m2", "creditsChecked", {"credits": 1}, raw_body=b"c")
    store.record_event("m3", "completed", COMPLETED, raw_body=raw(COMPLETED))
    store.mark_started(["m1", "m2", "m3", "unknown"])
    assert {sid: s.status for sid, s in store.get_scans(["m1", "m2", "m3"]).items()} == {
        "m1": "started",
        "m2": "started",
        "m3": "completed",
    }
    assert store.get_scan("m1").resend_requested_at is None  # type: ignore[union-attr]
    store.mark_resend_requested("m1")
    scan = store.get_scan("m1")
    assert scan is not None and scan.resend_requested_at is not None
    assert json.loads(json.dumps(scan.to_dict()))["resend_requested_at"] == scan.resend_requested_at.isoformat()


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
    assert json.loads(json.dumps(failed.to_dict()))["status"] == "failed"
    assert store.export_scan_id("x2") == "s1" and store.export_scan_id("nope") is None
    assert store.get_export("nope") is None


def test_a_redelivered_artifact_with_other_bytes_replaces_the_record(store_url: str) -> None:
    store = ScanStore(store_url)
    store.register_export("x3", "s1", expected=["pdf"])
    assert store.record_artifact("x3", "pdf", result_id=None, location="file:///p", size=3, sha256="aa")
    assert not store.record_artifact("x3", "pdf", result_id=None, location="file:///p", size=3, sha256="aa")
    assert store.record_artifact("x3", "pdf", result_id=None, location="file:///p", size=4, sha256="bb")
    export = store.get_export("x3")
    assert export is not None and [(a["size"], a["sha256"]) for a in export.artifacts] == [(4, "bb")]


def test_export_completion_for_an_unregistered_export(store_url: str) -> None:
    store = ScanStore(store_url)
    payload = {"completed": False, "tasks": []}
    assert store.record_export_completed("lost", payload, raw_body=raw(payload))
    export = store.get_export("lost")
    assert export is not None and export.status == "failed"


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


def _login_once(url: str, holder: str, queue: Any) -> None:
    """What the hook's token cache does on a cold cache: one process logs in, the others reuse."""
    import time

    store = ScanStore(url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if store.get_token("acct") is not None:
            queue.put((holder, False))
            return
        if store.try_acquire_lease("login:acct", holder, 30):
            if store.get_token("acct") is None:  # re-check under the lease
                store.put_token("acct", holder.encode(), datetime.now(timezone.utc) + timedelta(hours=1))
                queue.put((holder, True))
            else:
                queue.put((holder, False))
            store.release_lease("login:acct", holder)
            return
        time.sleep(0.01)
    queue.put((holder, None))


def _write_events(url: str, worker: int, queue: Any) -> None:
    store = ScanStore(url)
    for n in range(25):
        store.record_event(f"w{worker}-{n}", "indexed", {"status": 3}, raw_body=b"i")
    queue.put(worker)


def _follow_events(url: str, stop: Any, queue: Any) -> None:
    """A triggerer's watcher: follow the global cursor until told to stop, then report."""
    import time

    store = ScanStore(url)
    cursor, seen = 0, []
    while True:
        finished = stop.is_set()
        events = store.events_after(cursor)
        seen.extend(e.scan_id for e in events)
        cursor = events[-1].id if events else cursor
        if finished and not events:
            queue.put(seen)
            return
        time.sleep(0.002)


def _create_schema(url: str, queue: Any) -> None:
    queue.put(ScanStore(url).schema_version())




def test_eight_processes_race_for_a_lease_and_one_wins(store_url: str) -> None:
    ScanStore(store_url)
    results = run_in_clean_processes(_race_lease, [(store_url, f"p{i}") for i in range(8)])
    assert sum(won for _, won in results) == 1


def test_a_cold_token_cache_under_eight_processes_yields_one_login(store_url: str) -> None:
    ScanStore(store_url)
    results = run_in_clean_processes(_login_once, [(store_url, f"p{i}") for i in range(8)])
    assert sorted(logged for _, logged in results).count(True) == 1
    assert None not in [logged for _, logged in results]
    token = ScanStore(store_url).get_token("acct")
    assert token is not None and token[0].decode() in {holder for holder, logged in results if logged}


def test_a_cursor_reader_misses_no_event_while_processes_write(store_url: str) -> None:
    ScanStore(store_url)
    ctx = clean_process_context(__name__)
    stop, seen = ctx.Event(), ctx.Queue()
    reader = ctx.Process(target=_follow_events, args=(store_url, stop, seen))
    reader.start()
    try:
        run_in_clean_processes(_write_events, [(store_url, i) for i in range(4)])
    finally:
        stop.set()
    followed = seen.get(timeout=30)
    reader.join(10)
    assert sorted(followed) == sorted(f"w{w}-{n}" for w in range(4) for n in range(25))


def test_get_store_caches_one_instance_per_url(store_url: str) -> None:
    from airflow_copyleaks.store import get_store

    assert get_store(store_url) is get_store(store_url)


def test_psycopg3_urls_work(postgres_server: Any) -> None:
    url = postgres_server.create_database("psycopg3_check").replace("postgresql+psycopg2", "postgresql+psycopg")
    store = ScanStore(url)
    assert store.register_scan("p3", kind="text", action="scan", sandbox=False)
    assert store.record_event("p3", "completed", COMPLETED, raw_body=raw(COMPLETED))
    assert store.get_scan("p3").status == "completed"  # type: ignore[union-attr]
    store.dispose()


def test_a_forked_child_does_not_reuse_the_parent_connections(store_url: str) -> None:
    store = ScanStore(store_url)
    store.register_scan("parent", kind="text", action="scan", sandbox=False)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        queue.put(
            store.get_scan("parent") is not None and store.register_scan("child", kind="t", action="a", sandbox=False)
        )

    proc = ctx.Process(target=child)
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0 and queue.get(timeout=5) is True
    assert store.get_scan("child") is not None  # and the parent's own connections still work


def test_eight_processes_create_the_schema_at_once(store_url: str) -> None:
    assert run_in_clean_processes(_create_schema, [(store_url,)] * 8) == [t.SCHEMA_VERSION] * 8


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


def test_exports_for_scan(store_url: str) -> None:
    store = ScanStore(store_url)
    store.register_export("x-a", "scan-1", expected=["pdf"])
    store.register_export("x-b", "scan-1", expected=["pdf"])
    store.register_export("x-c", "scan-2", expected=["pdf"])
    assert store.exports_for_scan("scan-1") == ["x-a", "x-b"]
    assert store.exports_for_scan("nope") == []


def test_request_slots_are_spaced_whoever_asks(store_url: str) -> None:
    """Four stores (four connections, as four processes) reserving at once get one slot each,
    ``interval`` apart: the account's rate holds across processes."""
    stores = [ScanStore(store_url) for _ in range(4)]
    slots: list[float] = []
    lock = threading.Lock()

    def reserve(store: ScanStore) -> None:
        for _ in range(10):
            slot = store.reserve_request_slot("rate:test", 0.01)
            with lock:
                slots.append(slot)

    threads = [threading.Thread(target=reserve, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    ordered = sorted(slots)
    assert len(set(ordered)) == 40
    # Epoch seconds near 1.8e9 carry ~2e-7 s of float rounding.
    assert all(b - a >= 0.01 - 1e-6 for a, b in itertools.pairwise(ordered))
    # An idle schedule does not hold old debt: the next request after a pause may go at once.
    time.sleep(0.5)
    assert stores[0].reserve_request_slot("rate:test", 0.01) <= time.time()
    for store in stores:
        store.dispose()


def test_a_version_3_store_with_json_in_text_columns_is_upgraded(store_url: str) -> None:
    """Stores written before the JSON column type held JSON text (PostgreSQL: ``text`` columns,
    converted to jsonb by the upgrade; an escaped NUL, which jsonb cannot hold, becomes U+FFFD)."""
    ScanStore(store_url).dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table, column in t.JSON_COLUMNS:
                conn.exec_driver_sql(f'ALTER TABLE {table.name} ALTER COLUMN "{column}" TYPE text')
        conn.execute(sa.update(t.schema_version).values(version=3))
        at = datetime.now(timezone.utc)
        conn.execute(
            sa.text(
                "INSERT INTO copyleaks_event (scan_id, event, digest, payload, received_at) "
                "VALUES ('old', 'newResult', 'd', :payload, :at)"
            ),
            {"payload": '{"score": 3, "text": "a\\u0000b"}', "at": at},
        )
        conn.execute(
            sa.text(
                "INSERT INTO copyleaks_check_result (scan_id, kind, summary, created_at) VALUES ('c', 'k', '{}', :at)"
            ),
            {"at": at},
        )
    engine.dispose()
    store = ScanStore(store_url)
    assert store.schema_version() == t.SCHEMA_VERSION
    payload = store.get_event_payload("old", "newResult")
    assert payload is not None and payload["score"] == 3
    assert payload["text"] in {"a\x00b", "a\ufffdb"}  # SQLite keeps the text as it was written
    assert store.get_check_result("c") == {}
    assert store.record_event("old", "completed", COMPLETED, raw_body=raw(COMPLETED))
    assert store.get_scan("old").score == 42.5  # type: ignore[union-attr]
    store.dispose()


def test_a_version_6_store_gains_the_check_columns_and_keeps_its_checks(store_url: str) -> None:
    """Version 7 adds each check's DAG, credits and sandbox flag; older checks keep them empty."""
    ScanStore(store_url).dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.update(t.schema_version).values(version=6))
        conn.exec_driver_sql("DROP INDEX ix_copyleaks_check_result_created")
        for column in t.CHECK_RESULT_COLUMNS:
            conn.exec_driver_sql(f'ALTER TABLE copyleaks_check_result DROP COLUMN "{column}"')
        conn.execute(
            sa.text(
                "INSERT INTO copyleaks_check_result (scan_id, kind, summary, created_at) VALUES ('c', 'k', '{}', :at)"
            ),
            {"at": datetime.now(timezone.utc)},
        )
    engine.dispose()
    store = ScanStore(store_url)
    assert store.schema_version() == t.SCHEMA_VERSION  # 7 or later: later versions run after it
    assert store.get_check_result("c") == {}
    assert store.save_check_result("m", "moderation", {}, dag_id="news", credits=2.0, sandbox=False)
    with store._read() as conn:
        rows = conn.execute(sa.select(t.check_result.c.scan_id, t.check_result.c.dag_id, t.check_result.c.credits))
        assert sorted(rows) == [("c", None, None), ("m", "news", 2.0)]
        indexes = {index["name"] for index in sa.inspect(conn).get_indexes(t.check_result.name)}
        assert "ix_copyleaks_check_result_created" in indexes
    store.dispose()


def test_a_version_8_store_gains_the_failed_delivery_column_and_keeps_its_scans(store_url: str) -> None:
    """Version 9 adds when the receiver last refused a delivery for each scan; none so far."""
    store = ScanStore(store_url)
    store.register_scan("s1", kind="text", action="scan", sandbox=False)
    store.dispose()
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.update(t.schema_version).values(version=8))
        conn.exec_driver_sql('ALTER TABLE copyleaks_scan DROP COLUMN "delivery_failed_at"')
    engine.dispose()
    store = ScanStore(store_url)
    assert store.schema_version() == t.SCHEMA_VERSION  # 9 or later: later versions run after it
    assert store.get_scan("s1") is not None and store.delivery_failures(["s1"]) == {}
    store.note_delivery_failures(["s1", "unknown"])
    assert set(store.delivery_failures(["s1", "unknown"])) == {"s1"}
    store.dispose()
