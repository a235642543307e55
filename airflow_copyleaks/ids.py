"""Deterministic scan and export ids: the provider's idempotency key (DESIGN.md decision 2).

A retried or cleared task derives the same id again, so Copyleaks answers 409 instead of
charging twice. Ids are lower-case hex behind a short readable prefix, within Copyleaks' rules
(3 to 36 characters, ``[a-z0-9]`` and a few symbols), and never contain a path separator.
"""

from __future__ import annotations

import hashlib
import re

ID_MAX = 36
_PREFIX_MAX = 8
_SEPARATOR = "\x1f"  # cannot occur in dag ids, task ids or run ids, so parts never run together


def _prefix(prefix: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]", "", prefix.lower())[:_PREFIX_MAX]
    return f"{cleaned}-" if cleaned else ""


def derive_id(*parts: object, prefix: str = "af") -> str:
    """A stable id from ``parts``: the same parts always give the same id."""
    material = _SEPARATOR.join(str(p) for p in parts).encode()
    head = _prefix(prefix)
    digest = hashlib.sha256(material).hexdigest()[: ID_MAX - len(head)]
    return head + digest


def scan_id_for_task(
    dag_id: str,
    task_id: str,
    run_id: str,
    map_index: int,
    document_key: str,
    *,
    nonce: str = "",
    prefix: str = "af",
) -> str:
    """The default scan id: one per document per task instance (the same on retry or clear)."""
    return derive_id("task", dag_id, task_id, run_id, map_index, document_key, nonce, prefix=prefix)


def scan_id_for_content(
    namespace: str, document_key: str, content_sha256: str, *, nonce: str = "", prefix: str = "af"
) -> str:
    """A scan id tied to what is scanned, not to the run: a new run over unchanged content
    reuses it, so re-triggering a DAG does not pay again (``force`` sets a nonce)."""
    return derive_id("content", namespace, document_key, content_sha256, nonce, prefix=prefix)


def force_nonce(run_id: str) -> str:
    """The nonce of a deliberate rescan (``force_new_scan``): new ids once per DAG run and the
    same on every try of it, so a retry after a partial failure does not pay again for what the
    forced try already sent."""
    return f"force-{run_id}"


def content_sha256(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()
