"""Asynchronous scans end to end: submit -> webhooks, scoring, credits, start, resend, delete."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from airflow_copyleaks.testing.emulator import EmulatorClient
from tests.emulator.conftest import Api, Receiver

ORIGINAL = (
    "My grandmother kept a notebook of recipes written in pencil, and every page smelled faintly of "
    "cinnamon. She never measured anything, so her instructions say things like a handful of oats or "
    "enough milk to make it shine. Cooking from that notebook is half guesswork and half memory."
)


def test_submit_completed_webhook_with_headers_and_status_substitution(
    api: Api, emu: EmulatorClient, receiver: Receiver, corpus_text: Callable[[int], dict[str, Any]]
) -> None:
    doc = corpus_text(0)
    resp = api.submit_text(
        "scan-1",
        doc["text"],
        f"{receiver.url}/hook/{{STATUS}}/scan-1",
        developerPayload="payload-1",
        webhooks={
            "status": f"{receiver.url}/hook/{{status}}/scan-1",
            "statusHeaders": [["X-Secret", "s3cret"], ["X-Other", "1"]],
        },
    )
    assert resp.status_code == 201 and resp.content == b""
    [hook] = receiver.wait("/hook/completed/scan-1")
    assert hook.method == "POST"
    assert hook.headers["x-secret"] == "s3cret" and hook.headers["content-type"] == "application/json"
    body = hook.json()
    assert body["status"] == 0 and body["developerPayload"] == "payload-1"
    sd = body["scannedDocument"]
    assert sd["scanId"] == "scan-1" and sd["totalWords"] == len(doc["text"].split())
    assert sd["credits"] == 1 and sd["metadata"]["filename"] == "doc.txt"
    results = body["results"]
    assert results["score"]["aggregatedScore"] == 100.0
    assert results["internet"][0]["url"] == doc["url"]
    assert results["internet"][0]["matchedWords"] == sd["totalWords"]
    assert set(results) == {"score", "internet", "database", "batch", "repositories"}
    assert body["notifications"] == {"alerts": []}
    assert emu.stats()["credits_used"] == 1


def test_partial_copy_and_original_text(
    api: Api, receiver: Receiver, corpus_text: Callable[[int], dict[str, Any]]
) -> None:
    copied = " ".join(corpus_text(3)["text"].split()[:40])
    mixed = ORIGINAL + " " + copied.upper()  # case and punctuation do not hide a copy
    api.submit_text("mixed", mixed, f"{receiver.url}/mixed/{{STATUS}}")
    api.submit_text("original", ORIGINAL, f"{receiver.url}/original/{{STATUS}}")
    score = receiver.wait("/mixed/completed")[0].json()["results"]["score"]
    total = len(mixed.split())
    assert score["identicalWords"] == 40 and score["aggregatedScore"] == round(100 * 40 / total, 1)
    original = receiver.wait("/original/completed")[0].json()["results"]
    assert original["score"]["aggregatedScore"] == 0 and original["internet"] == []


def test_indexed_document_found_under_database(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    api.submit_text("idx-1", ORIGINAL, f"{receiver.url}/idx/{{STATUS}}", action=2, developerPayload="p")
    assert receiver.wait("/idx/indexed")[0].json() == {"status": 3, "developerPayload": "p"}
    assert emu.stats()["credits_used"] == 0  # indexing is free
    api.submit_text("check-1", ORIGINAL, f"{receiver.url}/check/{{STATUS}}")
    results = receiver.wait("/check/completed")[0].json()["results"]
    assert results["internet"] == []
    assert results["database"][0]["scanId"] == "idx-1" and results["score"]["aggregatedScore"] == 100.0


def test_id_patterns_choose_which_indexed_documents_a_scan_is_compared_with(
    api: Api, emu: EmulatorClient, receiver: Receiver
) -> None:
    # Two indexed copies of one text: this article's own ("a12-...") and another article's ("a1-...").
    for scan_id in ("a12-v1", "a1-v1"):
        api.submit_text(scan_id, ORIGINAL, f"{receiver.url}/{scan_id}/{{STATUS}}", action=2)
        receiver.wait(f"/{scan_id}/indexed")

    def sources(scan_id: str, scanning: dict[str, Any]) -> list[str]:
        api.submit_text(scan_id, ORIGINAL, f"{receiver.url}/{scan_id}/{{STATUS}}", scanning=scanning)
        results = receiver.wait(f"/{scan_id}/completed")[0].json()["results"]
        return sorted(r["scanId"] for r in results["database"])

    assert sources("plain", {}) == ["a1-v1", "a12-v1"]
    # "*" is any run of characters; the whole id must match ("a1-*" is not "a12-v1").
    assert sources("ex-own", {"exclude": {"idPattern": "a12-*"}}) == ["a1-v1"]
    assert sources("ex-other", {"exclude": {"idPattern": "a1-*"}}) == ["a12-v1"]
    # "." is one non-whitespace character.
    assert sources("ex-dot", {"exclude": {"idPattern": "a1.-v1"}}) == ["a1-v1"]
    assert sources("in-own", {"include": {"idPattern": "a12-*"}}) == ["a12-v1"]


def test_price_check_then_start(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    long_text = " ".join(f"{ORIGINAL} Variation number {i}." for i in range(6))  # > 250 words
    # The Java SDK sends enum names.
    api.submit_text("pc-1", long_text, f"{receiver.url}/pc/{{STATUS}}", action="CheckCredits")
    checked = receiver.wait("/pc/creditsChecked")[0].json()
    assert checked["status"] == 2 and checked["credits"] == 2
    assert checked["scannedDocument"]["scanId"] == "pc-1"
    assert emu.stats()["credits_used"] == 0
    resp = api.call("PATCH", "/v3/scans/start", json={"trigger": ["pc-1", "unknown"], "errorHandling": 0})
    assert resp.json() == {"success": [], "failed": ["pc-1", "unknown"]}
    resp = api.call("PATCH", "/v3/scans/start", json={"trigger": ["pc-1", "unknown"], "errorHandling": "Ignore"})
    assert resp.status_code == 200 and resp.json() == {"success": ["pc-1"], "failed": ["unknown"]}
    completed = receiver.wait("/pc/completed")[0].json()
    assert completed["scannedDocument"]["credits"] == 2
    assert emu.stats()["credits_used"] == 2 and emu.stats()["credits_remaining"] == 998
    again = api.call("PATCH", "/v3/scans/start", json={"trigger": ["pc-1"], "errorHandling": 1})
    assert again.json()["failed"] == ["pc-1"]  # already started
    assert api.call("PATCH", "/v3/scans/start", json={}).json() == {
        "trigger": ["The trigger field is required.", "Cannot be null"]
    }


def test_error_webhooks(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    api.submit_text("short", "too short", f"{receiver.url}/short/{{STATUS}}", developerPayload="d")
    err = receiver.wait("/short/error")[0].json()
    assert err["status"] == 1 and err["developerPayload"] == "d"
    assert err["error"]["code"] == 11 and err["error"]["type"] == "invalid_request_error"
    emu.set_config(credits=0)
    api.submit_text("poor", ORIGINAL, f"{receiver.url}/poor/{{STATUS}}")
    err = receiver.wait("/poor/error")[0].json()["error"]
    assert err["code"] == 13 and err["type"] == "payment_error" and "required 1 credits" in err["message"]
    api.submit_text("bad-type", ORIGINAL, f"{receiver.url}/type/{{STATUS}}", filename="x.exe")
    assert receiver.wait("/type/error")[0].json()["error"]["code"] == 10


def test_submit_validation(api: Api) -> None:
    good = base64.b64encode(ORIGINAL.encode()).decode()
    resp = api.call(
        "PUT", "/v3/scans/submit/file/val-1", json={"base64": good, "filename": "a.txt", "properties": {"webhooks": {}}}
    )
    assert resp.status_code == 400 and resp.json() == {"properties.webhooks.status": ["The field is required."]}
    resp = api.call("PUT", "/v3/scans/submit/file/val-2", json={"properties": {"webhooks": {"status": "http://x/y"}}})
    assert set(resp.json()) == {"base64", "filename"}
    props = {"webhooks": {"status": "http://127.0.0.1:9/x"}, "developerPayload": "x" * 513}
    resp = api.call(
        "PUT", "/v3/scans/submit/file/val-3", json={"base64": good, "filename": "a.txt", "properties": props}
    )
    assert "properties.developerPayload" in resp.json()
    for bad_id in ("ab", "x" * 37, "UPPER", "has space"):
        resp = api.call(
            "PUT",
            f"/v3/scans/submit/file/{bad_id}",
            json={"base64": good, "filename": "a.txt", "properties": {"webhooks": {"status": "http://x/y"}}},
        )
        assert resp.status_code == 400 and "scanId" in resp.json(), bad_id
    # %2F decodes to "/", one of the allowed symbols.
    body = {"base64": good, "filename": "a.txt", "properties": {"webhooks": {"status": "http://127.0.0.1:9/x"}}}
    assert api.call("PUT", "/v3/scans/submit/file/a%2Fb", json=body).status_code == 201
    assert api.call("PUT", "/v3/scans/submit/file/a%2Fb", json=body).status_code == 409


def test_webhook_retries_then_success(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    api.submit_text("retry-1", ORIGINAL, f"{receiver.url}/retry/{{STATUS}}")
    hooks = receiver.wait("/retry/completed", 3)
    assert len({h.body for h in hooks}) == 1
    scan = emu.wait_for(lambda: (s := emu.scan("retry-1")) and len(s["webhooks"]) == 3 and s)
    assert [w["statusCode"] for w in scan["webhooks"]] == [500, 503, 200]
    stats = emu.stats()
    assert stats["webhooks_sent"] == 3 and stats["webhook_failures"] == 2


@pytest.mark.parametrize(("retry_on", "attempts"), [("5xx", [422]), ("any", [422, 200])])
def test_a_4xx_answer_is_retried_only_when_configured(
    api: Api, emu: EmulatorClient, receiver: Receiver, retry_on: str, attempts: list[int]
) -> None:
    """Copyleaks documents retries for no answer and 5xx: a receiver's 4xx loses the webhook."""
    emu.set_config(webhook_retry_on=retry_on)
    receiver.statuses = [422]
    api.submit_text("four-1", ORIGINAL, f"{receiver.url}/four/{{STATUS}}")
    receiver.wait("/four/completed", len(attempts))
    emu.wait_for(lambda: len(emu.scan("four-1")["webhooks"]) >= len(attempts))
    time.sleep(0.5)  # past every retry delay (0.05 to 0.2 s here): no further attempt comes
    assert [w["statusCode"] for w in emu.scan("four-1")["webhooks"]] == attempts


def test_webhook_faults_duplicate_drop_fail(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    emu.add_webhook_fault("duplicate")
    api.submit_text("dup-1", ORIGINAL, f"{receiver.url}/dup/{{STATUS}}")
    assert len(receiver.wait("/dup/completed", 2)) == 2
    emu.add_webhook_fault("drop")
    api.submit_text("drop-1", ORIGINAL, f"{receiver.url}/drop/{{STATUS}}")
    scan = emu.wait_for_status("drop-1")
    assert scan["webhooks"][0]["dropped"] is True and receiver.matching("/drop") == []
    emu.add_webhook_fault("fail_status", count=2, status=502)
    api.submit_text("fail-1", ORIGINAL, f"{receiver.url}/fail/{{STATUS}}")
    receiver.wait("/fail/completed")
    # The emulator logs an attempt once it has the answer, a moment after the receiver saw it.
    emu.wait_for(lambda: len(emu.scan("fail-1")["webhooks"]) >= 3)
    assert [a["statusCode"] for a in emu.scan("fail-1")["webhooks"]] == [502, 502, 200]
    emu.add_webhook_fault("delay", delay_seconds=0.3)
    api.submit_text("late-1", ORIGINAL, f"{receiver.url}/late/{{STATUS}}")
    assert receiver.matching("/late") == []
    receiver.wait("/late/completed")


def test_resend_and_delete(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    assert api.call("POST", "/v3/scans/nope/webhooks/resend").status_code == 404
    emu.set_config(scan_duration_seconds=0.5)
    api.submit_text("rs-1", ORIGINAL, f"{receiver.url}/rs/{{STATUS}}")
    assert api.call("POST", "/v3/scans/rs-1/webhooks/resend").status_code == 400  # still running
    first = receiver.wait("/rs/completed")[0]
    resp = api.call("POST", "/v3/scans/rs-1/webhooks/resend")
    assert resp.status_code == 202 and resp.json() == {}
    assert receiver.wait("/rs/completed", 2)[1].body == first.body
    resp = api.call(
        "PATCH",
        "/v3.1/scans/delete",
        json={
            "scans": [{"id": "rs-1"}],
            "purge": True,
            "completionWebhook": f"{receiver.url}/deleted",
            "headers": [["X-Del", "yes"]],
        },
    )
    assert resp.status_code == 202 and resp.json() == {}
    [done] = receiver.wait("/deleted")
    assert done.body == b"" and done.headers["x-del"] == "yes"
    assert api.call("POST", "/v3/scans/rs-1/webhooks/resend").status_code == 404
    assert api.submit_text("rs-1", ORIGINAL, f"{receiver.url}/rs/{{STATUS}}").status_code == 409


def test_new_result_webhooks_use_both_score_shapes(
    api: Api, receiver: Receiver, corpus_text: Callable[[int], dict[str, Any]]
) -> None:
    text = corpus_text(1)["text"] + " " + corpus_text(2)["text"]
    api.submit_text(
        "nr-1",
        text,
        f"{receiver.url}/nr/{{STATUS}}",
        webhooks={
            "status": f"{receiver.url}/nr/{{STATUS}}",
            "newResult": f"{receiver.url}/new",
            "newResultHeaders": [["X-New", "1"]],
        },
    )
    receiver.wait("/nr/completed")
    news = receiver.matching("/new")
    assert len(news) == 2 and all(n.headers["x-new"] == "1" for n in news)
    scores = [n.json()["score"] for n in news]
    assert isinstance(scores[0], dict) and isinstance(scores[1], float)
    assert scores[1] == 100.0 and 0 < scores[0]["aggregatedScore"] < 100


def test_url_submit_and_ocr(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    emu.add_document("https://example-news.test/mine", ORIGINAL, title="Mine")
    status = f"{receiver.url}/url/{{STATUS}}"
    resp = api.call(
        "PUT",
        "/v3/scans/submit/url/u-1",
        json={"url": "https://example-news.test/mine", "properties": {"webhooks": {"status": status}}},
    )
    assert resp.status_code == 201
    body = receiver.wait("/url/completed")[0].json()
    assert body["scannedDocument"]["metadata"]["finalUrl"] == "https://example-news.test/mine"
    hooks = {"webhooks": {"status": f"{receiver.url}/u2/{{STATUS}}"}}
    api.call("PUT", "/v3/scans/submit/url/u-2", json={"url": "https://nowhere.test/x", "properties": hooks})
    assert receiver.wait("/u2/error")[0].json()["error"]["code"] == 5
    # OCR: the image's text lives in a PNG tEXt chunk; the Python SDK path is accepted too.
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Text", ORIGINAL)
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buf, "PNG", pnginfo=meta)
    for path, name in (("/v3/scans/submit/ocr/o-1", "o1"), ("/v3/scans/submit/file/ocr/o-2", "o2")):
        resp = api.call(
            "PUT",
            path,
            json={
                "base64": base64.b64encode(buf.getvalue()).decode(),
                "filename": "p.png",
                "langCode": "en",
                "properties": {"webhooks": {"status": f"{receiver.url}/{name}/{{STATUS}}"}},
            },
        )
        assert resp.status_code == 201
        hook = receiver.wait(f"/{name}/completed")[0].json()
        assert hook["results"]["database"] == [] and hook["scannedDocument"]["totalWords"] == len(ORIGINAL.split())


def test_sandbox_scan_is_free(api: Api, emu: EmulatorClient, receiver: Receiver) -> None:
    api.submit_text("sb-1", ORIGINAL, f"{receiver.url}/sb/{{STATUS}}", sandbox=True)
    body = receiver.wait("/sb/completed")[0].json()
    assert body["results"]["internet"][0]["url"] == "https://example-sandbox.test/mock-result"
    assert body["scannedDocument"]["credits"] == 0 and emu.stats()["credits_used"] == 0


@pytest.mark.parametrize("raw_id", ["abc%0A", "abc%0D%0A", "%0Aabc"])
def test_scan_id_with_an_encoded_newline_is_refused_and_nothing_charged(
    api: Api, emu: EmulatorClient, receiver: Receiver, raw_id: str
) -> None:
    resp = api.submit_text(raw_id, ORIGINAL, f"{receiver.url}/hook/{{STATUS}}/abc")
    assert resp.status_code == 400, (resp.text, emu.calls()[-1:], api.url)
    assert emu.scans() == []
    assert emu.stats()["credits_used"] == 0
    resend = api.call("POST", f"/v3/scans/{raw_id}/webhooks/resend")
    assert resend.status_code in (400, 404), resend.text
