"""Control API: injected faults on API calls and on outgoing webhooks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..state import FAULT_KINDS, Fault, WebhookFault
from ..validation import ERRORS
from .common import json_response, read_control_body, state_of

router = APIRouter(prefix="/_emulator")

WEBHOOK_FAULT_MODES = ("drop", "delay", "duplicate", "fail_status")


@router.post("/faults")
async def add_fault(request: Request) -> Response:
    raw = await read_control_body(request)
    kind = raw.get("kind") or "status"
    if kind not in FAULT_KINDS:
        return json_response(400, {"error": f"kind must be one of {', '.join(FAULT_KINDS)}"})
    fault = Fault(path_prefix=str(raw.get("path_prefix") or "/"), method=raw.get("method"),
                  status=int(raw.get("status") or 503), remaining=int(raw.get("count", 1)), kind=kind,
                  body=raw.get("body"), delay_seconds=float(raw.get("delay_seconds") or 0),
                  code=int(raw.get("code") or 0))
    if kind == "scan_error" and fault.code not in ERRORS:
        return json_response(400, {"error": f"a scan_error fault needs code, one of {sorted(ERRORS)}"})
    state = state_of(request)
    with state.lock:
        state.faults.append(fault)
    return json_response(200, {"ok": True})


@router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        state.faults.clear()
        state.webhook_faults.clear()
    return json_response(200, {"ok": True})


@router.post("/webhook-faults")
async def add_webhook_fault(request: Request) -> Response:
    raw = await read_control_body(request)
    mode = raw.get("mode")
    if mode not in WEBHOOK_FAULT_MODES:
        return json_response(400, {"error": "mode must be drop, delay, duplicate or fail_status"})
    fault = WebhookFault(mode=mode, remaining=int(raw.get("count", 1)),
                         delay_seconds=float(raw.get("delay_seconds") or 0), status=int(raw.get("status") or 500))
    state = state_of(request)
    with state.lock:
        state.webhook_faults.append(fault)
    return json_response(200, {"ok": True})


@router.post("/expire-tokens")
async def expire_tokens(request: Request) -> Response:
    from .. import auth

    return json_response(200, {"expired": auth.expire_all(state_of(request))})
