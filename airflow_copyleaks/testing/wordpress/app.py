"""The fake site's HTTP face: the part of WordPress's REST API (``/wp-json/wp/v2``) a CMS client of
posts uses, with WordPress's error bodies ``{"code", "message", "data": {"status"}}``.

Served: listing posts (``status``, ``per_page`` 1-100, ``page``, ``orderby``, ``order``, ``_embed``;
``X-WP-Total`` / ``X-WP-TotalPages`` / ``Link``), reading, updating (``status``, ``meta``, ``title``,
``content``) and deleting (to the bin, or for good with ``force``) one post, ``users/me``, media
and their files. Injected faults answer before anything is read or written.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from airflow_copyleaks.testing.wordpress.state import SETTABLE_STATUSES, Post, SiteState, User

API = "/wp-json/wp/v2"
_ANONYMOUS: User | None = None


def wp_error(status: int, code: str, message: str, **data: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": {"status": status, **data}}, status_code=status)


class WordPressError(Exception):
    """A refusal in WordPress's shape, raised wherever it is found and answered by the app."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = wp_error(status, code, message)


async def _answer_refusal(request: Request, err: Exception) -> Response:
    if not isinstance(err, WordPressError):  # registered for WordPressError only
        raise err
    return err.response


def _invalid_param(name: str, reason: str, code: str = "", status: int = 400) -> JSONResponse:
    """WordPress's 400 for a parameter; ``details`` carries the inner error when there is one."""
    details = {name: {"code": code, "message": reason, "data": {"status": status}}} if code else {}
    return wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason}, details=details)


def _user(site: SiteState, request: Request) -> User | None:
    """The user an application password authenticates, None when anonymous; WordPress's 401 for a
    wrong name or password."""
    header = "" if site.strip_authorization else request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return _ANONYMOUS
    try:
        name, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        name, password = "", ""
    with site.lock:
        user = site.users.get(name)
    if user is None:
        raise WordPressError(401, "invalid_username", "Unknown username. Check again or try your email address.")
    if password.replace(" ", "") != user.app_password.replace(" ", ""):
        raise WordPressError(401, "incorrect_password", "The provided password is an invalid application password.")
    return user


def _caller(request: Request) -> tuple[SiteState, User | None]:
    site: SiteState = request.app.state.site
    return site, _user(site, request)


# The site and who is asking (None: anonymous); a wrong credential is refused before the route runs.
Caller = Annotated[tuple[SiteState, User | None], Depends(_caller)]


def _require_editor(user: User | None, code: str, message: str) -> None:
    if user is None or user.role != "editor":
        raise WordPressError(401 if user is None else 403, code, message)


def _embedded(site: SiteState, post: Post, base_url: str) -> dict[str, Any]:
    media = site.media.get(post.featured_media)
    return {"wp:featuredmedia": [media.as_json(base_url)]} if media else {}


def _post_json(site: SiteState, post: Post, request: Request) -> dict[str, Any]:
    base_url = str(request.base_url).rstrip("/")
    body = post.as_json(base_url, site.registered_meta)
    if "_embed" in request.query_params and (embedded := _embedded(site, post, base_url)):
        body["_embedded"] = embedded
    return body


def _find(site: SiteState, post_id: int) -> Post:
    post = site.posts.get(post_id)
    if post is None:
        raise WordPressError(404, "rest_post_invalid_id", "Invalid post ID.")
    return post


router = APIRouter()


async def faults_and_log(request: Request, call_next: Any) -> Response:
    """Injected faults answer first; every request is logged, then any change due after it runs."""
    site: SiteState = request.app.state.site
    path = request.url.path
    fault = site.take_fault(request.method, path)
    if fault is not None and fault.delay_seconds:
        await asyncio.sleep(fault.delay_seconds)  # a slow site (the client's timeout may give up)
    if fault is None or not fault.status:
        response: Response = await call_next(request)
    elif fault.location:
        response = Response(status_code=fault.status, headers={"Location": fault.location})
    elif isinstance(fault.body, str):
        response = HTMLResponse(fault.body, status_code=fault.status)
    else:
        response = JSONResponse(fault.body, status_code=fault.status)
    query = f"?{request.url.query}" if request.url.query else ""
    with site.lock:
        site.log.append((request.method, f"{path}{query}", response.status_code))
    site.run_after(f"{request.method} {path}{query}")
    return response


@router.get(f"{API}/posts")
def list_posts(request: Request, caller: Caller) -> Response:
    site, user = caller
    query = request.query_params
    statuses = [s for s in query.get("status", "publish").split(",") if s]
    if user is None and any(s != "publish" for s in statuses):
        # What an anonymous request for drafts gets (the inner error is the 401 rest_forbidden_status).
        return _invalid_param("status", "Status is forbidden.", "rest_forbidden_status", 401)
    try:
        per_page, page = int(query.get("per_page", "10")), int(query.get("page", "1"))
    except ValueError:
        return _invalid_param("per_page", "per_page is not of type integer.")
    if not 1 <= per_page <= 100:
        return _invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
    if page < 1:
        return _invalid_param("page", "page must be greater than or equal to 1")
    orderby = query.get("orderby", "date")
    key = {"id": lambda p: p.id, "modified": lambda p: p.modified}.get(orderby, lambda p: p.modified)
    with site.lock:
        matching = sorted((p for p in site.posts.values() if p.status in statuses), key=key)
        if query.get("order", "desc") == "desc":
            matching.reverse()
        total, pages = len(matching), math.ceil(len(matching) / per_page)
        if page > pages and total > 0:
            return wp_error(
                400,
                "rest_post_invalid_page_number",
                "The page number requested is larger than the number of pages available.",
            )
        chosen = [_post_json(site, p, request) for p in matching[(page - 1) * per_page : page * per_page]]
    links = []
    if page > 1:
        links.append(f'<{request.url.include_query_params(page=page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{request.url.include_query_params(page=page + 1)}>; rel="next"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)} if site.pagination_headers else {}
    if links:
        headers["Link"] = ", ".join(links)
    return JSONResponse(chosen, headers=headers)


@router.get(f"{API}/posts/{{post_id}}")
def get_post(post_id: int, request: Request, caller: Caller) -> Response:
    site, user = caller
    with site.lock:
        post = _find(site, post_id)
        if post.status != "publish" and user is None:
            return wp_error(401, "rest_forbidden", "Sorry, you are not allowed to do that.")
        return JSONResponse(_post_json(site, post, request))


@router.post(f"{API}/posts/{{post_id}}")
async def update_post(post_id: int, request: Request, caller: Caller) -> Response:
    site, user = caller
    body = await request.json() if await request.body() else {}
    with site.lock:
        post = _find(site, post_id)
        _require_editor(user, "rest_cannot_edit", "Sorry, you are not allowed to edit this post.")
        status_value = body.get("status")
        if status_value is not None and status_value not in SETTABLE_STATUSES:
            return _invalid_param("status", f"status is not one of {', '.join(SETTABLE_STATUSES)}.")
        post.status = status_value or post.status
        post.title = body.get("title", post.title)
        post.content = body.get("content", post.content)
        for meta_key, value in (body.get("meta") or {}).items():
            if meta_key in site.registered_meta:  # WordPress ignores keys the site did not register
                post.meta[meta_key] = str(value)
        site.touch(post)
        return JSONResponse(_post_json(site, post, request))


@router.delete(f"{API}/posts/{{post_id}}")
def delete_post(post_id: int, request: Request, caller: Caller) -> Response:
    site, user = caller
    with site.lock:
        post = _find(site, post_id)
        _require_editor(user, "rest_cannot_delete", "Sorry, you are not allowed to delete this post.")
        if request.query_params.get("force") in ("1", "true"):
            previous = _post_json(site, site.posts.pop(post_id), request)
            return JSONResponse({"deleted": True, "previous": previous})
        if post.status == "trash":
            return wp_error(410, "rest_already_trashed", "The post has already been deleted.")
        post.status = "trash"
        site.touch(post)
        return JSONResponse(_post_json(site, post, request))


@router.get(f"{API}/users/me")
def me(caller: Caller) -> Response:
    _, user = caller
    if user is None:
        return wp_error(401, "rest_not_logged_in", "You are not currently logged in.")
    return JSONResponse({"id": user.id, "name": user.name, "slug": user.name})


@router.get(f"{API}/media/{{media_id}}")
def get_media(media_id: int, request: Request) -> Response:
    site: SiteState = request.app.state.site
    media = site.media.get(media_id)
    if media is None:
        return wp_error(404, "rest_post_invalid_id", "Invalid post ID.")
    return JSONResponse(media.as_json(str(request.base_url).rstrip("/")))


@router.get("/wp-content/uploads/{year}/{month}/{filename}")
def upload(year: str, month: str, filename: str, request: Request) -> Response:
    site: SiteState = request.app.state.site
    found = next((m for m in site.media.values() if m.filename == filename), None)
    if found is None:
        return HTMLResponse("<h1>Not Found</h1>", status_code=404)
    return Response(found.data, media_type=found.mime_type)


def create_app(site: SiteState) -> FastAPI:
    app = FastAPI(title="WordPress (fake)", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.site = site
    app.middleware("http")(faults_and_log)
    app.add_exception_handler(WordPressError, _answer_refusal)
    app.include_router(router)
    return app
