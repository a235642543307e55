"""HTTP surface: the Copyleaks identity/API routes and the ``/_emulator`` control API.

Request order on API routes, as the brief and Copyleaks imply: injected faults first (nothing
else happens, nothing is charged), gzip bodies inflated, then bearer auth (401), the per-account
rate limit (429) and finally the handler. Every non-control call is logged for ``/_emulator/calls``.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import auth, images
from .config import EmulatorConfig
from .export import ExportEngine
from .extraction import CODE_TYPES, OCR_TYPES, SUPPORTED_TEXTUAL
from .scans import OCR_LANGUAGES, ScanEngine
from .scoring import Document
from .state import FAULT_KINDS, EmulatorState, Fault, WebhookFault
from .sync import SyncChecks
from .validation import error_body, lower_keys, problem_401
from .webhooks import Dispatcher
from .writing_feedback import CORRECTION_TYPES

CONTROL_PREFIX = "/_emulator"


class Reject(Exception):
    """Stop handling a request and answer ``body`` with ``status``."""

    def __init__(self, status: int, body: Any, media_type: str = "application/json") -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.media_type = media_type


REDIRECT_TARGET = "/v3/redirected-by-fault"


class _EmulatorIdConvertor(PathConvertor):
    """``:path`` that also spans newlines: Starlette's ``.*`` stops at one, so "abc%0A" would route
    as "abc" and "%0Aabc" match no route. The handlers then refuse such an id with a 400."""

    regex = r"[\s\S]*"


register_url_convertor("emuid", _EmulatorIdConvertor())


def _json(status: int, body: Any, media_type: str = "application/json") -> Response:
    if body is None:
        return Response(status_code=status)
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=status)
    return JSONResponse(body, status_code=status, media_type=media_type)


def _fault_body(status: int) -> Any:
    if status == 429:
        return {"error": "Rate limit exceeded"}
    if status == 401:
        return problem_401()
    if status == 503:
        return {"error": {"type": "api_error", "id": "maintenance", "code": 9,
                          "message": "Temporarily unavailable. Please try again later."}}
    return {"error": {"type": "api_error" if status >= 500 else "invalid_request_error", "id": "injected_fault",
                      "code": 16 if status >= 500 else 1, "message": f"Fault injected by the emulator ({status})."}}


class EmulatorMiddleware:
    """Pure ASGI so it sees the raw request before FastAPI: faults, gzip and the call log."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        fault = self.state.take_fault(method, path)
        if fault is not None and fault.kind == "expire_tokens":
            # The token runs out just as this call arrives: it goes on and meets the usual 401.
            auth.expire_all(self.state)
            fault = None
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.delay_seconds)
            fault = None
        drop_answer = fault is not None and fault.kind == "drop_answer"
        if drop_answer:
            fault = None  # processed (and charged) as usual; only the answer is lost, below
        if fault is not None:
            if fault.kind == "reset_connection" and self._reset(send):
                self.state.record_call(method, path, 0, None)
                return
            response = _json(fault.status, fault.body if fault.body is not None else _fault_body(fault.status))
            if 300 <= fault.status < 400:
                # Somewhere a client that follows redirects would go (and be seen in the call log).
                response.headers["location"] = REDIRECT_TARGET
            await response(scope, receive, send)
            self.state.record_call(method, path, fault.status, None)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("content-encoding", "").strip().lower() == "gzip":
            inflated = await self._inflate(receive)
            if inflated is None:
                await _json(400, {"": ["The gzip request body could not be decompressed."]})(scope, self._noop, send)
                self.state.record_call(method, path, 400, None)
                return
            receive = inflated
        scope.setdefault("state", {})
        status_box = [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            if not drop_answer:
                await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if drop_answer:
                self._reset(send)
            self.state.record_call(
                method, path, status_box[0], scope["state"].get("account"), answer_dropped=drop_answer
            )

    @staticmethod
    async def _noop() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    @staticmethod
    async def _inflate(receive: Receive) -> Receive | None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        try:
            body = gzip.decompress(b"".join(chunks))
        except (OSError, EOFError, zlib.error):
            return None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    def _reset(send: Send) -> bool:
        """Close the TCP connection without an answer. Reaches into uvicorn's protocol object
        (the ASGI ``send`` is bound to it); returns False when that is not possible."""
        cycle = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if cycle is None or transport is None or not hasattr(cycle, "disconnected"):
            return False
        cycle.disconnected = True  # so uvicorn does not try to write a 500 afterwards
        transport.abort()
        return True


class EmulatorApp:
    """The emulator's parts wired together; ``asgi`` is what uvicorn serves."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.state = EmulatorState(config)
        self.dispatcher = Dispatcher(self.state, config.webhook_workers)
        self.scans = ScanEngine(self.state, self.dispatcher)
        self.exports = ExportEngine(self.state, self.dispatcher)
        self.sync = SyncChecks(self.state)
        self.fastapi = build_fastapi(self)
        self.asgi: ASGIApp = EmulatorMiddleware(self.fastapi, self.state)

    def close(self) -> None:
        self.dispatcher.stop()


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return lower_keys(json.loads(raw))
    except ValueError as exc:
        raise Reject(400, {"": ["The request body is not valid JSON."]}) from exc


async def _form(request: Request) -> tuple[dict[str, Any], bytes | None, dict[str, list[str]]]:
    """Multipart fields (single values, plus every value per key) and the ``image`` file."""
    form = await request.form()
    fields: dict[str, Any] = {}
    multi: dict[str, list[str]] = {}
    image: bytes | None = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key.lower() == "image":
                image = await value.read()
            continue
        fields.setdefault(key, value)
        fields.setdefault(key.lower(), value)
        multi.setdefault(key.lower(), []).append(value)
    return fields, image, multi


def build_fastapi(emu: EmulatorApp) -> FastAPI:
    state = emu.state
    app = FastAPI(title="Copyleaks API emulator", docs_url="/_emulator/docs", redoc_url=None,
                  openapi_url="/_emulator/openapi.json")

    @app.exception_handler(Reject)
    async def _reject(_: Request, exc: Reject) -> Response:
        return _json(exc.status, exc.body, exc.media_type)

    def account_of(request: Request) -> str:
        account = auth.authenticate(state, request.headers.get("authorization"))
        if account is None:
            raise Reject(401, problem_401(), "application/problem+json")
        request.state.account = account
        if not state.allow_request(account):
            raise Reject(429, {"error": "Rate limit exceeded"})
        return account

    Account = Depends(account_of)

    # ---- identity -------------------------------------------------------------------------
    @app.post("/v3/account/login/api")
    async def login(request: Request) -> Response:
        status, body = auth.login(state, await _body(request))
        return _json(status, body)

    # ---- scans ----------------------------------------------------------------------------
    async def submit(request: Request, account: str, kind: str, scan_id: str) -> Response:
        status, body = emu.scans.submit(account, kind, scan_id, await _body(request))
        return _json(status, body)

    # The Python SDK's OCR path; registered before /file/{id} so "ocr/<id>" is not taken as an id.
    @app.put("/v3/scans/submit/file/ocr/{scan_id:emuid}")
    async def submit_ocr_py(request: Request, scan_id: str, account: str = Account) -> Response:
        return await submit(request, account, "ocr", scan_id)

    @app.put("/v3/scans/submit/file/{scan_id:emuid}")
    async def submit_file(request: Request, scan_id: str, account: str = Account) -> Response:
        return await submit(request, account, "file", scan_id)

    @app.put("/v3/scans/submit/url/{scan_id:emuid}")
    async def submit_url(request: Request, scan_id: str, account: str = Account) -> Response:
        return await submit(request, account, "url", scan_id)

    @app.put("/v3/scans/submit/ocr/{scan_id:emuid}")
    async def submit_ocr(request: Request, scan_id: str, account: str = Account) -> Response:
        return await submit(request, account, "ocr", scan_id)

    @app.patch("/v3/scans/start")
    async def start(request: Request, account: str = Account) -> Response:
        status, body = emu.scans.start(account, await _body(request))
        return _json(status, body)

    @app.patch("/v3.1/scans/delete")
    async def delete(request: Request, account: str = Account) -> Response:
        status, body = emu.scans.delete(account, await _body(request))
        return _json(status, body)

    @app.post("/v3/scans/{scan_id:emuid}/webhooks/resend")
    async def resend(scan_id: str, account: str = Account) -> Response:
        status, body = emu.scans.resend(account, scan_id)
        return _json(status, body)

    @app.get("/v3/scans/credits")
    async def credits(account: str = Account) -> Response:
        return _json(200, {"Amount": state.account(account).credits})

    @app.get("/v2/writer-detector/credits")
    async def writer_credits(account: str = Account) -> Response:
        return _json(200, {"credits": state.account(account).credits})

    @app.get("/v3/scans/usages/history")
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
        with state.lock:
            rows = list(state.account(account).usage)
        for row in rows:
            when = datetime.fromtimestamp(row["time"], tz=timezone.utc)
            if parsed["start"] <= when < end:
                writer.writerow([when.strftime("%d/%m/%Y %H:%M:%S"), row["scanId"], row["credits"], row["type"]])
        return Response(out.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": "attachment; filename=usages.csv"})

    # ---- export ---------------------------------------------------------------------------
    @app.post("/v3/downloads/{scan_id:emuid}/export/{export_id:emuid}")
    async def export(request: Request, scan_id: str, export_id: str, account: str = Account) -> Response:
        per_minute = state.config.export_per_minute
        if not state.check_window("export", account, per_minute, 60.0):
            return _json(429, {"error": "Rate limit exceeded"})
        status, body = emu.exports.export(account, scan_id, export_id, await _body(request))
        return _json(status, body)

    # ---- synchronous checks ---------------------------------------------------------------
    @app.post("/v2/writer-detector/source-code/{scan_id:emuid}/check")
    async def source_code(scan_id: str, account: str = Account) -> Response:
        # AI code detection was discontinued on 2025-08-29 (REFERENCE §10.2).
        return _json(410, {"error": {"type": "invalid_request_error", "id": "discontinued", "code": 39,
                                     "message": "AI Code Detection was discontinued on August 29, 2025."}})

    @app.post("/v2/writer-detector/{scan_id:emuid}/check")
    async def writer_detector(request: Request, scan_id: str, account: str = Account) -> Response:
        body = await _body(request)
        status, out = await run_in_threadpool(emu.sync.writer_detector, account, scan_id, body)
        return _json(status, out)

    @app.post("/v1/writing-feedback/{scan_id:emuid}/check")
    async def writing_feedback(request: Request, scan_id: str, account: str = Account) -> Response:
        body = await _body(request)
        status, out = await run_in_threadpool(emu.sync.writing_feedback, account, scan_id, body)
        return _json(status, out)

    @app.post("/v1/text-moderation/{scan_id:emuid}/check")
    async def text_moderation(request: Request, scan_id: str, account: str = Account) -> Response:
        body = await _body(request)
        status, out = await run_in_threadpool(emu.sync.text_moderation, account, scan_id, body)
        return _json(status, out)

    @app.post("/v1/image-plagiarism-detector/{scan_id:emuid}/check")
    async def image_plagiarism(request: Request, scan_id: str, account: str = Account) -> Response:
        if "multipart/form-data" not in request.headers.get("content-type", ""):
            return _json(400, error_body(1, details=[{"param": "image",
                                                      "message": "Only MIME multipart content type is allowed!"}]))
        fields, image, _ = await _form(request)
        status, out = await run_in_threadpool(emu.sync.image_plagiarism, account, scan_id, fields, image)
        return _json(status, out)

    @app.post("/v1/ai-image-detector/{scan_id:emuid}/check")
    async def ai_image(request: Request, scan_id: str, account: str = Account) -> Response:
        image: bytes | None = None
        if "multipart/form-data" in request.headers.get("content-type", ""):
            raw_fields, image, _ = await _form(request)
            fields: dict[str, Any] = {k.lower(): v for k, v in raw_fields.items()}
        else:
            body = await _body(request)
            fields = body if isinstance(body, dict) else {}
        status, out = await run_in_threadpool(emu.sync.ai_image, account, scan_id, fields, image)
        return _json(status, out)

    # ---- public miscellaneous -------------------------------------------------------------
    file_types = {"textual": [*sorted(SUPPORTED_TEXTUAL - CODE_TYPES - {"tex", "latex"}), "LaTeX"],
                  "ocr": sorted(OCR_TYPES)}

    @app.get("/v3/miscellaneous/supported-file-types")
    @app.get("/v3/miscellaneous/supported-plagiarism-file-types")
    async def supported_types() -> Response:
        return _json(200, file_types)

    @app.get("/v3/miscellaneous/supported-ai-text-detection-file-types")
    async def ai_types() -> Response:
        return _json(200, {"supportedAiFileTypes": ["txt", "pdf", "docx", "doc", "rtf", "html", "htm", "odt"]})

    @app.get("/v3/miscellaneous/ocr-languages-list")
    @app.get("/v3/miscellaneous/ocr-supported-languages")
    async def ocr_languages() -> Response:
        return _json(200, OCR_LANGUAGES)

    @app.get("/v3/miscellaneous/allowed-cross-languages")
    @app.get("/v3/miscellaneous/supported-cross-languages")
    async def cross_languages() -> Response:  # shape UNCONFIRMED: a plain list of codes
        return _json(200, ["en", "es", "fr", "de", "it", "pt", "ru", "zh", "ja", "ar"])

    @app.get("/v3/release-logs.json")
    async def release_logs() -> Response:
        return _json(200, {"updates": [{"msgType": "info", "date": "2025-08-29T00:00:00Z",
                                        "htmlDescription": "<p>Copyleaks emulator release notes.</p>"}]})

    @app.get("/v1/writing-feedback/correction-types/{language}")
    async def correction_types(language: str) -> Response:
        if language.lower() != "en":
            return _json(400, error_body(25))
        return _json(200, {"correctionTypes": CORRECTION_TYPES})

    # ---- control API ----------------------------------------------------------------------
    @app.post("/_emulator/reset")
    async def reset() -> Response:
        state.reset()
        return _json(200, {"ok": True})

    @app.get("/_emulator/config")
    async def get_config() -> Response:
        return _json(200, state.config.to_dict())

    @app.patch("/_emulator/config")
    async def patch_config(request: Request) -> Response:
        raw = json.loads(await request.body() or b"{}")
        if not isinstance(raw, dict):
            return _json(400, {"error": "expected a JSON object"})
        try:
            new = state.apply_config(raw)
        except KeyError as exc:
            return _json(400, {"error": f"unknown config field {exc.args[0]!r}"})
        except (TypeError, ValueError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, new.to_dict())

    @app.get("/_emulator/calls")
    async def calls() -> Response:
        with state.lock:
            return _json(200, list(state.calls))

    @app.get("/_emulator/stats")
    async def stats() -> Response:
        return _json(200, state.stats_snapshot())

    @app.post("/_emulator/faults")
    async def add_fault(request: Request) -> Response:
        raw = json.loads(await request.body() or b"{}")
        kind = raw.get("kind") or "status"
        if kind not in FAULT_KINDS:
            return _json(400, {"error": f"kind must be one of {', '.join(FAULT_KINDS)}"})
        fault = Fault(path_prefix=str(raw.get("path_prefix") or "/"), method=raw.get("method"),
                      status=int(raw.get("status") or 503), remaining=int(raw.get("count", 1)), kind=kind,
                      body=raw.get("body"), delay_seconds=float(raw.get("delay_seconds") or 0))
        with state.lock:
            state.faults.append(fault)
        return _json(200, {"ok": True})

    @app.delete("/_emulator/faults")
    async def clear_faults() -> Response:
        with state.lock:
            state.faults.clear()
            state.webhook_faults.clear()
        return _json(200, {"ok": True})

    @app.post("/_emulator/webhook-faults")
    async def add_webhook_fault(request: Request) -> Response:
        raw = json.loads(await request.body() or b"{}")
        mode = raw.get("mode")
        if mode not in ("drop", "delay", "duplicate", "fail_status"):
            return _json(400, {"error": "mode must be drop, delay, duplicate or fail_status"})
        fault = WebhookFault(mode=mode, remaining=int(raw.get("count", 1)),
                             delay_seconds=float(raw.get("delay_seconds") or 0), status=int(raw.get("status") or 500))
        with state.lock:
            state.webhook_faults.append(fault)
        return _json(200, {"ok": True})

    @app.post("/_emulator/expire-tokens")
    async def expire_tokens() -> Response:
        return _json(200, {"expired": auth.expire_all(state)})

    @app.post("/_emulator/corpus")
    async def add_corpus(request: Request) -> Response:
        raw = json.loads(await request.body() or b"{}")
        url, text = raw.get("url"), raw.get("text")
        if not isinstance(url, str) or not isinstance(text, str) or not url or not text:
            return _json(400, {"error": "url and text are required"})
        doc = Document(key=url, title=str(raw.get("title") or url), text=text, url=url)
        state.internet.add(doc)
        return _json(200, {"id": doc.result_id, "url": url, "words": len(doc.tokens)})

    @app.get("/_emulator/corpus")
    async def list_corpus() -> Response:
        return _json(200, [{"id": d.result_id, "url": d.url, "title": d.title, "builtin": d.builtin, "text": d.text}
                           for d in state.internet.documents()])

    @app.post("/_emulator/images")
    async def add_image(request: Request) -> Response:
        fields, image, multi = await _form(request)
        url = fields.get("url")
        if image is None or not isinstance(url, str) or not url:
            return _json(400, {"error": "multipart fields 'image' and 'url' are required"})
        pages: list[str] = []
        for value in multi.get("pages", []):
            value = value.strip()
            if value.startswith("["):
                pages.extend(str(p) for p in json.loads(value))
            elif value:
                pages.extend(p.strip() for p in value.split(",") if p.strip())
        try:
            reg = await run_in_threadpool(emu.sync.register_image, url, image, pages)
        except images.ImageError as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, {"url": reg.url, "pages": reg.pages, "width": reg.width, "height": reg.height,
                           "dhash": f"{reg.dhash:064x}"})

    @app.get("/_emulator/scans")
    async def list_scans() -> Response:
        with state.lock:
            return _json(200, [s.summary() for s in state.scans.values()])

    @app.get("/_emulator/scans/{scan_id:emuid}")
    async def get_scan(scan_id: str, account: str | None = None) -> Response:
        scan = state.find_scan(scan_id, account)
        if scan is None:
            return _json(404, {"error": f"no scan {scan_id!r}"})
        with state.lock:
            out = scan.summary()
            out["webhooks"] = [w for w in state.webhook_log if w["scanId"] == scan_id and w["account"] == scan.account]
        return _json(200, out)

    @app.get("/_emulator/webhooks")
    async def webhooks() -> Response:
        with state.lock:
            return _json(200, list(state.webhook_log))

    return app
