"""What every router shares: the JSON answer, early rejection, body parsing and the bearer check."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.datastructures import UploadFile

from .. import auth
from ..validation import lower_keys, problem_401

if TYPE_CHECKING:
    from ..app import EmulatorApp
    from ..state import EmulatorState


class _EmulatorIdConvertor(PathConvertor):
    """``:path`` that also spans newlines: Starlette's ``.*`` stops at one, so "abc%0A" would route
    as "abc" and "%0Aabc" match no route. The handlers then refuse such an id with a 400."""

    regex = r"[\s\S]*"


register_url_convertor("emuid", _EmulatorIdConvertor())


class Reject(Exception):
    """Stop handling a request and answer ``body`` with ``status``."""

    def __init__(self, status: int, body: Any, media_type: str = "application/json") -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.media_type = media_type


def json_response(status: int, body: Any, media_type: str = "application/json") -> Response:
    if body is None:
        return Response(status_code=status)
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=status)
    return JSONResponse(body, status_code=status, media_type=media_type)


def emulator(request: Request) -> EmulatorApp:
    """The emulator the serving FastAPI app belongs to (set by ``build_fastapi``)."""
    return request.app.state.emu  # type: ignore[no-any-return]


def state_of(request: Request) -> EmulatorState:
    return emulator(request).state


def account_of(request: Request) -> str:
    """The bearer token's account (401 otherwise), then the per-account rate limit (429)."""
    state = state_of(request)
    account = auth.authenticate(state, request.headers.get("authorization"))
    if account is None:
        raise Reject(401, problem_401(), "application/problem+json")
    request.state.account = account
    if not state.allow_request(account):
        raise Reject(429, {"error": "Rate limit exceeded"})
    return account


Account = Depends(account_of)


async def read_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return lower_keys(json.loads(raw))
    except ValueError as exc:
        raise Reject(400, {"": ["The request body is not valid JSON."]}) from exc


async def read_control_body(request: Request) -> Any:
    return json.loads(await request.body() or b"{}")


async def read_form(request: Request) -> tuple[dict[str, Any], bytes | None, dict[str, list[str]]]:
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
