"""The ScanStore and CopyleaksHook an operator or sensor talks through, built once per attempt."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook


class CopyleaksClientMixin:
    """Adds ``store`` and ``hook``; the class sets ``copyleaks_conn_id`` and may set ``store_url``.

    Both are imported lazily: DAG files import operators at parse time, and the hook pulls in
    requests and cryptography, the store SQLAlchemy.
    """

    copyleaks_conn_id: str
    store_url: str | None = None

    @cached_property
    def store(self) -> Any:
        from airflow_copyleaks.store import get_store
        from airflow_copyleaks.topology import display_url

        store = get_store(self.store_url)
        # Which store this task uses, by its identity: the receiver's /health shows the same id
        # when both share one store.
        log = getattr(self, "log", None)
        if log is not None:
            log.info("Copyleaks store %s (store id %s)", display_url(store.url), store.store_id())
        return store

    @cached_property
    def hook(self) -> CopyleaksHook:
        from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

        return CopyleaksHook(self.copyleaks_conn_id, store=self.store)
