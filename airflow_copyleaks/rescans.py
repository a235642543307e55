"""Redo only what failed (``rescan_failed``): which items get a new scan id, and which one.

Scan ids are the idempotency key, so an item can only be scanned again under a new id. A new id
for every item (``force_new_scan``) pays again for everything; ``rescan_failed`` gives one only to
the items that need it: a scan that ended in a Copyleaks error a retry can fix (a download that
failed, a service temporarily unavailable, an internal error) or a paid check whose answer was
lost. Every other item keeps its id, so its result is read back instead of paid for.

The new id is derived from the one it replaces, so every try of the rescan derives it again (a
retry never pays twice), and later runs follow the chain to the newest scan of the item: a plain
rerun after a rescan reads the rescan's result, not the old failure.
"""

from __future__ import annotations

from collections.abc import Callable

from airflow_copyleaks import ids

#: Copyleaks error codes after which the same content may scan fine: 5 "Failed to download the
#: requested URL", 9 "Temporarily unavailable", 16 an internal error. Other codes (bad input,
#: no credits) would fail the same way again.
RETRYABLE_SCAN_ERRORS = frozenset({5, 9, 16})
#: Most rescans of one item: past them the item keeps failing with its last error.
MAX_RESCANS = 5


def rescan_id(scan_id: str) -> str:
    """The id that replaces ``scan_id`` when it is scanned again; it keeps the id's prefix, so
    indexed copies of an item still share one id pattern.

    :param scan_id: The id whose scan failed or whose answer was lost.
    """
    prefix = scan_id.split("-", 1)[0] if "-" in scan_id else ""
    return ids.derive_id("rescan", scan_id, prefix=prefix)


def is_retryable_error(status: str | None, error_code: object) -> bool:
    """Whether a scan that ended with ``status`` and ``error_code`` may succeed when scanned again.

    :param status: The scan's status in the store (``error`` for a failed scan).
    :param error_code: Copyleaks' error code as the store keeps it (text or a number).
    """
    if status != "error" or error_code is None:
        return False
    code = str(error_code).strip()
    return code.isdigit() and int(code) in RETRYABLE_SCAN_ERRORS


def current_scan_id(
    first_id: str, failed: Callable[[str], bool], known: Callable[[str], bool], *, rescan_failed: bool
) -> tuple[str, str | None]:
    """The id an item's scan goes by now, and the failed id it replaces (None when it is the first).

    Follows the chain of rescans from ``first_id``: past each id whose scan failed retryably to
    its successor, when the successor already exists (an earlier rescan) or when ``rescan_failed``
    asks for it.

    :param first_id: The item's id before any rescan (derived as usual).
    :param failed: Whether the scan of an id ended in a retryable error (read from the store).
    :param known: Whether an id was already used (registered in the store).
    :param rescan_failed: Create a new link for a failed scan; without it only existing links are followed.
    """
    scan_id, replaced = first_id, None
    for _ in range(MAX_RESCANS):
        if not failed(scan_id):
            break
        successor = rescan_id(scan_id)
        if not rescan_failed and not known(successor):
            break
        scan_id, replaced = successor, scan_id
    return scan_id, replaced
