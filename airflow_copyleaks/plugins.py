"""Airflow plugin: mounts the webhook receiver on the api-server under ``/copyleaks``.

Plugins are loaded by every Airflow process (workers, scheduler, api-server), so this module stays
light: the receiver (FastAPI app and store) is only built on its first request. Without a
``[copyleaks] webhook_secret`` nothing is mounted and a warning says why, instead of crashing the
api-server: an unauthenticated receiver would accept forged scan results.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_copyleaks.links import CopyleaksReportLink

log = logging.getLogger(__name__)

URL_PREFIX = "/copyleaks"


class LazyReceiver:
    """An ASGI app that builds the real receiver on first use (thread-safe, once)."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from airflow_copyleaks.webhooks.app import create_app

                    self._app = create_app()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._get()(scope, receive, send)


def receiver_apps() -> list[dict[str, Any]]:
    """``fastapi_apps`` entries: the receiver, or nothing when it could not authenticate webhooks."""
    try:
        from airflow_copyleaks import config

        if not config.webhook_secret() and not config.get_bool("allow_unauthenticated_webhooks"):
            log.warning(
                "Copyleaks webhook receiver NOT mounted on the api-server: [copyleaks] webhook_secret is not set "
                "(AIRFLOW__COPYLEAKS__WEBHOOK_SECRET). Set it so that Copyleaks' deliveries can be verified."
            )
            return []
    except Exception:  # never break plugin loading
        log.exception("Copyleaks webhook receiver NOT mounted: reading its settings failed")
        return []
    return [{"app": LazyReceiver(), "url_prefix": URL_PREFIX, "name": "Copyleaks webhooks"}]


class CopyleaksPlugin(AirflowPlugin):
    name = "copyleaks"
    fastapi_apps = receiver_apps()
    operator_extra_links = [CopyleaksReportLink()]
