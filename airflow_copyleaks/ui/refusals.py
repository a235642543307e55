"""What a person sees when a report or export link is refused: a short page that says why.

An editor follows a report link from a review or a task's extra link; a bare ``{"detail": ...}``
would tell them nothing. Clients that do not ask for HTML (the REST API's users) keep the JSON.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from airflow_copyleaks.ui.page import document

TITLES = {401: "Sign in to Airflow", 403: "No access", 404: "Not found"}


def explanation(status: int, dag_id: str | None, detail: str) -> str:
    if status == 401:
        return "Sign in to Airflow, then open the link again."
    if status == 403:
        what = f"the runs of <b>{escape(dag_id)}</b>" if dag_id else "this page"
        return f"Your Airflow role cannot read {what}. An Airflow admin can give you access to the DAG."
    return escape(detail)


def render_refusal(status: int, dag_id: str | None, detail: str) -> str:
    title = TITLES.get(status, "Refused")
    return document(title, f"<h1>{escape(title)}</h1><p>{explanation(status, dag_id, detail)}</p>")


def install_refusal_pages(app: FastAPI, headers: dict[str, str]) -> None:
    """Answer refused browser requests of ``app`` with a page, other clients as before."""

    async def refused(request: Request, err: Exception) -> Response:
        if not isinstance(err, HTTPException):  # registered for HTTPException only
            raise err
        if "text/html" not in request.headers.get("accept", ""):
            return await http_exception_handler(request, err)
        page = render_refusal(err.status_code, request.path_params.get("dag_id"), str(err.detail))
        return HTMLResponse(page, status_code=err.status_code, headers={**headers, **(err.headers or {})})

    app.add_exception_handler(HTTPException, refused)
