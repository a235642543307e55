"""How our own published articles are indexed at Copyleaks, shared by every DAG that scans against them.

An article's indexed copies carry one scan-id prefix, so a later scan of the same article can
exclude them with one ``exclude_id_pattern`` and never match its own copy.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any


def index_prefix(key: str) -> str:
    """The scan-id prefix of an article's indexed copies: "ix" and the key (at most 8 characters
    in all, so keys longer than six letters and digits may share a prefix and exclude each other)."""
    return "ix" + re.sub(r"[^a-z0-9]", "", key.lower())[:6]


def archive_documents(source: Any, before: datetime) -> list[dict[str, str]]:
    """The Submit operator's documents for indexing the articles published before ``before``."""
    return [
        {"key": a.id, "path": source.text_location(a), "id_prefix": index_prefix(a.id)}
        for a in source.archive_before(before)
    ]
