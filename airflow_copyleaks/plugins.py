"""Airflow plugin: the provider's two faces on the api-server, and its extra links.

- ``/copyleaks/ui``: what people open (reports, exported PDFs and results, the Copyleaks page),
  behind Airflow's login and DAG access (:mod:`airflow_copyleaks.ui.routes`);
- ``/copyleaks``: the webhook receiver, anonymous to Airflow and authenticated per delivery by
  its HMAC header. Without a ``[copyleaks] webhook_secret`` it is not mounted and a warning says
  why, instead of crashing the api-server: an unauthenticated receiver would accept forged results.

Plugins are loaded by every Airflow process (workers, scheduler, api-server), so this module stays
light: each app is built on its first request. The plugin is registered once, as an
``airflow.plugins`` entry point: Airflow reads that in every mode, while a provider info
``plugins`` key is read only with eager provider discovery (and both together register it twice).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_copyleaks.links import CopyleaksAuditReportLink, CopyleaksReportLink
from airflow_copyleaks.ui import locations

log = logging.getLogger(__name__)

URL_PREFIX = "/copyleaks"


class LazyApp:
    """An ASGI app that builds the real one on first use (thread-safe, once)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._app: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._factory()
        return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._get()(scope, receive, send)


def _receiver() -> Any:
    from airflow_copyleaks.webhooks.app import create_app

    return create_app()


def _ui() -> Any:
    from airflow_copyleaks.ui.routes import create_ui_app

    return create_ui_app()


def ui_apps() -> list[dict[str, Any]]:
    """The authenticated routes. Listed before the receiver: Airflow mounts in order, and the
    receiver's ``/copyleaks`` prefix would otherwise take ``/copyleaks/ui`` too."""
    return [{"app": LazyApp(_ui), "url_prefix": locations.URL_PREFIX, "name": "Copyleaks reports"}]


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
    return [{"app": LazyApp(_receiver), "url_prefix": URL_PREFIX, "name": "Copyleaks webhooks"}]


class CopyleaksPlugin(AirflowPlugin):
    name = "copyleaks"
    fastapi_apps = ui_apps() + receiver_apps()
    operator_extra_links = [CopyleaksReportLink(), CopyleaksAuditReportLink()]
    # Airflow 3.1+: a "Copyleaks" entry in the navigation, the page embedded in the UI.
    external_views = [
        {
            "name": "Copyleaks",
            "href": locations.page_url(),
            "destination": "nav",
            "category": "browse",
            "url_route": "copyleaks",
        }
    ]
