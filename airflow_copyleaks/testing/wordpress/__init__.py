"""A local fake of WordPress's REST API (posts, their statuses, application-password auth), served
over real HTTP on loopback, for testing a CMS client without a WordPress site.

    with WordPressFake() as wp:                       # uvicorn on 127.0.0.1, a free port
        wp.add_user("editor", "abcd efgh ijkl mnop qrst uvwx")
        post_id = wp.add_post("Title", "First paragraph.\\n\\nSecond.", status="draft")
        wp.add_fault("/wp-json/wp/v2/posts", status=503, count=2)  # the next two answers are 503
        ...  # point an Airflow HTTP connection at wp.url
        assert wp.post(post_id).status == "publish"

Like the Copyleaks emulator it imports nothing from the provider or Airflow.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import Any

from airflow_copyleaks.testing.wordpress.state import Fault, Media, Post, SiteState, User

__all__ = ["Post", "SiteState", "WordPressFake"]

_INTERNAL_ERROR = {
    "code": "internal_server_error",
    "message": "<p>There has been a critical error on this website.</p>",
    "data": {"status": 500},
}


def _proxy_page(status: int) -> str:
    """What a reverse proxy in front of a sick PHP answers: an HTML page, not WordPress's JSON."""
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}.get(status, "Error")
    return f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"


class WordPressFake:
    """A local WordPress REST API (posts, media, users, faults) served on loopback for tests.

    :param registered_meta: The post meta keys exposed to the REST API (what
        ``register_post_meta(..., ['show_in_rest' => true])`` does); others are ignored on write.
    """

    def __init__(self, *, registered_meta: tuple[str, ...] = ("copyleaks_review",)) -> None:
        self.site = SiteState(registered_meta=registered_meta)
        self.url = ""
        self._stack: ExitStack | None = None
        self._user_ids = itertools.count(1)

    # -- serving -----------------------------------------------------------------------------
    def start(self) -> str:
        from airflow_copyleaks.testing.serving import serve_in_thread
        from airflow_copyleaks.testing.wordpress.app import create_app

        self._stack = ExitStack()
        self.url = self._stack.enter_context(serve_in_thread(create_app(self.site)))
        return self.url

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> WordPressFake:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- content -----------------------------------------------------------------------------
    def add_user(self, name: str, app_password: str, *, role: str = "editor") -> None:
        with self.site.lock:
            self.site.users[name] = User(next(self._user_ids), name, app_password, role)

    def add_post(
        self,
        title: str,
        content: str,
        *,
        status: str = "draft",
        modified: datetime | None = None,
        featured_media: int = 0,
    ) -> int:
        post_id = self.site.new_id()
        stamp = (modified or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
        with self.site.lock:
            self.site.posts[post_id] = Post(post_id, title, content, status, stamp, featured_media=featured_media)
        return post_id

    def add_media(self, filename: str, data: bytes, mime_type: str = "image/png", *, source_url: str = "") -> int:
        """An upload; ``source_url``: the address WordPress gives for it instead of its own (a CDN)."""
        media_id = self.site.new_id()
        with self.site.lock:
            self.site.media[media_id] = Media(media_id, filename, data, mime_type, source_url)
        return media_id

    def edit_post(self, post_id: int, **changes: Any) -> None:
        """An author saves the post in WordPress (its ``modified`` moves on)."""
        with self.site.lock:
            post = self.site.posts[post_id]
            for name, value in changes.items():
                setattr(post, name, value)
            self.site.touch(post)

    def delete_post(self, post_id: int) -> None:
        """Deleted for good (what "Delete Permanently" does): the API then answers 404."""
        with self.site.lock:
            self.site.posts.pop(post_id, None)

    def post(self, post_id: int) -> Post | None:
        with self.site.lock:
            return self.site.posts.get(post_id)

    # -- faults and observation ----------------------------------------------------------------
    def add_fault(
        self,
        path_prefix: str,
        *,
        status: int = 500,
        method: str = "*",
        count: int | None = 1,
        body: Any = None,
        delay_seconds: float = 0.0,
        location: str = "",
    ) -> None:
        """Answer ``status`` to the next ``count`` requests (None: all) whose path starts with
        ``path_prefix``, before anything is read or written. Default bodies: WordPress's own for
        500 and 401, a proxy's HTML page for 502/503/504. ``delay_seconds`` waits first; with
        ``status=0`` the request is then answered normally (a slow site). ``location``: a redirect
        (say ``status=302``) to that address."""
        if body is None:
            if status in (502, 503, 504):
                body = _proxy_page(status)
            elif status == 401:
                body = {
                    "code": "rest_not_logged_in",
                    "message": "You are not currently logged in.",
                    "data": {"status": 401},
                }
            else:
                body = {**_INTERNAL_ERROR, "data": {"status": status}}
        with self.site.lock:
            self.site.faults.append(Fault(method.upper(), path_prefix, status, count, body, delay_seconds, location))

    def after_request(self, target: str, action: Callable[[], None]) -> None:
        """Run ``action`` (say, ``lambda: wp.edit_post(7, status="publish")``) once, right after the
        first request whose ``"METHOD /path?query"`` contains ``target`` is answered: the site
        changing between two requests of a client."""
        with self.site.lock:
            self.site.after.append((target, action))

    def strip_authorization(self, on: bool = True) -> None:
        """Drop every request's Authorization header, as Apache in front of PHP-CGI does unless told."""
        self.site.strip_authorization = on

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status answered) of every API request, oldest first."""
        with self.site.lock:
            return list(self.site.log)

    def writes(self) -> list[tuple[str, str, int]]:
        """The requests that could change something and were answered with a success."""
        return [r for r in self.requests if r[0] in ("POST", "PUT", "PATCH", "DELETE") and r[2] < 400]

    def drop_pagination_headers(self, on: bool = True) -> None:
        """Answer listings without ``X-WP-Total`` / ``X-WP-TotalPages``."""
        self.site.pagination_headers = not on

    def reset(self) -> None:
        self.site.reset()
        self.site.strip_authorization = False
        self.site.pagination_headers = True


def running_wordpress(**kwargs: Any) -> Iterator[WordPressFake]:
    """A started fake for a pytest fixture: ``yield from running_wordpress()``."""
    with WordPressFake(**kwargs) as fake:
        yield fake
