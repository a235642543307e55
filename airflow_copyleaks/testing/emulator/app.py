"""The emulator as one ASGI app: its parts wired together behind a middleware (the routes are
in ``routes/``).

Request order on API routes, as the brief and Copyleaks imply: injected faults first (nothing
else happens, nothing is charged), gzip bodies inflated, then bearer auth (401), the per-account
rate limit (429) and finally the handler. Every non-control call is logged for ``/_emulator/calls``.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import auth
from .config import EmulatorConfig
from .export import ExportEngine
from .routes import build_fastapi
from .routes.common import json_response as _json
from .scans import ScanEngine
from .state import EmulatorState
from .sync import SyncChecks
from .validation import problem_401
from .webhooks import Dispatcher

CONTROL_PREFIX = "/_emulator"
REDIRECT_TARGET = "/v3/redirected-by-fault"


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
