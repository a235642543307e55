"""Every input limit at its edge, against the emulator: the request exactly at the limit is sent
and accepted; one step past it is refused before any call, naming the field and the limit, and
costs nothing (no request reaches Copyleaks, no credit is spent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_copyleaks.exceptions import CopyleaksValidationError
from airflow_copyleaks.hooks.copyleaks import CopyleaksHook


def text_of(chars: int) -> str:
    """Readable text of exactly ``chars`` characters (words of five letters and a space)."""
    return ("words " * (chars // 6 + 1))[:chars].rstrip().ljust(chars, "s")


PLAIN = "The harbour board met on Tuesday to discuss the new ferry timetable."
# Scans report by webhook; nobody listens on port 9, which is fine: these tests look at the submit.
HOOKS = {"webhooks": {"status": "http://127.0.0.1:9/status/{STATUS}/edge"}}


def props(**extra: Any) -> dict[str, Any]:
    return {**HOOKS, **extra}


@dataclass(frozen=True)
class Edge:
    name: str
    at_limit: Callable[[CopyleaksHook], Any]
    past_limit: Callable[[CopyleaksHook], Any]
    field: str
    limit: str  # what the error must quote


EDGES = [
    Edge(
        "scan id 36 / 37 characters",
        lambda h: h.submit_text("a" * 36, PLAIN, props()),
        lambda h: h.submit_text("b" * 37, PLAIN, props()),
        "scan_id",
        "3 to 36 characters",
    ),
    Edge(
        "scan id 3 / 2 characters",
        lambda h: h.submit_text("abc", PLAIN, props()),
        lambda h: h.submit_text("ab", PLAIN, props()),
        "scan_id",
        "3 to 36 characters",
    ),
    Edge(
        "scan text 30 characters and 6 words / 29 characters",
        lambda h: h.submit_text("edge-text-ok", "one two three four five sixxxxx"[:30], props()),
        lambda h: h.submit_text("edge-text-short", "a b c d e f ghijklmnopqrstuvw", props()),
        "text",
        "at least 30 characters and 6 words",
    ),
    Edge(
        "developer payload 512 / 513 characters",
        lambda h: h.submit_text("edge-payload-ok", PLAIN, props(developerPayload="p" * 512)),
        lambda h: h.submit_text("edge-payload-long", PLAIN, props(developerPayload="p" * 513)),
        "properties.developerPayload",
        "512 characters",
    ),
    Edge(
        "file name 255 / 256 characters",
        lambda h: h.submit_file("edge-name-ok", PLAIN.encode(), "n" * 251 + ".txt", props()),
        lambda h: h.submit_file("edge-name-long", PLAIN.encode(), "n" * 252 + ".txt", props()),
        "filename",
        "255 characters",
    ),
    Edge(
        "start 100 / 101 scans in one call",
        lambda h: h.start([f"edge-start-{i:03d}" for i in range(100)]),
        lambda h: h.start([f"edge-start-{i:03d}" for i in range(101)]),
        "scan_ids",
        "100 ids per call",
    ),
    Edge(
        "moderation text 25,000 / 25,001 characters",
        lambda h: h.moderate_text("edge-mod-ok", text_of(25_000), labels=["toxic-v1"]),
        lambda h: h.moderate_text("edge-mod-long", text_of(25_001), labels=["toxic-v1"]),
        "text",
        "1 to 25000 characters",
    ),
    Edge(
        "AI detection text 255 / 254 characters",
        lambda h: h.detect_ai_text("edge-ai-ok", text_of(255)),
        lambda h: h.detect_ai_text("edge-ai-short", text_of(254)),
        "text",
        "255 to 25000 characters",
    ),
    Edge(
        "AI detection text 25,000 / 25,001 characters",
        lambda h: h.detect_ai_text("edge-ai-long-ok", text_of(25_000)),
        lambda h: h.detect_ai_text("edge-ai-too-long", text_of(25_001)),
        "text",
        "255 to 25000 characters",
    ),
    Edge(
        "writing feedback text 25,000 / 25,001 characters",
        lambda h: h.writing_feedback("edge-wf-ok", text_of(25_000)),
        lambda h: h.writing_feedback("edge-wf-long", text_of(25_001)),
        "text",
        "1 to 25000 characters",
    ),
]


@pytest.mark.parametrize("edge", EDGES, ids=[e.name for e in EDGES])
def test_limit_is_accepted_at_the_edge_and_refused_past_it_for_free(
    edge: Edge, hook: CopyleaksHook, copyleaks_emulator: Any
) -> None:
    edge.at_limit(hook)  # Copyleaks (the emulator) takes it: we are not stricter than the API
    calls_before = len(copyleaks_emulator.calls())
    credits_before = copyleaks_emulator.stats()["credits_used"]

    with pytest.raises(CopyleaksValidationError) as refused:
        edge.past_limit(hook)

    message = str(refused.value)
    assert refused.value.field == edge.field and message.startswith(f"{edge.field}:")
    assert edge.limit in message, message
    assert len(copyleaks_emulator.calls()) == calls_before, "a refused input must not reach Copyleaks"
    assert copyleaks_emulator.stats()["credits_used"] == credits_before
