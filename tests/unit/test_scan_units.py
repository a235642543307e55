"""Pure pieces of the scan operators and triggers: no store, no network."""

from __future__ import annotations

import json

import pytest

from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.scans.documents import documents_from, load
from airflow_copyleaks.scans.properties import (
    AiGeneratedText,
    Explain,
    Filters,
    IdRef,
    Pdf,
    PdfColors,
    Scanning,
    ScanningRepository,
    ScanProperties,
    properties_to_wire,
)
from airflow_copyleaks.triggers.scan import CopyleaksExportTrigger, CopyleaksScanTrigger, build_event
from airflow_copyleaks.waits.tasks import coerce_scan_ids, validate_scan_event


def test_properties_use_wire_names_and_leave_unset_out() -> None:
    props = ScanProperties(
        action="check-credits",
        sensitivity_level=3,
        scan_method_algorithm="maximum-results",
        author=IdRef("writer-7"),
        filters=Filters(domains=["example.com"], domains_mode="exclude", min_copied_words=5),
        scanning=Scanning(internet=True, repositories=[ScanningRepository("repo-1", include_my_submissions=True)]),
        pdf=Pdf(create=True, title="Audit", colors=PdfColors(main_strip="#112233")),
        ai_generated_text=AiGeneratedText(detect=True, explain=Explain(enable=True)),
        extra={"references": {"validate": True}},
    )
    assert properties_to_wire(props) == {
        "action": 1,
        "sensitivityLevel": 3,
        "scanMethodAlgorithm": 1,
        "author": {"id": "writer-7"},
        "filters": {"domains": ["example.com"], "domainsMode": 1, "minCopiedWords": 5},
        "scanning": {"internet": True, "repositories": [{"id": "repo-1", "includeMySubmissions": True}]},
        "pdf": {"create": True, "title": "Audit", "colors": {"mainStrip": "#112233"}},
        "aiGeneratedText": {"detect": True, "explain": {"enable": True}},
        "references": {"validate": True},
    }
    assert properties_to_wire(ScanProperties()) == {}


def test_properties_dict_passes_through_and_bad_enum_is_named() -> None:
    assert properties_to_wire({"sandbox": True, "action": "index-only"}) == {"sandbox": True, "action": 2}
    with pytest.raises(CopyleaksValidationError, match="properties.domainsMode"):
        properties_to_wire(ScanProperties(filters=Filters(domains_mode="sideways")))


def test_documents_keys_sources_and_problems(tmp_path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>hello</p>")
    docs = documents_from(
        [
            "plain text",
            {"key": "f", "path": str(page)},
            {"key": "u", "url": "https://x.test/a"},
            {"key": "bad", "text": "a", "url": "https://x"},
        ]
    )
    assert [(d.key, d.kind) for d in docs] == [("0", "text"), ("f", "file"), ("u", "url"), ("bad", "text")]
    assert load(docs[1]).filename == "page.html"  # a bare name, never the full path
    with pytest.raises(CopyleaksValidationError, match=r"documents\[bad\]: needs exactly one"):
        load(docs[3])
    with pytest.raises(CopyleaksValidationError, match="unique"):
        documents_from([{"key": "a", "text": "x"}, {"key": "a", "text": "y"}])


def test_scan_ids_from_lists_templates_and_upstream_results() -> None:
    assert coerce_scan_ids(["a1b", "c2d", "a1b"]) == ["a1b", "c2d"]
    assert coerce_scan_ids("['a1b', 'c2d']") == ["a1b", "c2d"]
    assert coerce_scan_ids('["a1b"]') == ["a1b"]
    assert coerce_scan_ids("a1b") == ["a1b"]
    assert coerce_scan_ids({"scan_ids": ["x1y"], "items": {}}) == ["x1y"]
    with pytest.raises(CopyleaksValidationError):
        coerce_scan_ids([])


def test_trigger_serialises_to_plain_json_and_round_trips() -> None:
    from airflow.models.trigger import Trigger

    trigger = CopyleaksScanTrigger(
        ["s-1", "s-2"],
        wanted="creditschecked",
        deadline=1.5e9,
        poll_interval=0.5,
        resend_after_seconds=30,
        store_url="sqlite:///x.db",
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_copyleaks.triggers.scan.CopyleaksScanTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert Trigger._decrypt_kwargs(Trigger.encrypt_kwargs(kwargs)) == kwargs  # what Airflow stores
    rebuilt = CopyleaksScanTrigger(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)
    assert rebuilt.wanted == ["creditsChecked"]
    export = CopyleaksExportTrigger("ex-1", scan_id="s-1", deadline=2.0)
    assert CopyleaksExportTrigger(**export.serialize()[1]).serialize() == export.serialize()
    with pytest.raises(ValueError, match="cannot wait for status"):
        CopyleaksScanTrigger(["s-1"], wanted="error")


def test_event_building_and_validation() -> None:
    scans = {"a": {"status": "completed", "summary": {"score": 12.5}}, "b": {"status": "error", "error": {"code": 13}}}
    event = build_event(["a", "b"], ["completed"], scans)
    assert event["status"] == "error" and event["failed"] == ["b"]
    assert event["scans"]["a"] == {"status": "completed", "score": 12.5}
    assert validate_scan_event(json.loads(json.dumps(event)), ["a", "b"])
    for bad in (None, "done", {"status": "weird", "scans": {}}, {"status": "success"}):
        with pytest.raises(Exception, match="Copyleaks trigger"):
            validate_scan_event(bad)
    with pytest.raises(Exception, match="lacks"):
        validate_scan_event(event, ["a", "c"])


def test_plugin_mounts_the_receiver_lazily_and_nothing_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, store_file: str
) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from airflow_copyleaks import plugins

    apps = plugins.receiver_apps()  # the session sets a webhook secret
    assert [(a["url_prefix"], a["name"]) for a in apps] == [("/copyleaks", "Copyleaks webhooks")]
    host = FastAPI()
    host.mount(apps[0]["url_prefix"], apps[0]["app"])  # what the api-server does
    assert TestClient(host).get("/copyleaks/health").status_code == 200
    assert plugins.CopyleaksPlugin.operator_extra_links

    monkeypatch.setenv("AIRFLOW__COPYLEAKS__WEBHOOK_SECRET", "")
    with caplog.at_level("WARNING"):
        assert plugins.receiver_apps() == []
    assert "NOT mounted" in caplog.text and "webhook_secret" in caplog.text


def test_a_store_url_password_in_trigger_arguments_is_masked() -> None:
    """Trigger arguments are printed with the trigger (triggerer logs): the password must not be."""
    from airflow.providers.common.compat.sdk import redact

    from airflow_copyleaks.triggers.scan import CopyleaksExportTrigger

    # Other tests of the session register secrets of their own: look only at this password.
    password = "store-password-9f3a7c"
    url = f"postgresql+psycopg://copyleaks:{password}@db.internal/copyleaks"
    assert password in redact(f"url={url}")
    trigger = CopyleaksScanTrigger(["af-one"], store_url=url)
    assert password not in redact(repr(trigger.serialize()))
    other = "export-store-pw-5d2e18"
    assert other in redact(other)
    CopyleaksExportTrigger("ex-one", scan_id="af-one", store_url=url.replace(password, other))
    assert other not in redact(f"url={url.replace(password, other)}")
