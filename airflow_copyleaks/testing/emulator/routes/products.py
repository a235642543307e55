"""Synchronous products: AI text detection, writing feedback, moderation, image checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ..validation import error_body
from .common import Account, emulator, json_response, read_body, read_form

router = APIRouter()


@router.post("/v2/writer-detector/source-code/{scan_id:emuid}/check")
async def source_code(scan_id: str, account: str = Account) -> Response:
    # AI code detection was discontinued on 2025-08-29 (REFERENCE §10.2).
    return json_response(410, {"error": {"type": "invalid_request_error", "id": "discontinued", "code": 39,
                                         "message": "AI Code Detection was discontinued on August 29, 2025."}})


async def _sync_check(request: Request, product: str, account: str, scan_id: str) -> Response:
    """A synchronous product: its JSON body checked and answered in a worker thread."""
    body = await read_body(request)
    status, out = await run_in_threadpool(getattr(emulator(request).sync, product), account, scan_id, body)
    return json_response(status, out)


@router.post("/v2/writer-detector/{scan_id:emuid}/check")
async def writer_detector(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _sync_check(request, "writer_detector", account, scan_id)


@router.post("/v1/writing-feedback/{scan_id:emuid}/check")
async def writing_feedback(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _sync_check(request, "writing_feedback", account, scan_id)


@router.post("/v1/text-moderation/{scan_id:emuid}/check")
async def text_moderation(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _sync_check(request, "text_moderation", account, scan_id)


@router.post("/v1/image-plagiarism-detector/{scan_id:emuid}/check")
async def image_plagiarism(request: Request, scan_id: str, account: str = Account) -> Response:
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        return json_response(400, error_body(1, details=[{"param": "image",
                                                          "message": "Only MIME multipart content type is allowed!"}]))
    fields, image, _ = await read_form(request)
    status, out = await run_in_threadpool(emulator(request).sync.image_plagiarism, account, scan_id, fields, image)
    return json_response(status, out)


@router.post("/v1/ai-image-detector/{scan_id:emuid}/check")
async def ai_image(request: Request, scan_id: str, account: str = Account) -> Response:
    image: bytes | None = None
    if "multipart/form-data" in request.headers.get("content-type", ""):
        raw_fields, image, _ = await read_form(request)
        fields: dict[str, Any] = {k.lower(): v for k, v in raw_fields.items()}
    else:
        body = await read_body(request)
        fields = body if isinstance(body, dict) else {}
    status, out = await run_in_threadpool(emulator(request).sync.ai_image, account, scan_id, fields, image)
    return json_response(status, out)
