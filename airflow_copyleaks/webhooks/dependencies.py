"""FastAPI dependencies of the receiver: its settings, the webhook credential, a bounded body.

Order matters and FastAPI keeps it: the credential is checked from the headers alone, and only a
delivery that passed it has its body read (up to the route's limit) and parsed (in a worker
thread, with :mod:`~airflow_copyleaks.webhooks.parsing`'s limits). Nothing of a forged delivery
is read or stored.
"""

# No "from __future__ import annotations": FastAPI reads these signatures at runtime, and a
# dependency built inside a function (json_delivery) refers to names only its closure knows.
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, ValidationError

from airflow_copyleaks.webhooks.artifacts import ArtifactWriter
from airflow_copyleaks.webhooks.auth import TOKEN_HEADER, verify_any
from airflow_copyleaks.webhooks.gate import StoreGate
from airflow_copyleaks.webhooks.parsing import BodyError, parse_json_object

MAX_ID_LENGTH = 64  # the store's id columns; Copyleaks' own limit is 36
DELETE_KEY_PREFIX = "delete:"


@dataclass(frozen=True)
class ReceiverConfig:
    """What one receiver app was built with (``app.state.copyleaks``)."""

    secrets: tuple[str, ...]  # the current secret first, then previous ones still accepted
    json_limit: int  # bytes of a JSON delivery (status, newResult, completions)
    artifact_limit: int  # bytes of an exported artifact
    writer: ArtifactWriter
    gate: StoreGate


# The dependencies are coroutines although they do no I/O: FastAPI runs a plain ``def``
# dependency in the host's shared thread pool, a thread hop per dependency per delivery.


async def receiver(request: Request) -> ReceiverConfig:
    config: ReceiverConfig = request.app.state.copyleaks
    return config


Receiver = Annotated[ReceiverConfig, Depends(receiver)]


@dataclass(frozen=True)
class Delivery:
    """An authenticated delivery: the id it is for and its body as sent."""

    ident: str
    raw: bytes
    payload: dict[str, Any]


def _authenticate(config: ReceiverConfig, request: Request, purpose: str, ident: str) -> str:
    presented = request.headers.get(TOKEN_HEADER)
    if config.secrets and not verify_any(config.secrets, purpose, ident, presented):
        raise HTTPException(401, "missing or wrong webhook credential")
    # A delete request is stored under "delete:<id>", in the same id column.
    longest = MAX_ID_LENGTH - len(DELETE_KEY_PREFIX) if purpose == "delete" else MAX_ID_LENGTH
    if len(ident) > longest:
        raise HTTPException(422, f"id longer than {longest} characters")
    if "\x00" in ident:
        raise HTTPException(422, "id contains a NUL character")
    return ident


async def scan_credential(scan_id: str, request: Request, config: Receiver) -> str:
    try:
        return _authenticate(config, request, "scan", scan_id)
    except HTTPException as err:
        presented = bool(request.headers.get(TOKEN_HEADER))
        if err.status_code == 401 and presented and len(scan_id) <= MAX_ID_LENGTH and "\x00" not in scan_id:
            # A credential that does not match is what Copyleaks sends under a secret since
            # changed: the scan's webhook is lost, and the waits resend it early. A request with
            # none proves nothing (anyone knowing a scan id may send one) and must not spend the
            # account's resend budget. An id the store does not know changes nothing.
            config.gate.note_refused(scan_id)
            await config.gate.write_refused()
        raise


async def export_credential(export_id: str, request: Request, config: Receiver) -> str:
    return _authenticate(config, request, "export", export_id)


async def delete_credential(request_id: str, request: Request, config: Receiver) -> str:
    return _authenticate(config, request, "delete", request_id)


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes ``limit`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # chunked bodies have no Content-Length: count as we go
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def parse_object(config: ReceiverConfig, raw: bytes) -> dict[str, Any]:
    try:
        return await config.gate.in_thread(parse_json_object, raw)
    except BodyError as err:
        raise HTTPException(err.status, err.detail) from err


def json_delivery(
    model: type[BaseModel], credential: Callable[..., str], *, limit: str = "json_limit"
) -> Callable[..., Awaitable[Delivery]]:
    """A dependency: the authenticated delivery whose JSON body has ``model``'s shape."""

    async def dependency(request: Request, config: Receiver, ident: Annotated[str, Depends(credential)]) -> Delivery:
        raw = await read_body(request, getattr(config, limit))
        payload = await parse_object(config, raw)
        if isinstance(payload.get("tasks"), dict):  # the Node SDK's single-task completion shape
            payload["tasks"] = [payload["tasks"]]
        try:
            model.model_validate(payload)
        except ValidationError as err:
            raise HTTPException(422, describe(err)) from err
        return Delivery(ident, raw, payload)

    return dependency


def describe(err: ValidationError) -> str:
    """Pydantic's errors as one line naming each field: ``results.internet: Input should be ...``."""
    parts = []
    for error in err.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(list(dict.fromkeys(parts))[:5])
