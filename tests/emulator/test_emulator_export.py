"""Export: artifacts pushed with verb and headers, real comparison offsets, completion webhook."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from airflow_copyleaks.testing.emulator import EmulatorClient
from tests.emulator.conftest import Api, Receiver

PREFIX = "Intro sentence written for this test only, nothing more to see here. "


def _completed_scan(api: Api, receiver: Receiver, text: str, **props: Any) -> dict[str, Any]:
    api.submit_text("exp-1", text, f"{receiver.url}/scan/{{STATUS}}", **props)
    return dict(receiver.wait("/scan/completed")[0].json())


def test_export_pushes_every_artifact(
    api: Api, emu: EmulatorClient, receiver: Receiver, corpus_text: Callable[[int], dict[str, Any]]
) -> None:
    doc = corpus_text(4)
    text = PREFIX + doc["text"]
    completed = _completed_scan(
        api,
        receiver,
        text,
        pdf={"create": True},
        aiGeneratedText={"detect": True},
        writingFeedback={"enable": True},
        developerPayload="dp",
    )
    result_id = completed["results"]["internet"][0]["id"]
    r = receiver.url
    body = {
        "completionWebhook": f"{r}/export/done",
        "completionWebhookHeaders": [["X-Done", "1"]],
        "maxRetries": 2,
        "developerPayload": "export-payload",
        "results": [{"id": result_id, "endpoint": f"{r}/export/result", "verb": "PUT", "headers": [["X-R", "r"]]}],
        "pdfReport": {"endpoint": f"{r}/export/pdf", "verb": "POST"},
        "crawledVersion": {"endpoint": f"{r}/export/crawled", "verb": "POST"},
        "aiDetection": {"endpoint": f"{r}/export/ai", "verb": "POST"},
        "writingFeedback": {"endpoint": f"{r}/export/wf", "verb": "POST"},
    }
    receiver.statuses = [500]  # the first push fails once and is retried
    resp = api.call("POST", "/v3/downloads/exp-1/export/export-1", json=body)
    assert resp.status_code == 200 and resp.json() == {}
    done = receiver.wait("/export/done")[0]
    assert done.headers["x-done"] == "1"
    completion = done.json()
    assert completion["completed"] is True and completion["developerPayload"] == "export-payload"
    assert [t["endpoint"].rsplit("/", 1)[1] for t in completion["tasks"]] == ["result", "pdf", "crawled", "ai", "wf"]
    assert all(t["isHealthy"] and t["httpStatusCode"] == 200 for t in completion["tasks"])

    pushes = receiver.matching("/export/result")
    assert [p.method for p in pushes] == ["PUT", "PUT"] and pushes[0].headers["x-r"] == "r"
    result = pushes[-1].json()
    comparison = result["text"]["comparison"]["identical"]
    assert result["text"]["value"] == doc["text"]
    assert result["statistics"]["identical"] == len(doc["text"].split())
    # Offsets are real: the ranges cut the same words out of the scanned text and the source.
    for i, start in enumerate(comparison["source"]["chars"]["starts"]):
        length = comparison["source"]["chars"]["lengths"][i]
        s_start = comparison["suspected"]["chars"]["starts"][i]
        s_len = comparison["suspected"]["chars"]["lengths"][i]
        assert re.findall(r"\w+", text[start : start + length]) == re.findall(
            r"\w+", result["text"]["value"][s_start : s_start + s_len]
        )
    assert comparison["source"]["words"]["starts"] == [len(PREFIX.split())]

    pdf = receiver.matching("/export/pdf")[0]
    assert pdf.body.startswith(b"%PDF-1.4") and pdf.body.rstrip().endswith(b"%%EOF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert doc["url"].encode() in pdf.body.replace(b") Tj T*\n(", b"")  # wrapped over two lines
    crawled = receiver.matching("/export/crawled")[0].json()
    assert crawled["text"]["value"] == text and crawled["metadata"]["words"] == len(text.split())
    assert receiver.matching("/export/ai")[0].json()["modelVersion"]
    assert "corrections" in receiver.matching("/export/wf")[0].json()
    # The same export id again is a conflict.
    assert api.call("POST", "/v3/downloads/exp-1/export/export-1", json=body).status_code == 409


def test_export_validation_and_rate_limit(
    api: Api, emu: EmulatorClient, receiver: Receiver, corpus_text: Callable[[int], dict[str, Any]]
) -> None:
    emu.set_config(export_per_minute=6)  # every export call counts, valid or not
    _completed_scan(api, receiver, corpus_text(5)["text"])
    hook = f"{receiver.url}/done"
    resp = api.call("POST", "/v3/downloads/exp-1/export/e-1", json={"maxRetries": 13})
    assert resp.status_code == 400 and {"completionWebhook", "maxRetries"} <= set(resp.json())
    resp = api.call(
        "POST",
        "/v3/downloads/exp-1/export/e-2",
        json={"completionWebhook": hook, "results": [{"id": "nope", "endpoint": hook, "verb": "POST"}]},
    )
    assert resp.status_code == 400 and "results[0].id" in resp.json()
    resp = api.call(
        "POST",
        "/v3/downloads/exp-1/export/e-3",
        json={"completionWebhook": hook, "pdfReport": {"endpoint": hook, "verb": "POST"}},
    )
    assert resp.status_code == 400 and "pdfReport" in resp.json()  # pdf.create was not set
    assert api.call("POST", "/v3/downloads/unknown/export/e-4", json={"completionWebhook": hook}).status_code == 404
    codes = [
        api.call("POST", f"/v3/downloads/exp-1/export/r-{i}", json={"completionWebhook": hook}).status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]


def test_an_export_is_delivered_after_its_processing_time(
    api: Api, emu: EmulatorClient, receiver: Receiver, corpus_text: Callable[[int], dict[str, Any]]
) -> None:
    # Copyleaks renders exports for a while: nothing arrives with the answer, everything comes later.
    emu.set_config(export_duration_seconds=3)
    _completed_scan(api, receiver, PREFIX + corpus_text(2)["text"], pdf={"create": True})
    r = receiver.url
    body = {"completionWebhook": f"{r}/export/done", "pdfReport": {"endpoint": f"{r}/export/pdf", "verb": "POST"}}
    assert api.call("POST", "/v3/downloads/exp-1/export/export-slow", json=body).status_code == 200
    assert receiver.matching("/export/") == []
    assert receiver.wait("/export/done", timeout=30)[0].json()["completed"] is True
    assert receiver.matching("/export/pdf")[0].body.startswith(b"%PDF-1.4")
