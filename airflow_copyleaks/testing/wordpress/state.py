"""The fake site's state: posts, media, users, injected faults and a log of what was asked.

Posts are rendered the way WordPress answers them (``title.rendered``, ``content.rendered`` as
``<p>`` paragraphs with typographic apostrophes, ``modified_gmt`` without an offset, the meta keys
the site registered), so that a client that works here reads a real site the same way.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

# The statuses a REST client may set; "trash" is internal to WordPress (reached through DELETE).
SETTABLE_STATUSES = ("publish", "future", "draft", "pending", "private")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _wp_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _texturize(text: str) -> str:
    """What WordPress's wptexturize does to the characters clients notice most."""
    return html.escape(text, quote=False).replace("'", "&#8217;").replace('"', "&#8221;")


def render_paragraphs(text: str) -> str:
    """Plain text with blank lines between paragraphs, as wpautop renders it."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{_texturize(p)}</p>\n" for p in paragraphs)


@dataclass
class Post:
    id: int
    title: str
    content: str  # plain text, paragraphs separated by blank lines
    status: str
    modified: datetime
    author: int = 1
    featured_media: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    slug: str = ""

    def as_json(self, base_url: str, registered_meta: tuple[str, ...]) -> dict[str, Any]:
        link = f"{base_url}/?p={self.id}"
        return {
            "id": self.id,
            "date": _wp_time(self.modified),
            "date_gmt": _wp_time(self.modified),
            "guid": {"rendered": link},
            "modified": _wp_time(self.modified),
            "modified_gmt": _wp_time(self.modified),
            "slug": self.slug,
            "status": self.status,
            "type": "post",
            "link": link,
            "title": {"rendered": _texturize(self.title)},
            "content": {"rendered": render_paragraphs(self.content), "protected": False},
            "excerpt": {"rendered": render_paragraphs(self.content.split("\n\n")[0])[:300], "protected": False},
            "author": self.author,
            "featured_media": self.featured_media,
            "comment_status": "open",
            "ping_status": "open",
            "sticky": False,
            "template": "",
            "format": "standard",
            "meta": {key: self.meta.get(key, "") for key in registered_meta},
            "categories": [1],
            "tags": [],
            "_links": {"self": [{"href": f"{base_url}/wp-json/wp/v2/posts/{self.id}"}]},
        }


@dataclass
class Media:
    id: int
    filename: str
    data: bytes
    mime_type: str
    source_url: str = ""  # where WordPress says the file is, when not on the site (a CDN, another host)

    def path(self) -> str:
        return f"/wp-content/uploads/2026/11/{self.filename}"

    def as_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "attachment",
            "media_type": "image",
            "mime_type": self.mime_type,
            "source_url": self.source_url or f"{base_url}{self.path()}",
            "title": {"rendered": _texturize(self.filename)},
        }


@dataclass
class Fault:
    method: str  # "GET", "POST", "DELETE" or "*"
    path_prefix: str
    status: int
    count: int | None  # None: every matching request
    body: Any  # JSON, or a str served as an HTML page (a proxy's error page)
    delay_seconds: float = 0.0  # wait this long first; with status 0 the request then goes through
    location: str = ""  # a redirect's target (sent as the Location header)


@dataclass
class User:
    id: int
    name: str
    app_password: str  # as WordPress shows it: groups of four, spaces ignored
    role: str  # "editor" may publish and edit every post; "contributor" neither


class SiteState:
    """Everything the fake site holds, behind one lock (uvicorn serves from a thread)."""

    def __init__(self, *, registered_meta: tuple[str, ...] = ("copyleaks_review",)) -> None:
        self.lock = threading.RLock()
        self.registered_meta = registered_meta
        self.strip_authorization = False  # as some Apache/CGI setups do: every request arrives anonymous
        self.pagination_headers = True  # False: X-WP-Total(Pages) dropped, as some caching proxies do
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.posts: dict[int, Post] = {}
            self.media: dict[int, Media] = {}
            self.users: dict[str, User] = {}
            self.faults: list[Fault] = []
            self.log: list[tuple[str, str, int]] = []  # (method, path with query, status answered)
            # One-shot changes made right after a matching request is answered (someone editing
            # the site between two requests of a client): (text the path with query contains, action).
            self.after: list[tuple[str, Callable[[], None]]] = []
            self._next_id = 100

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method in ("*", method) and path.startswith(fault.path_prefix):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self.faults.remove(fault)
                    return fault
            return None

    def run_after(self, target: str) -> None:
        with self.lock:
            due = [entry for entry in self.after if entry[0] in target]
            self.after = [entry for entry in self.after if entry[0] not in target]
        for _, action in due:
            action()

    def touch(self, post: Post) -> None:
        """WordPress sets ``modified`` on every save; keep it strictly increasing per post."""
        now = _now()
        post.modified = now if now > post.modified else post.modified + timedelta(seconds=1)
