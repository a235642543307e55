"""The receiver's routes: Copyleaks' webhooks, exported artifacts, and a health answer.

Every route answers at once: Copyleaks gives up after 70 seconds, and a delivery's work is a few
milliseconds of SQL (plus, for an artifact, one object-storage write), done in the receiver's own
threads (:mod:`~airflow_copyleaks.webhooks.gate`).
"""

# No "from __future__ import annotations": FastAPI reads these signatures at runtime, and a
# dependency built inside a function (json_delivery) refers to names only its closure knows.
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel
from starlette.convertors import PathConvertor, register_url_convertor

from airflow_copyleaks.webhooks.auth import TOKEN_HEADER
from airflow_copyleaks.webhooks.dependencies import (
    DELETE_KEY_PREFIX,
    Delivery,
    Receiver,
    ReceiverConfig,
    delete_credential,
    export_credential,
    json_delivery,
    parse_object,
    read_body,
    scan_credential,
)
from airflow_copyleaks.webhooks.payloads import ExportCompletedPayload, NewResultPayload, StatusPayload, inline_schema

if TYPE_CHECKING:
    from airflow_copyleaks.store import ScanStore

STATUSES = {s.lower(): s for s in ("completed", "error", "creditsChecked", "indexed")}
# Export task path -> artifact kind in the store.
ARTIFACT_ROUTES = {
    "pdf-report": "pdf",
    "crawled-version": "crawled",
    "ai-detection": "ai",
    "writing-feedback": "writing",
}


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


_DESCRIPTIONS = {
    400: "The body is not JSON, or nests deeper than the receiver reads",
    401: "Missing or wrong webhook credential; nothing was read or stored",
    404: "Unknown status",
    413: "The body is larger than this route accepts; it was not read",
    422: "The body does not have the shape Copyleaks sends",
    503: "The store does not answer; nothing was stored, so Copyleaks delivers again later",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": Problem, "description": _DESCRIPTIONS[code]} for code in codes}


def webhook_openapi(content_type: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """The credential header and a body the route reads itself (after the credential, bounded)."""
    credential = {
        "name": TOKEN_HEADER,
        "in": "header",
        "required": True,
        "description": "Per-scan credential: HMAC-SHA256 of the scan, export or delete id",
        "schema": {"type": "string", "title": TOKEN_HEADER},
    }
    body: dict[str, Any] = {"required": True, "content": {content_type: {"schema": schema}}}
    if description:
        body["description"] = description
    return {"parameters": [credential], "requestBody": body}


def json_openapi(model: type[BaseModel]) -> dict[str, Any]:
    return webhook_openapi("application/json", inline_schema(model), (model.__doc__ or "").strip())


deliveries = APIRouter()
artifacts = APIRouter()
health_router = APIRouter()


async def status_event(status: str) -> str:  # async: no thread hop (dependencies.py)
    event = STATUSES.get(status.lower())
    if event is None:
        raise HTTPException(404, f"unknown status {status!r}")
    return event


@deliveries.post(
    "/status/{status}/{scan_id:anyid}",
    response_model=Stored,
    responses=errors(400, 401, 404, 413, 422, 503),
    openapi_extra=json_openapi(StatusPayload),
)
async def status_webhook(
    event: Annotated[str, Depends(status_event)],
    delivery: Annotated[Delivery, Depends(json_delivery(StatusPayload, scan_credential))],
    config: Receiver,
) -> Stored:
    """Copyleaks' scan status webhook: ``{STATUS}`` is completed, error, creditsChecked or indexed."""
    new = await config.gate.run(
        lambda store: store.record_event(delivery.ident, event, delivery.payload, raw_body=delivery.raw)
    )
    return Stored(stored=new)


@deliveries.post(
    "/new-result/{scan_id:anyid}",
    response_model=Stored,
    responses=errors(400, 401, 413, 422, 503),
    openapi_extra=json_openapi(NewResultPayload),
)
async def new_result(
    delivery: Annotated[Delivery, Depends(json_delivery(NewResultPayload, scan_credential))], config: Receiver
) -> Stored:
    """A result found while the scan is still running (does not change the scan's status)."""
    new = await config.gate.run(
        lambda store: store.record_event(delivery.ident, "newResult", delivery.payload, raw_body=delivery.raw)
    )
    return Stored(stored=new)


async def _store_artifact(
    config: ReceiverConfig, request: Request, export_id: str, kind: str, result_id: str | None
) -> Stored:
    data = await read_body(request, config.artifact_limit)
    if kind != "pdf":
        await parse_object(config, data)  # a JSON artifact must be one object

    def write_and_record(store: "ScanStore") -> bool:
        written = config.writer.write(store.export_scan_id(export_id), export_id, kind, result_id, data)
        return bool(
            store.record_artifact(
                export_id,
                kind,
                result_id=result_id,
                location=written.location,
                size=written.size,
                sha256=written.sha256,
            )
        )

    return Stored(stored=await config.gate.run(write_and_record))


def _artifact_endpoint(kind: str) -> Callable[..., Awaitable[Stored]]:
    # The kind is bound here, not by a default argument: FastAPI would publish a defaulted
    # parameter as a query parameter that any caller could set.
    async def export_artifact(
        export_id: Annotated[str, Depends(export_credential)], request: Request, config: Receiver
    ) -> Stored:
        return await _store_artifact(config, request, export_id, kind, None)

    return export_artifact


async def export_result(
    export_id: Annotated[str, Depends(export_credential)], result_id: str, request: Request, config: Receiver
) -> Stored:
    return await _store_artifact(config, request, export_id, "result", result_id)


def _add_artifact_route(path: str, name: str, summary: str, endpoint: Callable[..., Awaitable[Stored]]) -> None:
    # Copyleaks uses the verb we give it (PUT, as it recommends); POST is accepted too. One
    # route per verb keeps the OpenAPI operation ids unique.
    if name == "export_pdf":
        extra = webhook_openapi("application/pdf", {"type": "string", "format": "binary"})
    else:
        extra = webhook_openapi("application/json", {"type": "object"})
    for method in ("PUT", "POST"):
        artifacts.add_api_route(
            path,
            endpoint,
            methods=[method],
            response_model=Stored,
            responses=errors(400, 401, 413, 422, 503),
            name=f"{name}_{method.lower()}",
            operation_id=f"{name}_{method.lower()}",
            summary=summary,
            openapi_extra=extra,
        )


for _path, _kind in ARTIFACT_ROUTES.items():
    _add_artifact_route(
        f"/export/{{export_id:anyid}}/{_path}",
        f"export_{_kind}",
        f"Exported {_path.replace('-', ' ')}",
        _artifact_endpoint(_kind),
    )


@artifacts.post(
    "/export/{export_id:anyid}/completed",
    response_model=Stored,
    responses=errors(400, 401, 413, 422, 503),
    openapi_extra=json_openapi(ExportCompletedPayload),
)
async def export_completed(
    delivery: Annotated[Delivery, Depends(json_delivery(ExportCompletedPayload, export_credential))],
    config: Receiver,
) -> Stored:
    """Copyleaks finished pushing an export; an unhealthy task fails the export."""
    new = await config.gate.run(
        lambda store: store.record_export_completed(delivery.ident, delivery.payload, raw_body=delivery.raw)
    )
    return Stored(stored=new)


# Registered after the fixed suffixes: with greedy ids, an export id that contains
# "/results/" must still reach /pdf-report, /completed, ... rather than this route.
_add_artifact_route(
    "/export/{export_id:anyid}/results/{result_id:anyid}", "export_result", "One exported result", export_result
)


@deliveries.post(
    "/delete/{request_id:anyid}/completed",
    response_model=Stored,
    responses=errors(401, 413, 422, 503),
    openapi_extra={"parameters": webhook_openapi("application/json", {})["parameters"]},
)
async def delete_completed(
    request_id: Annotated[str, Depends(delete_credential)], request: Request, config: Receiver
) -> Stored:
    """Copyleaks finished deleting scans (the request has no body)."""
    raw = await read_body(request, config.json_limit)
    key = f"{DELETE_KEY_PREFIX}{request_id}"
    new = await config.gate.run(lambda store: store.record_event(key, "deleted", {}, raw_body=raw))
    return Stored(stored=new)


@health_router.get("/health", response_model=Health, responses=errors(503))
async def health(config: Receiver) -> Health:
    """Whether the receiver is up and its store answered: the store is opened once (in the
    receiver's threads) if no delivery has opened it yet, and then asked nothing, so anonymous
    callers cannot load the database."""
    if config.gate.store is None:
        await config.gate.run(lambda store: None)  # StoreUnavailable: 503, and remembered
    store = config.gate.store
    if store is None or not config.gate.healthy:
        raise HTTPException(503, "the store does not answer")
    # Both were read when the store was opened.
    return Health(status="ok", schema_version=store.opened_schema_version, store_id=store.store_id())
