"""Reading numbers out of loosely shaped responses (REFERENCE.md §14): shared by the summaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXCERPT_MAX_CHARS = 120


def credits_of(document: Any) -> float:
    """``actualCredits`` (what was charged), falling back to ``expectedCredits``."""
    if not isinstance(document, Mapping):
        return 0.0
    value = document.get("actualCredits", document.get("expectedCredits", 0))
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def excerpt(text: str, start: int, length: int) -> str:
    piece = text[max(0, start) : max(0, start) + max(0, length)]
    return piece if len(piece) <= EXCERPT_MAX_CHARS else piece[: EXCERPT_MAX_CHARS - 1] + "…"
