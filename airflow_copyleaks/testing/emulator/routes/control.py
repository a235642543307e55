"""Control API (``/_emulator``): reset, configuration, call log, stats, corpus, images, scans."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .. import images
from ..scoring import Document
from .common import emulator, json_response, read_control_body, read_form, state_of

router = APIRouter(prefix="/_emulator")


@router.post("/reset")
async def reset(request: Request) -> Response:
    state_of(request).reset()
    return json_response(200, {"ok": True})


@router.get("/config")
async def get_config(request: Request) -> Response:
    return json_response(200, state_of(request).config.to_dict())


@router.patch("/config")
async def patch_config(request: Request) -> Response:
    raw = await read_control_body(request)
    if not isinstance(raw, dict):
        return json_response(400, {"error": "expected a JSON object"})
    try:
        new = state_of(request).apply_config(raw)
    except KeyError as exc:
        return json_response(400, {"error": f"unknown config field {exc.args[0]!r}"})
    except (TypeError, ValueError) as exc:
        return json_response(400, {"error": str(exc)})
    return json_response(200, new.to_dict())


@router.get("/calls")
async def calls(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        return json_response(200, list(state.calls))


@router.get("/stats")
async def stats(request: Request) -> Response:
    return json_response(200, state_of(request).stats_snapshot())


@router.post("/corpus")
async def add_corpus(request: Request) -> Response:
    raw = await read_control_body(request)
    url, text = raw.get("url"), raw.get("text")
    if not isinstance(url, str) or not isinstance(text, str) or not url or not text:
        return json_response(400, {"error": "url and text are required"})
    doc = Document(key=url, title=str(raw.get("title") or url), text=text, url=url)
    state_of(request).internet.add(doc)
    return json_response(200, {"id": doc.result_id, "url": url, "words": len(doc.tokens)})


@router.get("/corpus")
async def list_corpus(request: Request) -> Response:
    docs = state_of(request).internet.documents()
    return json_response(200, [{"id": d.result_id, "url": d.url, "title": d.title, "builtin": d.builtin,
                                "text": d.text} for d in docs])


def _pages(values: list[str]) -> list[str]:
    """``pages`` fields: each a JSON list or comma-separated URLs."""
    pages: list[str] = []
    for value in values:
        value = value.strip()
        if value.startswith("["):
            pages.extend(str(p) for p in json.loads(value))
        elif value:
            pages.extend(p.strip() for p in value.split(",") if p.strip())
    return pages


@router.post("/images")
async def add_image(request: Request) -> Response:
    fields, image, multi = await read_form(request)
    url = fields.get("url")
    if image is None or not isinstance(url, str) or not url:
        return json_response(400, {"error": "multipart fields 'image' and 'url' are required"})
    try:
        reg = await run_in_threadpool(emulator(request).sync.register_image, url, image, _pages(multi.get("pages", [])))
    except images.ImageError as exc:
        return json_response(400, {"error": str(exc)})
    return json_response(200, {"url": reg.url, "pages": reg.pages, "width": reg.width, "height": reg.height,
                               "dhash": f"{reg.dhash:064x}"})


@router.get("/scans")
async def list_scans(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        return json_response(200, [s.summary() for s in state.scans.values()])


@router.get("/scans/{scan_id:emuid}")
async def get_scan(request: Request, scan_id: str, account: str | None = None) -> Response:
    state = state_of(request)
    scan = state.find_scan(scan_id, account)
    if scan is None:
        return json_response(404, {"error": f"no scan {scan_id!r}"})
    with state.lock:
        out = scan.summary()
        out["webhooks"] = [w for w in state.webhook_log if w["scanId"] == scan_id and w["account"] == scan.account]
    return json_response(200, out)


@router.get("/webhooks")
async def webhooks(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        return json_response(200, list(state.webhook_log))
