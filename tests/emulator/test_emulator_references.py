"""References validation in the emulator: the submit flag's 400s, and the completed webhook's
section (where it sits, what each reference says, the malformed variants for clients' tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_copyleaks.testing.emulator import EmulatorClient
from tests.emulator.conftest import Api, Receiver

TEXT = """Pools on the northern coast hold many species [1], says a survey; another page [2] disagrees.

References
[1] Example News, "{title}", {url}
[2] Doe, J., Limpets that sing, https://journal.invalid/limpets
"""


@pytest.mark.parametrize(
    ("references", "field"),
    [
        ({"validate": "yes"}, "properties.references.validate"),
        ({"validate": True, "crossCheck": 1}, "properties.references.crossCheck"),
        ("on", "properties.references"),
    ],
)
def test_a_non_boolean_references_flag_is_a_400_naming_the_field(
    api: Api, receiver: Receiver, references: Any, field: str
) -> None:
    resp = api.submit_text("refs-bad", "x " * 40, f"{receiver.url}/hook/{{STATUS}}", references=references)
    assert resp.status_code == 400 and field in resp.json(), resp.text


@pytest.mark.parametrize("placement", ["top", "results"])
def test_the_completed_webhook_carries_the_references_where_configured(
    api: Api,
    emu: EmulatorClient,
    receiver: Receiver,
    corpus_text: Callable[[int], dict[str, Any]],
    placement: str,
) -> None:
    emu.set_config(references_placement=placement)
    page = corpus_text(0)
    text = TEXT.format(title=page["title"], url=page["url"])
    resp = api.submit_text("refs-1", text, f"{receiver.url}/hook/{{STATUS}}", references={"validate": True})
    assert resp.status_code == 201, resp.text
    [hook] = receiver.wait("/hook/completed")
    body = hook.json()
    section = body["references"] if placement == "top" else body["results"]["references"]
    assert ("references" in body) == (placement == "top")
    assert section["summary"] == {"total": 2, "validated": 1, "unverifiable": 0, "fabricated": 1, "misattributed": 0}
    first, second = section["results"]
    assert (first["status"], first["type"], first["parsed"]["url"]) == ("validated", "nonAcademic", page["url"])
    assert first["suggestions"][0]["signals"]["title"] == "match"
    assert (second["status"], second["parsed"]["title"]) == ("fabricated", "Limpets that sing")
    assert "citedInText" not in first  # only with crossCheck
    assert emu.stats()["credits_used"] == 1  # no extra charge (none documented)


def test_without_the_flag_there_is_no_references_section(api: Api, receiver: Receiver) -> None:
    resp = api.submit_text("refs-2", TEXT.format(title="t", url="https://a.test/"), f"{receiver.url}/hook/{{STATUS}}")
    assert resp.status_code == 201
    [hook] = receiver.wait("/hook/completed")
    body = hook.json()
    assert "references" not in body and "references" not in body["results"]
