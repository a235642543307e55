"""The WordPress fake on loopback (one server for the module, emptied for each test) and an Airflow
HTTP connection pointing at it, as a DAG's task would have."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_copyleaks.testing.wordpress import WordPressFake

DAGS = Path(__file__).resolve().parents[2] / "dags"
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))  # the DAGs' own helpers import as `publishing.*`, as in the DAG folder

CONN_ID = "wordpress_test"
EDITOR = "editor"
APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"


@pytest.fixture(scope="module")
def wordpress_server() -> Iterator[WordPressFake]:
    with WordPressFake() as fake:
        yield fake


@pytest.fixture
def wordpress(wordpress_server: WordPressFake) -> WordPressFake:
    wordpress_server.reset()
    wordpress_server.add_user(EDITOR, APP_PASSWORD)
    return wordpress_server


def connection_env(url: str, login: str = EDITOR, password: str = APP_PASSWORD) -> str:
    return json.dumps({"conn_type": "http", "host": url, "login": login, "password": password})


@pytest.fixture
def wordpress_conn(wordpress: WordPressFake, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", connection_env(wordpress.url))
    return CONN_ID


def seed_sample_drafts(fake: WordPressFake, ids: list[str]) -> dict[str, int]:
    """The sample folder's drafts ``ids`` as WordPress drafts (with their hero images); their post ids."""
    from publishing.source_folder import FolderDraftSource

    posted = {}
    # The folder's decisions are not read here; an empty folder stands for them (Airflow 3.1 has no memory://).
    with tempfile.TemporaryDirectory() as state:
        source = FolderDraftSource(state_url=Path(state).as_uri())
        for draft in source.list_drafts():
            if draft.id in ids:
                image = source.read_hero_image(draft)
                media = fake.add_media(f"hero_{draft.id}.png", image) if image else 0
                posted[draft.id] = fake.add_post(
                    draft.title, draft.body, modified=draft.modified_at, featured_media=media
                )
    return posted
