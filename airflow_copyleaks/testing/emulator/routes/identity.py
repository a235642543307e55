"""The identity server's login (REFERENCE §2)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import auth
from .common import json_response, read_body, state_of

router = APIRouter()


@router.post("/v3/account/login/api")
async def login(request: Request) -> Response:
    status, body = auth.login(state_of(request), await read_body(request))
    return json_response(status, body)
