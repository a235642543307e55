"""The ScanStore: webhook events, scan status, export artifacts and the shared token cache."""

from __future__ import annotations

import threading

from airflow_copyleaks.store.scan_store import ExportStatus, ScanStatus, ScanStore, StoredEvent

__all__ = ["ExportStatus", "ScanStatus", "ScanStore", "StoredEvent", "get_store"]

_stores: dict[str, ScanStore] = {}
_lock = threading.Lock()


def get_store(url: str | None = None) -> ScanStore:
    """The process's ScanStore for ``url`` (default: ``[copyleaks] store_url``), created once."""
    from airflow_copyleaks.config import store_url

    key = url or store_url()
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = ScanStore(key)
        return store
