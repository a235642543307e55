"""The webhook receiver: one FastAPI app, mounted in the api-server or served on its own.

Each delivery is authenticated first (per-scan HMAC header; nothing beyond the headers is read
or stored for a wrong one), its body is read up to a size limit, checked leniently against the
shapes Copyleaks sends, stored once in the ScanStore, and answered at once: Copyleaks gives up
after 70 seconds, and the receiver's work is a few milliseconds of SQL (plus, for an export
artifact, one object-storage write).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor

from airflow_copyleaks import config
from airflow_copyleaks.store.schema import INTEGER_MAX
from airflow_copyleaks.webhooks.artifacts import ArtifactWriter
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, verify_token

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore

log = logging.getLogger(__name__)

STATUSES = {s.lower(): s for s in ("completed", "error", "creditsChecked", "indexed")}
# Export task path -> artifact kind in the store.
ARTIFACT_ROUTES = {
    "pdf-report": "pdf",
    "crawled-version": "crawled",
    "ai-detection": "ai",
    "writing-feedback": "writing",
}
MAX_ID_LENGTH = 64  # the store's id columns; Copyleaks' own limit is 36
DELETE_KEY_PREFIX = "delete:"
RESULT_LIST_KEYS = ("internet", "database", "batch", "repositories")


class _AnyIdConvertor(PathConvertor):
    """``:path`` across newlines too. Ids are documented as any string, and an id the provider
    never issued must meet the credential check (401) rather than match no route (404)."""

    regex = r"[\s\S]*"


register_url_convertor("anyid", _AnyIdConvertor())


class Stored(BaseModel):
    """What the receiver answers: whether this delivery was new (False for a duplicate)."""

    stored: bool


class Health(BaseModel):
    status: str
    schema_version: int
    store_id: str  # the store's random identity: every component must report the same one


class Problem(BaseModel):
    detail: str


TokenHeader = Annotated[
    str | None,
    Header(alias=TOKEN_HEADER, description="Per-scan credential: HMAC-SHA256 of the scan, export or delete id"),
]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The body is not JSON",
        401: "Missing or wrong webhook credential; nothing was read or stored",
        404: "Unknown status",
        413: "The body is larger than [copyleaks] max_webhook_body_bytes; it was not read",
        422: "The body does not have the shape Copyleaks sends",
        503: "The store does not answer; nothing was stored, so Copyleaks delivers again later",
    }
    return {code: {"model": Problem, "description": descriptions[code]} for code in codes}


def _json_body(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """OpenAPI for a body the handler reads itself (streamed, size-limited)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}},
        }
    }


class ReceiverError(HTTPException):
    pass


def create_app(
    *,
    store: ScanStore | None = None,
    secret: str | None = None,
    artifacts_url: str | None = None,
    allow_unauthenticated: bool | None = None,
    max_body_bytes: int | None = None,
) -> FastAPI:
    """Build the receiver. Without a secret it refuses to start unless told it is a local test.

    Every argument left as None comes from the ``[copyleaks]`` configuration.
    """
    secret = secret if secret is not None else config.webhook_secret()
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
    limit = max_body_bytes or int(config.get_setting("max_webhook_body_bytes"))
    writer = ArtifactWriter(artifacts_url or config.artifacts_url())
    store_lock = threading.Lock()
    state: dict[str, ScanStore | None] = {"store": store}

    def get_store() -> ScanStore:
        # Opened on first use, not at build time: a mounted app gets no lifespan events, and
        # importing the plugin must not touch the database.
        with store_lock:
            current = state["store"]
            if current is None:
                from airflow_copyleaks.store import get_store as configured_store

                current = state["store"] = configured_store()
            return current

    def authenticate(purpose: str, ident: str, presented: str | None) -> None:
        if secret and not verify_token(secret, purpose, ident, presented):
            raise ReceiverError(401, "missing or wrong webhook credential")
        # A delete request is stored under "delete:<id>", in the same id column.
        longest = MAX_ID_LENGTH - len(DELETE_KEY_PREFIX) if purpose == "delete" else MAX_ID_LENGTH
        if len(ident) > longest:
            raise ReceiverError(422, f"id longer than {longest} characters")

    async def read_body(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ReceiverError(413, f"body larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():  # chunked bodies have no Content-Length: count as we go
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

    @router.post(
        "/status/{status}/{scan_id:anyid}",
        response_model=Stored,
        responses=_errors(400, 401, 404, 413, 422, 503),
        openapi_extra=_json_body("A Copyleaks status webhook (completed, error, creditsChecked or indexed)"),
    )
    async def status_webhook(status: str, scan_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """Copyleaks' scan status webhook: ``{STATUS}`` is completed, error, creditsChecked or indexed."""
        event = STATUSES.get(status.lower())
        if event is None:
            raise ReceiverError(404, f"unknown status {status!r}")
        authenticate("scan", scan_id, token)
        payload, raw = await read_json(request)
        _check_status_payload(event, payload)
        # Store calls block: run them off the event loop so one slow write never stalls other deliveries.
        new = await run_in_threadpool(get_store().record_event, scan_id, event, payload, raw_body=raw)
        return Stored(stored=new)

    @router.post(
        "/new-result/{scan_id:anyid}",
        response_model=Stored,
        responses=_errors(400, 401, 413, 422, 503),
        openapi_extra=_json_body("A result found while the scan is still running"),
    )
    async def new_result(scan_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """A result found while the scan is still running (does not change the scan's status)."""
        authenticate("scan", scan_id, token)
        payload, raw = await read_json(request)
        _check_new_result(payload)
        new = await run_in_threadpool(get_store().record_event, scan_id, "newResult", payload, raw_body=raw)
        return Stored(stored=new)

    async def store_artifact(
        export_id: str, kind: str, result_id: str | None, request: Request, token: str | None
    ) -> Stored:
        authenticate("export", export_id, token)
        data = await read_body(request)
        if kind != "pdf":
            try:
                document = json.loads(data)
            except (ValueError, UnicodeDecodeError) as err:
                raise ReceiverError(400, "artifact body is not JSON") from err
            if not isinstance(document, dict):
                raise ReceiverError(422, "artifact body must be a JSON object")
        scan_store = get_store()

        def write_and_record() -> bool:
            written = writer.write(scan_store.export_scan_id(export_id), export_id, kind, result_id, data)
            return scan_store.record_artifact(
                export_id,
                kind,
                result_id=result_id,
                location=written.location,
                size=written.size,
                sha256=written.sha256,
            )

        return Stored(stored=await run_in_threadpool(write_and_record))

    def add_artifact_route(path: str, name: str, summary: str, endpoint: Callable[..., Awaitable[Stored]]) -> None:
        # Copyleaks uses the verb we give it (PUT, as it recommends); POST is accepted too. One
        # route per verb keeps the OpenAPI operation ids unique.
        if name == "export_pdf":
            content = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
        else:
            content = {"application/json": {"schema": {"type": "object"}}}
        extra = {"requestBody": {"required": True, "content": content}}
        for method in ("PUT", "POST"):
            router.add_api_route(
                path,
                endpoint,
                methods=[method],
                response_model=Stored,
                responses=_errors(400, 401, 413, 422, 503),
                name=f"{name}_{method.lower()}",
                operation_id=f"{name}_{method.lower()}",
                summary=summary,
                openapi_extra=extra,
            )

    def artifact_endpoint(kind: str) -> Callable[..., Awaitable[Stored]]:
        # The kind is bound by this closure, not by a default argument: FastAPI would publish a
        # defaulted parameter as a query parameter that any caller could set.
        async def export_artifact(export_id: str, request: Request, token: TokenHeader = None) -> Stored:
            return await store_artifact(export_id, kind, None, request, token)

        return export_artifact

    for path, kind in ARTIFACT_ROUTES.items():
        add_artifact_route(
            f"/export/{{export_id:anyid}}/{path}",
            f"export_{kind}",
            f"Exported {path.replace('-', ' ')}",
            artifact_endpoint(kind),
        )

    @router.post(
        "/export/{export_id:anyid}/completed",
        response_model=Stored,
        responses=_errors(400, 401, 413, 422, 503),
        openapi_extra=_json_body("Copyleaks' export-completed webhook: which tasks were healthy"),
    )
    async def export_completed(export_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """Copyleaks finished pushing an export; an unhealthy task fails the export."""
        authenticate("export", export_id, token)
        payload, raw = await read_json(request)
        if isinstance(payload.get("tasks"), dict):  # the Node SDK's single-object shape
            payload["tasks"] = [payload["tasks"]]
        _check_export_completed(payload)
        new = await run_in_threadpool(get_store().record_export_completed, export_id, payload, raw_body=raw)
        return Stored(stored=new)

    async def export_result(export_id: str, result_id: str, request: Request, token: TokenHeader = None) -> Stored:
        return await store_artifact(export_id, "result", result_id, request, token)

    # Registered after the fixed suffixes: with greedy ids, an export id that contains
    # "/results/" must still reach /pdf-report, /completed, ... rather than this route.
    add_artifact_route(
        "/export/{export_id:anyid}/results/{result_id:anyid}", "export_result", "One exported result", export_result
    )

    @router.post("/delete/{request_id:anyid}/completed", response_model=Stored, responses=_errors(401, 413, 422, 503))
    async def delete_completed(request_id: str, request: Request, token: TokenHeader = None) -> Stored:
        """Copyleaks finished deleting scans (the request has no body)."""
        authenticate("delete", request_id, token)
        raw = await read_body(request)
        new = await run_in_threadpool(
            get_store().record_event, f"{DELETE_KEY_PREFIX}{request_id}", "deleted", {}, raw_body=raw
        )
        return Stored(stored=new)

    @router.get(
        "/health",
        response_model=Health,
        responses={503: {"model": Problem, "description": "The store does not answer"}},
    )
    async def health() -> Health:
        """Whether the receiver can reach its store."""
        try:
            version, store_id = await run_in_threadpool(lambda: (get_store().schema_version(), get_store().store_id()))
        except Exception as err:
            log.warning("Copyleaks receiver health check: the store does not answer: %s", err)
            raise ReceiverError(503, "the store does not answer") from err
        return Health(status="ok", schema_version=version, store_id=store_id)

    app = FastAPI(
        title="Copyleaks webhook receiver",
        description=(
            "Receives Copyleaks webhooks for airflow-provider-copyleaks and records them in the ScanStore. "
            f"Every delivery carries the `{TOKEN_HEADER}` header the provider handed to Copyleaks."
        ),
        version=_version(),
    )

    @app.exception_handler(ReceiverError)
    async def _receiver_error(_request: Request, exc: ReceiverError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _store_unreachable(_request: Request, exc: Exception) -> JSONResponse:
        # Not a 2xx, so Copyleaks delivers again; a clean answer (no traceback, connection kept).
        log.warning("Copyleaks receiver: the store does not answer (%s); answered 503", type(exc).__name__)
        return JSONResponse(
            {"detail": "the store does not answer; deliver again later"}, status_code=503, headers={"Retry-After": "30"}
        )

    app.include_router(router)
    if secret:
        _require_token_header_in_schema(app)
    return app


def _require_token_header_in_schema(app: FastAPI) -> None:
    """Document the credential header as required. It is optional to FastAPI only so that a
    missing header answers 401 (like a wrong one) rather than a validation 422."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for parameter in operation.get("parameters", []):
                        if parameter.get("in") == "header" and parameter.get("name") == TOKEN_HEADER:
                            parameter["required"] = True
                            parameter["schema"] = {"type": "string", "title": TOKEN_HEADER}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# ---------------------------------------------------------------------- lenient payload checks
# The variants of REFERENCE.md §8-§9 pass (error object or list, codes numbers or strings, score
# a number or {aggregatedScore}); a field of the wrong type is a 422. Unknown fields are kept.


# Counts, credits and scores stay far below what the store's integer columns hold; anything past
# that is not Copyleaks.
NUMBER_LIMIT = INTEGER_MAX


def _is_number(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    return math.isfinite(value) and abs(value) <= NUMBER_LIMIT


def _expect(payload: dict[str, Any], key: str, types: tuple[type, ...], what: str) -> None:
    value = payload.get(key)
    if value is None:
        return
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        raise ReceiverError(422, f"{key} must be {what}")


def _expect_number(payload: dict[str, Any], key: str) -> None:
    value = payload.get(key)
    if value is not None and not _is_number(value):
        raise ReceiverError(422, f"{key} must be a finite number of at most {NUMBER_LIMIT}")


def _check_status_payload(event: str, payload: dict[str, Any]) -> None:
    _expect(payload, "status", (int, str), "a number")
    _expect(payload, "developerPayload", (str,), "a string")
    _expect_number(payload, "credits")
    for key in ("scannedDocument", "results", "notifications"):
        _expect(payload, key, (dict,), "an object")
    document = payload.get("scannedDocument") or {}
    for key in ("totalWords", "totalExcluded", "credits", "expectedCredits"):
        _expect_number(document, key)
    results = payload.get("results") or {}
    _expect(results, "score", (dict,), "an object")
    _expect_number(results.get("score") or {}, "aggregatedScore")
    for key in RESULT_LIST_KEYS:
        _expect(results, key, (list,), "a list")
    if event == "error":
        error = payload.get("error")
        errors = error if isinstance(error, list) else [error]
        for item in errors:
            if item is None or isinstance(item, str):
                continue
            if not isinstance(item, dict):
                raise ReceiverError(422, "error must be an object or a list of objects")
            _expect(item, "code", (int, str), "a number or a string")
            _expect(item, "message", (str,), "a string")


def _check_new_result(payload: dict[str, Any]) -> None:
    score = payload.get("score")
    if isinstance(score, dict):
        _expect_number(score, "aggregatedScore")
    elif score is not None and not _is_number(score):
        raise ReceiverError(422, "score must be a number or an object with aggregatedScore")
    for key in RESULT_LIST_KEYS:
        _expect(payload, key, (list,), "a list")


def _check_export_completed(payload: dict[str, Any]) -> None:
    _expect(payload, "completed", (bool,), "a boolean")
    _expect(payload, "developerPayload", (str,), "a string")
    _expect(payload, "tasks", (list,), "a list")
    for task in payload.get("tasks") or []:
        if not isinstance(task, dict):
            raise ReceiverError(422, "each task must be an object")
        _expect(task, "isHealthy", (bool,), "a boolean")
        _expect(task, "httpStatusCode", (int,), "a number")
        _expect(task, "endpoint", (str,), "a string")


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
