"""The webhook receiver: one FastAPI app, mounted in the api-server or served on its own.

The routes are module-level routers (``routes.py``), their checks FastAPI dependencies
(``dependencies.py``: credential first, then a bounded body parsed off the event loop), the body
shapes Pydantic models (``payloads.py``), and the store reached through the receiver's own threads
(``gate.py``). This module only assembles an app from settings.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from airflow_copyleaks import config
from airflow_copyleaks.webhooks.artifacts import ArtifactWriter
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER
from airflow_copyleaks.webhooks.dependencies import DELETE_KEY_PREFIX, MAX_ID_LENGTH, ReceiverConfig
from airflow_copyleaks.webhooks.gate import RETRY_AFTER_HINT, StoreGate, StoreUnavailable
from airflow_copyleaks.webhooks.payloads import NUMBER_LIMIT
from airflow_copyleaks.webhooks.routes import ARTIFACT_ROUTES, STATUSES, artifacts, deliveries, health_router

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore

__all__ = [
    "ARTIFACT_ROUTES",
    "DELETE_KEY_PREFIX",
    "MAX_ID_LENGTH",
    "NUMBER_LIMIT",
    "STATUSES",
    "create_app",
    "get_app",
]

log = logging.getLogger(__name__)


def create_app(
    *,
    store: ScanStore | None = None,
    secret: str | None = None,
    previous_secrets: list[str] | None = None,
    artifacts_url: str | None = None,
    allow_unauthenticated: bool | None = None,
    max_body_bytes: int | None = None,
    expose_docs: bool | None = None,
    gate: StoreGate | None = None,
) -> FastAPI:
    """Build the receiver. Without a secret it refuses to start unless told it is a local test.

    Every argument left as None comes from the ``[copyleaks]`` configuration.

    :param store: the store to write to; None opens ``[copyleaks] store_url`` on first delivery.
    :param secret: the current webhook secret (``webhook_secret``).
    :param previous_secrets: secrets still accepted while they are rotated out
        (``webhook_previous_secrets``, comma-separated).
    :param artifacts_url: where exported artifacts are written (``artifacts_url``).
    :param allow_unauthenticated: start without a secret (``allow_unauthenticated_webhooks``).
    :param max_body_bytes: the largest artifact body (``max_webhook_body_bytes``); JSON deliveries
        are held to ``max_webhook_json_bytes`` or this, whichever is smaller.
    :param expose_docs: serve ``/docs``, ``/redoc`` and ``/openapi.json`` (``expose_receiver_docs``).
    :param gate: how the store is reached (threads, outage memory); built from ``store`` if None.
    """
    secrets = _secrets(secret, previous_secrets, allow_unauthenticated)
    artifact_limit = max_body_bytes or int(config.get_setting("max_webhook_body_bytes"))
    docs = expose_docs if expose_docs is not None else config.get_bool("expose_receiver_docs")
    app = FastAPI(
        title="Copyleaks webhook receiver",
        description=(
            "Receives Copyleaks webhooks for airflow-provider-copyleaks and records them in the ScanStore. "
            f"Every delivery carries the `{TOKEN_HEADER}` header the provider handed to Copyleaks."
        ),
        version=_version(),
        # Airflow does not authenticate a plugin's app: its schema is not for the internet.
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.state.copyleaks = ReceiverConfig(
        secrets=secrets,
        json_limit=min(artifact_limit, int(config.get_setting("max_webhook_json_bytes"))),
        artifact_limit=artifact_limit,
        writer=ArtifactWriter(artifacts_url or config.artifacts_url()),
        gate=gate or StoreGate(store, threads=int(config.get_setting("receiver_threads"))),
    )
    app.add_exception_handler(StoreUnavailable, _store_unavailable)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    for router in (deliveries, artifacts, health_router):
        app.include_router(router)
    return app


def _secrets(secret: str | None, previous: list[str] | None, allow_unauthenticated: bool | None) -> tuple[str, ...]:
    """The secrets deliveries are checked against, current first; none only for a local test."""
    secret = secret if secret is not None else config.webhook_secret()
    previous = previous if previous is not None else config.webhook_previous_secrets()
    unauthenticated = (
        allow_unauthenticated
        if allow_unauthenticated is not None
        else config.get_bool("allow_unauthenticated_webhooks")
    )
    if not secret and not unauthenticated:
        raise RuntimeError(
            "The Copyleaks webhook receiver needs a secret: set [copyleaks] webhook_secret "
            "(environment: AIRFLOW__COPYLEAKS__WEBHOOK_SECRET). For a local test only, set "
            "[copyleaks] allow_unauthenticated_webhooks = True."
        )
    if not secret:
        log.warning("The Copyleaks webhook receiver accepts unauthenticated deliveries (local testing only)")
        return ()
    return tuple(dict.fromkeys(s for s in (secret, *previous) if s))


async def _store_unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
    # Not a 2xx, so Copyleaks delivers again; a clean answer (no traceback, connection kept).
    # Its retries may run out before the store is back: the waits will resend the scan early.
    scan_id = request.path_params.get("scan_id")
    if isinstance(scan_id, str) and len(scan_id) <= MAX_ID_LENGTH and "\x00" not in scan_id:
        request.app.state.copyleaks.gate.note_refused(scan_id)
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_HINT)})


async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
    # One documented error shape for every refusal: {"detail": "..."}.
    where = [".".join(str(p) for p in error.get("loc", ())) for error in exc.errors()]
    return JSONResponse({"detail": f"invalid request: {', '.join(where)}"}, status_code=422)


def _version() -> str:
    from airflow_copyleaks import __version__

    return __version__


_app: FastAPI | None = None
_app_lock = threading.Lock()


def get_app() -> FastAPI:
    """The app built from configuration, once per process (for the plugin and the CLI)."""
    global _app
    with _app_lock:
        if _app is None:
            _app = create_app()
        return _app
