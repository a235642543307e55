"""Asynchronous scans: submit, start, delete, resend, credits, usage history and export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from .common import Account, emulator, json_response, read_body, state_of

router = APIRouter()


async def _submit(request: Request, account: str, kind: str, scan_id: str) -> Response:
    status, body = emulator(request).scans.submit(account, kind, scan_id, await read_body(request))
    return json_response(status, body)


# The Python SDK's OCR path; registered before /file/{id} so "ocr/<id>" is not taken as an id.
@router.put("/v3/scans/submit/file/ocr/{scan_id:emuid}")
async def submit_ocr_py(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _submit(request, account, "ocr", scan_id)


@router.put("/v3/scans/submit/file/{scan_id:emuid}")
async def submit_file(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _submit(request, account, "file", scan_id)


@router.put("/v3/scans/submit/url/{scan_id:emuid}")
async def submit_url(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _submit(request, account, "url", scan_id)


@router.put("/v3/scans/submit/ocr/{scan_id:emuid}")
async def submit_ocr(request: Request, scan_id: str, account: str = Account) -> Response:
    return await _submit(request, account, "ocr", scan_id)


@router.patch("/v3/scans/start")
async def start(request: Request, account: str = Account) -> Response:
    status, body = emulator(request).scans.start(account, await read_body(request))
    return json_response(status, body)


@router.patch("/v3.1/scans/delete")
async def delete(request: Request, account: str = Account) -> Response:
    status, body = emulator(request).scans.delete(account, await read_body(request))
    return json_response(status, body)


@router.post("/v3/scans/{scan_id:emuid}/webhooks/resend")
async def resend(request: Request, scan_id: str, account: str = Account) -> Response:
    status, body = emulator(request).scans.resend(account, scan_id)
    return json_response(status, body)


@router.get("/v3/scans/credits")
async def credits(request: Request, account: str = Account) -> Response:
    return json_response(200, {"Amount": state_of(request).account(account).credits})


@router.get("/v2/writer-detector/credits")
async def writer_credits(request: Request, account: str = Account) -> Response:
    return json_response(200, {"credits": state_of(request).account(account).credits})


@router.get("/v3/scans/usages/history")
async def usages(request: Request, account: str = Account) -> Response:
    params = {k.lower(): v for k, v in request.query_params.items()}
    parsed: dict[str, datetime] = {}
    for name in ("start", "end"):
        value = params.get(name)
        if not value:
            return PlainTextResponse(f"Value cannot be null. (Parameter ''{name}' time is missing')", 400)
        try:
            parsed[name] = datetime.strptime(value, "%d-%m-%Y").replace(tzinfo=timezone.utc)
        except ValueError:
            return PlainTextResponse(f"String '{value}' was not recognized as a valid DateTime.", 400)
    end = parsed["end"] + timedelta(days=1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # Column names are the emulator's own: the real CSV layout is not documented.
    writer.writerow(["Date", "Scan Id", "Credits", "Type"])
    state = state_of(request)
    with state.lock:
        rows = list(state.account(account).usage)
    for row in rows:
        when = datetime.fromtimestamp(row["time"], tz=timezone.utc)
        if parsed["start"] <= when < end:
            writer.writerow([when.strftime("%d/%m/%Y %H:%M:%S"), row["scanId"], row["credits"], row["type"]])
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": "attachment; filename=usages.csv"})


@router.post("/v3/downloads/{scan_id:emuid}/export/{export_id:emuid}")
async def export(request: Request, scan_id: str, export_id: str, account: str = Account) -> Response:
    emu = emulator(request)
    if not emu.state.check_window(
        "export", account, emu.state.config.export_per_minute, emu.state.config.export_window_seconds
    ):
        return json_response(429, {"error": "Rate limit exceeded"})
    status, body = emu.exports.export(account, scan_id, export_id, await read_body(request))
    return json_response(status, body)
