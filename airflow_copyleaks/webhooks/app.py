"""The webhook receiver: one FastAPI app, mounted in the api-server or served on its own.

Each delivery is authenticated first (per-scan HMAC header; nothing is read or stored for a
wrong one), its body is read up to a size limit, checked leniently against the shapes Copyleaks
sends, stored once in the ScanStore, and answered at once: Copyleaks gives up after 70 seconds,
and the receiver's work is a few milliseconds of SQL.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from airflow_copyleaks import config
from airflow_copyleaks.webhooks.artifacts import ArtifactWriter
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, verify_token

log = logging.getLogger(__name__)

STATUSES = {s.lower(): s for s in ("completed", "error", "creditsChecked", "indexed")}
ARTIFACT_ROUTES = {
    "pdf-report": "pdf",
    "crawled-version": "crawled",
    "ai-detection": "ai",
    "writing-feedback": "writing",
}


class Stored(BaseModel):
    """What the receiver answers: whether this delivery was new (False for a duplicate)."""

    stored: bool


class Health(BaseModel):
    status: str
    schema_version: int


TokenHeader = Annotated[str | None, Header(alias=TOKEN_HEADER, description="Per-scan HMAC credential")]
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not JSON"},
    401: {"description": "Missing or wrong webhook credential; nothing was stored"},
    413: {"description": "The body is larger than [copyleaks] max_webhook_body_bytes"},
    422: {"description": "The JSON does not have the shape Copyleaks sends"},
}


class ReceiverError(HTTPException):
    pass


def create_app(
    *,
    store: Any | None = None,
    secret: str | None = None,
    artifacts_url: str | None = None,
    allow_unauthenticated: bool | None = None,
    max_body_bytes: int | None = None,
) -> FastAPI:
    """Build the receiver. Without a secret it refuses to start unless told it is a local test."""
    secret = secret if secret is not None else config.get_setting("webhook_secret")
    unauthenticated = (
        allow_unauthenticated
        if allow_unauthenticated is not None
        else config.get_bool("allow_unauthenticated_webhooks")
    )
    if not secret and not unauthenticated:
        raise RuntimeError(
            "The Copyleaks webhook receiver needs a secret: set [copyleaks] webhook_secret "
            "(AIRFLOW__COPYLEAKS__WEBHOOK_SECRET). For a local test only, set "
            "allow_unauthenticated_webhooks = True."
        )
    limit = max_body_bytes or int(config.get_setting("max_webhook_body_bytes"))
    writer = ArtifactWriter(artifacts_url or config.artifacts_url())
    state: dict[str, Any] = {"store": store}

    def get_store() -> Any:
        if state["store"] is None:
            from airflow_copyleaks.store import get_store as configured_store

            state["store"] = configured_store()
        return state["store"]

    def authenticate(purpose: str, ident: str, presented: str | None) -> None:
        if not secret:
            return  # allow_unauthenticated: local tests only (checked above)
        if not verify_token(secret, purpose, ident, presented):
            raise ReceiverError(401, "missing or wrong webhook credential")

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ReceiverError(413, f"body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ReceiverError(413, f"body larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_json(request: Request) -> tuple[dict[str, Any], bytes]:
        raw = await read_body(request)
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise ReceiverError(400, "body is not JSON") from err
        if not isinstance(payload, dict):
            raise ReceiverError(422, "body must be a JSON object")
        return payload, raw

    router = APIRouter()

    @router.post("/status/{status}/{scan_id:path}", response_model=Stored, responses=_RESPONSES)
    async def status_webhook(status: str, scan_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """Copyleaks' scan status webhook (completed, error, creditsChecked, indexed)."""
        event = STATUSES.get(status.lower())
        if event is None:
            raise ReceiverError(404, f"unknown status {status!r}")
        authenticate("scan", scan_id, token)
        payload, raw = await read_json(request)
        _check_status_payload(event, payload)
        # Store calls block: run them off the event loop so one slow write never stalls other deliveries.
        new = await run_in_threadpool(get_store().record_event, scan_id, event, payload, raw_body=raw)
        return Stored(stored=new)

    @router.post("/new-result/{scan_id:path}", response_model=Stored, responses=_RESPONSES)
    async def new_result(scan_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """A result found while the scan is still running."""
        authenticate("scan", scan_id, token)
        payload, raw = await read_json(request)
        score = payload.get("score")
        if score is not None and not isinstance(score, (int, float, dict)):
            raise ReceiverError(422, "score must be a number or an object")
        return Stored(
            stored=await run_in_threadpool(get_store().record_event, scan_id, "newResult", payload, raw_body=raw)
        )

    async def store_artifact(
        export_id: str, kind: str, result_id: str | None, request: Request, token: str | None
    ) -> Stored:
        authenticate("export", export_id, token)
        data = await read_body(request)
        if kind != "pdf":
            try:
                json.loads(data)
            except (ValueError, UnicodeDecodeError) as err:
                raise ReceiverError(400, "artifact body is not JSON") from err
        written = await run_in_threadpool(writer.write, export_id, kind, result_id, data)
        new = await run_in_threadpool(
            get_store().record_artifact,
            export_id,
            kind,
            result_id=result_id,
            location=written.location,
            size=written.size,
            sha256=written.sha256,
        )
        return Stored(stored=new)

    @router.api_route(
        "/export/{export_id:path}/results/{result_id:path}",
        methods=["PUT", "POST"],
        response_model=Stored,
        responses=_RESPONSES,
    )
    async def export_result(export_id: str, result_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """One exported plagiarism result (JSON)."""
        return await store_artifact(export_id, "result", result_id, request, token)

    for path, kind in ARTIFACT_ROUTES.items():

        async def export_artifact(
            export_id: str, request: Request, token: TokenHeader = None, _kind: str = kind
        ) -> Stored:
            return await store_artifact(export_id, _kind, None, request, token)

        router.add_api_route(
            f"/export/{{export_id:path}}/{path}",
            export_artifact,
            methods=["PUT", "POST"],
            response_model=Stored,
            responses=_RESPONSES,
            name=f"export_{kind}",
            summary=f"Exported {path.replace('-', ' ')}",
        )

    @router.post("/export/{export_id:path}/completed", response_model=Stored, responses=_RESPONSES)
    async def export_completed(export_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """Copyleaks finished pushing an export: which tasks were healthy."""
        authenticate("export", export_id, token)
        payload, raw = await read_json(request)
        if not isinstance(payload.get("tasks", []), (list, dict)):
            raise ReceiverError(422, "tasks must be a list")
        if isinstance(payload.get("tasks"), dict):  # the Node SDK's single-object shape
            payload["tasks"] = [payload["tasks"]]
        return Stored(
            stored=await run_in_threadpool(get_store().record_export_completed, export_id, payload, raw_body=raw)
        )

    @router.post("/delete/{request_id:path}/completed", response_model=Stored, responses=_RESPONSES)
    async def delete_completed(request_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """Copyleaks finished deleting scans (the request has no body)."""
        authenticate("delete", request_id, token)
        raw = await read_body(request)
        new = await run_in_threadpool(get_store().record_event, f"delete:{request_id}", "deleted", {}, raw_body=raw)
        return Stored(stored=new)

    @router.get("/health", response_model=Health)
    def health() -> Health:
        """Whether the receiver can reach its store."""
        return Health(status="ok", schema_version=get_store().schema_version())

    app = FastAPI(
        title="Copyleaks webhook receiver",
        description="Receives Copyleaks webhooks for airflow-provider-copyleaks and records them in the ScanStore.",
        version=_version(),
    )

    @app.exception_handler(ReceiverError)
    async def _receiver_error(_request: Request, exc: ReceiverError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    app.include_router(router)
    return app


def _check_status_payload(event: str, payload: dict[str, Any]) -> None:
    """Lenient shape check: the variants REFERENCE.md §9 lists pass, wrong types do not."""
    status = payload.get("status")
    if status is not None and not isinstance(status, (int, str)):
        raise ReceiverError(422, "status must be a number")
    if event == "error":
        error = payload.get("error")
        if error is not None and not isinstance(error, (dict, list, str)):
            raise ReceiverError(422, "error must be an object or a list")
    for key in ("scannedDocument", "results", "notifications"):
        if key in payload and payload[key] is not None and not isinstance(payload[key], dict):
            raise ReceiverError(422, f"{key} must be an object")


def _version() -> str:
    from airflow_copyleaks import __version__

    return __version__


_app: FastAPI | None = None


def get_app() -> FastAPI:
    """The app built from configuration, once per process (for the plugin and the CLI)."""
    global _app
    if _app is None:
        _app = create_app()
    return _app
