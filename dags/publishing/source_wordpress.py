"""WordPress's REST API as a :class:`DraftSource`, through the HTTP provider's ``HttpHook``.

The Airflow connection (type ``http``, default id ``wordpress_default``):

* Host: the site's address with its scheme, e.g. ``https://news.example.com`` (a site installed in
  a folder: ``https://example.com/blog``); the API is below ``<host>/wp-json/`` (pretty permalinks).
* Login / Password: a WordPress user who may edit others' posts (an Editor) and one of its
  *application passwords* (Users > Profile > Application Passwords), sent as HTTP Basic auth.
* Extra: the HTTP provider's session options only (``verify``, ``proxies``, ``timeout``...): any
  other key of an HTTP connection's extra is sent to WordPress as a header.

Requests: ``GET wp-json/wp/v2/posts?status=draft`` page by page (``X-WP-TotalPages``), with the
featured image embedded (``_embed=wp:featuredmedia``); ``GET``/``POST wp-json/wp/v2/posts/<id>``
to read and set the status; ``DELETE wp-json/wp/v2/posts/<id>`` (without ``force``) to move a
rejected post to the bin, as WordPress does not accept ``trash`` as a status to set.

The editorial note goes to the post meta key ``note_meta_key`` (default ``copyleaks_review``),
which the site must expose to the REST API (``register_post_meta('post', 'copyleaks_review',
['show_in_rest' => true, 'single' => true, 'type' => 'string'])``); WordPress ignores a key it
does not know, and the update then says the note was not stored.

Hero images are fetched (without the site's credentials) only over http(s) and only from the
connection's host, redirects included, unless ``media_hosts`` (or ``$COPYLEAKS_WORDPRESS_MEDIA_HOSTS``)
names others, such as a CDN: the address comes from the CMS and must not reach other machines.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from publishing.source_drafts import (
    QUEUE_STATUS,
    STATUS_AFTER,
    CmsError,
    Decision,
    Draft,
    DraftUpdate,
    Outcome,
    parse_decision,
    refusal,
)

POSTS = "wp-json/wp/v2/posts"
PER_PAGE_LIMIT = 100  # WordPress refuses a larger per_page (rest_invalid_param)
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # Copyleaks' image limit: a larger one is refused there anyway
MAX_IMAGE_REDIRECTS = 5
MEDIA_HOSTS_ENV = "COPYLEAKS_WORDPRESS_MEDIA_HOSTS"  # comma-separated: hosts hero images may come from
_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figure", "br", "tr"}


class _Text(HTMLParser):
    """Rendered post HTML to plain text: one paragraph per block element, scripts dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    parser = _Text()
    parser.feed(value)
    parser.close()
    paragraphs = (re.sub(r"\s+", " ", p).strip() for p in "".join(parser.parts).split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _gmt(value: str) -> datetime:
    # WordPress gives *_gmt fields without an offset.
    return datetime.fromisoformat(value.replace("Z", "")).replace(tzinfo=timezone.utc)


def _cms_message(response: Any) -> tuple[str, str]:
    """WordPress's error ``code`` and ``message`` (or the start of a non-JSON body, tags removed)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        message = html_to_text(str(body["message"]))
        params = (body.get("data") or {}).get("params") if isinstance(body.get("data"), dict) else None
        if isinstance(params, dict) and params:  # rest_invalid_param: which parameter and why
            message += " (" + "; ".join(f"{name}: {reason}" for name, reason in params.items()) + ")"
        return str(body.get("code", "")), message
    return "", html_to_text(response.text or "")[:300] or response.reason or "no message"


class WordPressDraftSource:
    """Drafts of a WordPress site; decisions written back as post statuses (see source_drafts).

    :param conn_id: The Airflow connection of the site (type ``http``; see the module).
    :param per_page: Posts per listing request, 1 to 100 (WordPress's limit).
    :param note_meta_key: The post meta key the editorial note is written to ("": no note).
    :param timeout: Seconds per request, unless the connection's extra sets ``timeout``.
    :param media_hosts: Host names hero images may be fetched from (redirects included). Default:
        ``$COPYLEAKS_WORDPRESS_MEDIA_HOSTS`` (comma-separated), else the connection's host only.
    """

    name = "wordpress"

    def __init__(
        self,
        conn_id: str = "wordpress_default",
        *,
        per_page: int = PER_PAGE_LIMIT,
        note_meta_key: str = "copyleaks_review",
        timeout: float = 60.0,
        media_hosts: tuple[str, ...] | None = None,
    ) -> None:
        if not 1 <= per_page <= PER_PAGE_LIMIT:
            raise ValueError(f"per_page must be between 1 and {PER_PAGE_LIMIT}, not {per_page}")
        self.conn_id = conn_id
        self.per_page = per_page
        self.note_meta_key = note_meta_key
        self.timeout = timeout  # seconds per request, unless the connection's extra sets ``timeout``
        self._default_timeout: bool | None = None
        self.requests = 0  # counted for the gate's cost figures
        configured = [h.strip() for h in os.environ.get(MEDIA_HOSTS_ENV, "").split(",") if h.strip()]
        self.media_hosts: tuple[str, ...] | None = media_hosts or (tuple(configured) if configured else None)

    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> Any:
        """One request; a refusal raises CmsError with WordPress's message (statuses in ``allow``
        are returned to the caller instead)."""
        import requests
        from airflow.providers.http.hooks.http import HttpHook

        hook = HttpHook(method=method, http_conn_id=self.conn_id)
        options: dict[str, Any] = {"check_response": False}
        if self._default_timeout is None:  # once: the connection's own ``timeout`` extra wins
            self._default_timeout = "timeout" not in hook.get_connection(self.conn_id).extra_dejson
        if self._default_timeout:
            options["timeout"] = self.timeout  # requests waits forever without one
        self.requests += 1
        try:
            response = hook.run(
                endpoint,
                data=params if method == "GET" else None,
                json=body,
                headers={"Accept": "application/json"},
                extra_options=options,
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            raise CmsError(f"WordPress did not answer {method} /{endpoint.split('?', 1)[0]}: {err}") from err
        if response.status_code < 400 or response.status_code in allow:
            return response
        code, message = _cms_message(response)
        where = endpoint.split("?", 1)[0]
        raise CmsError(
            f"WordPress answered {response.status_code} to {method} /{where}: {code + ': ' if code else ''}{message}",
            status=response.status_code,
            code=code,
        )

    def _draft(self, post: dict[str, Any]) -> Draft:
        media = (post.get("_embedded") or {}).get("wp:featuredmedia") or []
        image = media[0].get("source_url") if media and isinstance(media[0], dict) else None
        meta = post.get("meta")
        meta = meta if isinstance(meta, dict) else {}  # WordPress sends [] when no key is registered
        return Draft(
            id=str(post["id"]),
            title=html_to_text((post.get("title") or {}).get("rendered", "")),
            body=html_to_text((post.get("content") or {}).get("rendered", "")),
            hero_image_url=image or None,
            modified_at=_gmt(post["modified_gmt"]),
            status=str(post["status"]),
            note=str(meta.get(self.note_meta_key) or ""),
        )

    def list_drafts(self) -> list[Draft]:
        found: dict[str, Draft] = {}
        page, pages = 1, 1
        while page <= pages:
            params = {
                "status": QUEUE_STATUS,
                "per_page": self.per_page,
                "page": page,
                "orderby": "id",
                "order": "asc",
                "_embed": "wp:featuredmedia",
            }
            try:
                response = self._call("GET", POSTS, params=params)
            except CmsError as err:
                # Drafts published since the first page can leave fewer pages than it counted.
                if page > 1 and err.code == "rest_post_invalid_page_number":
                    break
                raise
            batch = response.json()
            counted = response.headers.get("X-WP-TotalPages")
            # Without the count (a proxy dropped it), go on while pages come back full.
            pages = int(counted) if counted else (page + 1 if len(batch) == self.per_page else page)
            for post in batch:
                # Drafts added or removed between two pages shift the rest: one may come twice
                # (kept once) or be missed this run (the next run lists it).
                found.setdefault(str(post["id"]), self._draft(post))
            page += 1
        return sorted(found.values(), key=lambda d: (d.modified_at, d.id))

    def get_draft(self, draft_id: str) -> Draft | None:
        response = self._call(
            "GET", f"{POSTS}/{_post_id(draft_id)}", params={"_embed": "wp:featuredmedia"}, allow=(404, 410)
        )
        return None if response.status_code in (404, 410) else self._draft(response.json())

    def _image_hosts(self) -> frozenset[str]:
        """Where hero images may be fetched from: ``media_hosts``, else the connection's host."""
        if self.media_hosts is None:
            from airflow.providers.http.hooks.http import HttpHook

            host = HttpHook.get_connection(self.conn_id).host or ""
            self.media_hosts = (urlsplit(host if "://" in host else f"//{host}").hostname or "",)
        return frozenset(h.lower() for h in self.media_hosts)

    def _image_url_allowed(self, draft: Draft, url: str) -> None:
        # The address comes from the CMS: never let it point the worker at other machines or files.
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise CmsError(f"the hero image of draft {draft.id} is not an http(s) URL (scheme {parts.scheme!r})")
        if (parts.hostname or "") not in self._image_hosts():
            raise CmsError(
                f"the hero image of draft {draft.id} is on host {parts.hostname!r}, not one of "
                f"{sorted(self._image_hosts())} (add it to media_hosts to fetch it)"
            )

    def read_hero_image(self, draft: Draft) -> bytes | None:
        """The image, fetched without the site's credentials, only from the allowed media hosts
        (redirects included)."""
        if not draft.hero_image_url:
            return None
        import requests

        url = draft.hero_image_url
        for _ in range(MAX_IMAGE_REDIRECTS + 1):
            self._image_url_allowed(draft, url)
            self.requests += 1
            with requests.get(url, timeout=60, stream=True, allow_redirects=False) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code >= 400:
                    raise CmsError(
                        f"the hero image of draft {draft.id} answered {response.status_code}",
                        status=response.status_code,
                    )
                data = response.raw.read(MAX_IMAGE_BYTES + 1, decode_content=True)
            if len(data) > MAX_IMAGE_BYTES:
                raise CmsError(f"the hero image of draft {draft.id} is over {MAX_IMAGE_BYTES} bytes")
            return data
        raise CmsError(f"the hero image of draft {draft.id} redirected more than {MAX_IMAGE_REDIRECTS} times")

    def apply_decision(
        self, draft_id: str, decision: Decision | str, note: str = "", *, checked_modified: datetime | None = None
    ) -> DraftUpdate:
        chosen = parse_decision(decision)
        post_id = _post_id(draft_id)
        refused = refusal(self.get_draft(draft_id), draft_id, chosen, checked_modified, note)
        if refused:
            return refused
        endpoint = f"{POSTS}/{post_id}"
        body: dict[str, Any] = {}
        if note and self.note_meta_key:
            body["meta"] = {self.note_meta_key: note}
        if chosen is Decision.REJECT:
            if body:  # the note first: a post in the bin can still be read but not edited by the REST API
                self._call("POST", endpoint, body=body, allow=(404, 410))
            response = self._call("DELETE", endpoint, allow=(404, 410))
        else:
            response = self._call("POST", endpoint, body={**body, "status": STATUS_AFTER[chosen]}, allow=(404, 410))
        if response.status_code in (404, 410):  # deleted between our read and our write
            return DraftUpdate(
                draft_id,
                chosen.value,
                Outcome.MISSING.value,
                None,
                f"draft {draft_id} was deleted in the CMS meanwhile: nothing written",
            )
        post = response.json()
        message = f"draft {draft_id} is now {post.get('status')!r} in WordPress"
        if body and (post.get("meta") or {}).get(self.note_meta_key) != note:
            message += f"; the note was not stored (expose the post meta key {self.note_meta_key!r} to the REST API)"
        return DraftUpdate(draft_id, chosen.value, Outcome.UPDATED.value, str(post.get("status")), message)


def _post_id(draft_id: str) -> int:
    """WordPress post ids are positive integers; anything else never reaches a URL."""
    if not re.fullmatch(r"[0-9]{1,19}", str(draft_id)) or int(draft_id) < 1:
        raise ValueError(f"a WordPress draft id is a positive integer, not {draft_id!r}")
    return int(draft_id)
