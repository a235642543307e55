"""Where the example DAGs read articles, comments and images, and record what they hold back.

The DAGs only know :class:`PublishingSource`. :class:`FolderSource` implements it over the sample
archive in ``dags/data``, its holds in shared object storage (:mod:`publishing.holds`); a real CMS
(an HTTP API, a database table) is one more class with the same methods, chosen in
:func:`default_source`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from publishing.holds import HoldStore

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    author: str
    section: str
    published_at: datetime
    url: str  # where readers find it
    hero_image: str
    text_file: str  # "title, blank line, body" as scanned, relative to the archive


@dataclass(frozen=True)
class Comment:
    id: str
    article_id: str
    author: str
    posted_at: datetime
    text: str


class PublishingSource(Protocol):
    def articles_published_between(self, start: datetime, end: datetime) -> list[Article]: ...
    def text_location(self, article: Article) -> str:
        """Where an operator reads the article's text (a path or an ObjectStoragePath URL): the
        text itself never travels through XCom or rendered template fields."""
        ...

    def read_text(self, article: Article) -> str: ...
    def articles(self, ids: Iterable[str]) -> list[Article]: ...
    def archive_before(self, start: datetime) -> list[Article]: ...
    def comments_posted_between(self, start: datetime, end: datetime) -> list[Comment]: ...
    def image_path(self, name: str) -> Path: ...
    def hold(self, kind: str, ids: Iterable[str], reason: str) -> list[str]: ...
    def holds(self) -> dict[str, dict[str, Any]]: ...


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FolderSource:
    """The sample archive: articles.json (metadata), articles/<id>.txt, comments.jsonl, images/."""

    def __init__(self, root: Path | None = None, holds_url: str | None = None) -> None:
        # COPYLEAKS_EXAMPLE_DATA: another archive in the same layout (tests use a bigger one).
        self.root = root or Path(os.environ.get("COPYLEAKS_EXAMPLE_DATA") or DATA)
        # Holds are shared by every worker: below [copyleaks] artifacts_url unless given.
        self._holds = HoldStore(holds_url)

    def _all_articles(self) -> list[Article]:
        found = [
            Article(
                id=raw["id"],
                title=raw["title"],
                author=raw["author"],
                section=raw["section"],
                published_at=_time(raw["published_at"]),
                url=raw["url"],
                hero_image=raw["hero_image"],
                text_file=raw["text"],
            )
            for raw in json.loads((self.root / "articles.json").read_text())
        ]
        return sorted(found, key=lambda a: (a.published_at, a.id))

    def text_location(self, article: Article) -> str:
        return str(self._inside(article.text_file))

    def read_text(self, article: Article) -> str:
        return self._inside(article.text_file).read_text()

    def articles_published_between(self, start: datetime, end: datetime) -> list[Article]:
        return [a for a in self._all_articles() if start <= a.published_at < end]

    def articles(self, ids: Iterable[str]) -> list[Article]:
        wanted = set(ids)
        return [a for a in self._all_articles() if a.id in wanted]

    def archive_before(self, start: datetime) -> list[Article]:
        return [a for a in self._all_articles() if a.published_at < start]

    def comments_posted_between(self, start: datetime, end: datetime) -> list[Comment]:
        comments = []
        for line in (self.root / "comments.jsonl").read_text().splitlines():
            raw = json.loads(line)
            posted = _time(raw["posted_at"])
            if start <= posted < end:
                comments.append(Comment(raw["id"], raw["article_id"], raw["author"], posted, raw["text"]))
        return comments

    def image_path(self, name: str) -> Path:
        return self._inside(name)

    def _inside(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"{name!r} is outside the archive")
        return path

    def hold(self, kind: str, ids: Iterable[str], reason: str) -> list[str]:
        """Record that items are held back (one object each); returns the ones newly held."""
        return self._holds.hold(kind, ids, reason)

    def holds(self) -> dict[str, dict[str, Any]]:
        """Every held item, keyed ``"<kind>:<id>"``, whichever machine held it."""
        return self._holds.holds()


def default_source() -> PublishingSource:
    """The source the DAGs use. Swap in a CMS-backed class here."""
    return FolderSource()
