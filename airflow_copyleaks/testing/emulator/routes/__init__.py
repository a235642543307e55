"""The emulator's HTTP routes as routers: identity, scans, synchronous products, public
miscellany, and the ``/_emulator`` control and fault APIs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import Response

from . import control, faults, identity, misc, products, scans
from .common import Reject, json_response

if TYPE_CHECKING:
    from ..app import EmulatorApp

ROUTERS = (identity.router, scans.router, products.router, misc.router, control.router, faults.router)


def build_fastapi(emu: EmulatorApp) -> FastAPI:
    app = FastAPI(title="Copyleaks API emulator", docs_url="/_emulator/docs", redoc_url=None,
                  openapi_url="/_emulator/openapi.json")
    app.state.emu = emu  # the routers find the emulator's state through the request's app

    @app.exception_handler(Reject)
    async def _reject(_: Request, exc: Reject) -> Response:
        return json_response(exc.status, exc.body, exc.media_type)

    for router in ROUTERS:
        app.include_router(router)
    return app


__all__ = ["Reject", "build_fastapi", "json_response"]
