"""The WordPress draft source against the WordPress fake, over real HTTP, through an Airflow connection."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from publishing.source_drafts import CmsError, Outcome, draft_source
from publishing.source_wordpress import WordPressDraftSource

from airflow_copyleaks.testing.wordpress import WordPressFake
from tests.cms.conftest import connection_env

PNG = b"\x89PNG\r\n\x1a\n" + b"hero" * 10


def _source(conn_id: str, **kwargs: object) -> WordPressDraftSource:
    return WordPressDraftSource(conn_id, **kwargs)  # type: ignore[arg-type]


def test_lists_every_draft_across_pages(wordpress: WordPressFake, wordpress_conn: str) -> None:
    start = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
    drafts = [
        wordpress.add_post(f"Draft number {n}", f"Body {n}.", modified=start + timedelta(minutes=n)) for n in range(7)
    ]
    wordpress.add_post("Already out", "Published.", status="publish")
    wordpress.add_post("Waiting for its author", "Pending.", status="pending")

    found = _source(wordpress_conn, per_page=3).list_drafts()

    assert [d.id for d in found] == [str(p) for p in drafts]  # oldest change first, nothing twice
    assert {d.status for d in found} == {"draft"}
    pages = [path for method, path, _ in wordpress.requests if method == "GET"]
    assert len(pages) == 3  # X-WP-TotalPages = ceil(7 / 3)
    assert all("status=draft" in p and "per_page=3" in p for p in pages)
    assert ["page=1" in pages[0], "page=2" in pages[1], "page=3" in pages[2]] == [True, True, True]


def test_a_draft_published_between_two_pages_does_not_fail_the_listing(
    wordpress: WordPressFake, wordpress_conn: str
) -> None:
    drafts = [wordpress.add_post(f"Draft {n}", "Text.") for n in range(7)]
    # Someone publishes the first draft right after the gate read page 2: two pages are left.
    wordpress.after_request("&page=2", lambda: wordpress.edit_post(drafts[0], status="publish"))

    found = _source(wordpress_conn, per_page=3).list_drafts()

    assert sorted(int(d.id) for d in found) == drafts[:6]  # the seventh moved to page 2: next run
    assert [status for method, path, status in wordpress.requests if "&page=3" in path] == [400]


def test_a_listing_without_page_counts_reads_on_while_pages_are_full(
    wordpress: WordPressFake, wordpress_conn: str
) -> None:
    drafts = [wordpress.add_post(f"Draft {n}", "Text.") for n in range(6)]
    wordpress.drop_pagination_headers()

    found = _source(wordpress_conn, per_page=3).list_drafts()

    assert sorted(int(d.id) for d in found) == drafts
    assert len(wordpress.requests) == 3  # two full pages, then WordPress's "no such page"


def test_a_draft_reads_as_plain_text_with_its_hero_image(wordpress: WordPressFake, wordpress_conn: str) -> None:
    media = wordpress.add_media("ferry.png", PNG)
    post = wordpress.add_post(
        "The ferry's back", "Skipper's first crossing.\n\nTimetables <at> both landings.", featured_media=media
    )
    source = _source(wordpress_conn)

    (draft,) = source.list_drafts()

    assert draft.id == str(post)
    assert draft.title == "The ferry\u2019s back"  # WordPress renders a typographic apostrophe
    assert draft.body == "Skipper\u2019s first crossing.\n\nTimetables <at> both landings."
    assert draft.hero_image_url == f"{wordpress.url}/wp-content/uploads/2026/11/ferry.png"
    assert draft.modified_at.tzinfo is not None
    assert source.read_hero_image(draft) == PNG
    assert draft.text().startswith("The ferry\u2019s back\n\n")


def test_decisions_become_wordpress_statuses(wordpress: WordPressFake, wordpress_conn: str) -> None:
    publish, edits, reject = (wordpress.add_post(f"Post {n}", "Text.") for n in range(3))
    source = _source(wordpress_conn)
    checked = {d.id: d.modified_at for d in source.list_drafts()}

    results = [
        source.apply_decision(str(publish), "publish", checked_modified=checked[str(publish)]),
        source.apply_decision(str(edits), "request_edits", "Cite the council minutes for the figures."),
        source.apply_decision(str(reject), "reject", "A copy of a published article."),
    ]

    assert [(r.outcome, r.status) for r in results] == [
        ("updated", "publish"),
        ("updated", "pending"),
        ("updated", "trash"),
    ]
    assert wordpress.post(publish).status == "publish"  # type: ignore[union-attr]
    assert wordpress.post(edits).status == "pending"  # type: ignore[union-attr]
    assert wordpress.post(edits).meta == {"copyleaks_review": "Cite the council minutes for the figures."}  # type: ignore[union-attr]
    assert wordpress.post(reject).status == "trash"  # type: ignore[union-attr]: in the bin, not gone
    assert wordpress.post(reject).meta == {"copyleaks_review": "A copy of a published article."}  # type: ignore[union-attr]
    assert source.get_draft(str(edits)).note == "Cite the council minutes for the figures."  # type: ignore[union-attr]
    assert source.list_drafts() == []  # nothing decided is offered to the gate again


def test_a_note_the_site_cannot_store_is_reported(wordpress_conn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with WordPressFake(registered_meta=()) as bare:
        bare.add_user("editor", "pw")
        monkeypatch.setenv("AIRFLOW_CONN_WORDPRESS_BARE", connection_env(bare.url, password="pw"))
        post = bare.add_post("Post", "Text.")
        result = _source("wordpress_bare").apply_decision(str(post), "request_edits", "Shorten it.")
        assert (result.outcome, bare.post(post).status) == ("updated", "pending")  # type: ignore[union-attr]
        assert "the note was not stored" in result.message and "copyleaks_review" in result.message


def test_a_wrong_application_password_fails_with_wordpress_message(
    wordpress: WordPressFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = wordpress.add_post("Post", "Text.")
    monkeypatch.setenv("AIRFLOW_CONN_WORDPRESS_WRONG", connection_env(wordpress.url, password="not the password"))
    source = _source("wordpress_wrong")

    with pytest.raises(CmsError) as listing:
        source.list_drafts()
    with pytest.raises(CmsError) as deciding:
        source.apply_decision(str(post), "publish")

    for err in (listing.value, deciding.value):
        assert err.status == 401 and err.code == "incorrect_password"
        assert "The provided password is an invalid application password." in str(err)
        assert "not the password" not in str(err)
    assert wordpress.writes() == [] and wordpress.post(post).status == "draft"  # type: ignore[union-attr]


def test_a_401_on_the_update_fails_and_publishes_nothing(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Text.")
    wordpress.add_fault(f"/wp-json/wp/v2/posts/{post}", status=401, method="POST")

    with pytest.raises(CmsError, match=r"401 to POST /wp-json/wp/v2/posts/\d+: rest_not_logged_in: You are not"):
        _source(wordpress_conn).apply_decision(str(post), "publish")

    assert wordpress.post(post).status == "draft"  # type: ignore[union-attr]
    assert wordpress.writes() == []


def test_credentials_a_proxy_strips_fail_with_wordpress_message(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Text.")
    wordpress.strip_authorization()
    source = _source(wordpress_conn)

    with pytest.raises(CmsError, match=r"400 .*rest_invalid_param: Invalid parameter\(s\): status \(status: Status is"):
        source.list_drafts()
    with pytest.raises(CmsError, match=r"401 .*rest_forbidden: Sorry, you are not allowed to do that"):
        source.apply_decision(str(post), "publish")
    assert wordpress.post(post).status == "draft"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "method", "message"),
    [
        (500, "GET", "internal_server_error: There has been a critical error on this website."),
        (503, "POST", "503 Service Temporarily Unavailable"),
        (502, "DELETE", "502 Bad Gateway"),
    ],
)
def test_a_server_error_fails_with_its_message_and_changes_nothing(
    wordpress: WordPressFake, wordpress_conn: str, status: int, method: str, message: str
) -> None:
    post = wordpress.add_post("Post", "Text.")
    wordpress.add_fault("/wp-json/wp/v2/posts", status=status, method=method, count=None)
    source = _source(wordpress_conn)
    decision = "reject" if method == "DELETE" else "publish"

    with pytest.raises(CmsError) as caught:
        source.list_drafts() if method == "GET" else source.apply_decision(str(post), decision)

    assert caught.value.status == status and message in str(caught.value)
    assert wordpress.writes() == [] and wordpress.post(post).status == "draft"  # type: ignore[union-attr]


def test_a_draft_deleted_meanwhile_is_reported_not_republished(wordpress: WordPressFake, wordpress_conn: str) -> None:
    deleted, trashed = wordpress.add_post("Deleted", "Text."), wordpress.add_post("Binned", "Text.")
    source = _source(wordpress_conn)
    assert len(source.list_drafts()) == 2
    wordpress.delete_post(deleted)  # "Delete Permanently" in the CMS while the gate was checking
    wordpress.edit_post(trashed, status="trash")

    results = [source.apply_decision(str(p), "publish") for p in (deleted, trashed)]

    assert [(r.outcome, r.status) for r in results] == [("missing", None), ("missing", None)]
    assert all("deleted in the CMS meanwhile" in r.message for r in results)
    assert wordpress.post(deleted) is None and wordpress.post(trashed).status == "trash"  # type: ignore[union-attr]
    assert wordpress.writes() == []


def test_a_draft_deleted_between_read_and_write_is_missing(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Text.")
    # WordPress's answer for a post that no longer exists, to the write only.
    body = {"code": "rest_post_invalid_id", "message": "Invalid post ID.", "data": {"status": 404}}
    wordpress.add_fault(f"/wp-json/wp/v2/posts/{post}", status=404, method="POST", body=body)

    result = _source(wordpress_conn).apply_decision(str(post), "publish")

    assert (result.outcome, result.status) == (Outcome.MISSING.value, None)
    assert wordpress.writes() == []


def test_a_draft_edited_after_its_check_is_not_published(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Checked text.", modified=datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc))
    source = _source(wordpress_conn)
    (checked,) = source.list_drafts()
    wordpress.edit_post(post, content="Text changed after the check.")

    result = source.apply_decision(checked.id, "publish", checked_modified=checked.modified_at)

    assert result.outcome == "changed" and "check it again" in result.message
    assert wordpress.post(post).status == "draft"  # type: ignore[union-attr]


def test_a_post_published_by_someone_else_is_left_alone(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Text.")
    wordpress.edit_post(post, status="publish")

    result = _source(wordpress_conn).apply_decision(str(post), "reject", "Plagiarised.")

    assert (result.outcome, result.status) == ("moved", "publish")
    assert wordpress.post(post).status == "publish" and wordpress.writes() == []  # type: ignore[union-attr]


@pytest.mark.parametrize("bad_id", ["../users/1", "12?force=true", "0", "-3", "\u00b2"])
def test_an_id_that_is_not_a_post_id_never_reaches_a_url(
    wordpress: WordPressFake, wordpress_conn: str, bad_id: str
) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        _source(wordpress_conn).apply_decision(bad_id, "publish")
    assert wordpress.requests == []


def test_an_unknown_decision_is_refused_before_any_request(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Text.")
    with pytest.raises(ValueError, match="decision must be one of publish, request_edits, reject"):
        _source(wordpress_conn).apply_decision(str(post), "approve")
    assert wordpress.requests == []


def test_the_source_is_chosen_by_name_and_connection(wordpress_conn: str) -> None:
    chosen = draft_source("wordpress", conn_id=wordpress_conn)
    assert isinstance(chosen, WordPressDraftSource) and chosen.conn_id == wordpress_conn
    with pytest.raises(ValueError, match="per_page must be between 1 and 100"):
        WordPressDraftSource(wordpress_conn, per_page=101)


def test_an_unreachable_or_silent_wordpress_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_WORDPRESS_DOWN", connection_env(f"http://127.0.0.1:{port}"))
    with pytest.raises(CmsError, match=r"WordPress did not answer GET /wp-json/wp/v2/posts"):
        _source("wordpress_down").list_drafts()

    # Its own site: the slowed request finishes after the test, and must not touch another test's log.
    with WordPressFake() as slow:
        slow.add_user("editor", "pw")
        post = slow.add_post("Post", "Text.")
        monkeypatch.setenv("AIRFLOW_CONN_WORDPRESS_SLOW", connection_env(slow.url, password="pw"))
        # A read, slowed down: a slowed write would still land after the client gave up.
        slow.add_fault(f"/wp-json/wp/v2/posts/{post}", status=0, method="GET", delay_seconds=3)
        with pytest.raises(CmsError, match=rf"WordPress did not answer GET /wp-json/wp/v2/posts/{post}"):
            _source("wordpress_slow", timeout=0.5).apply_decision(str(post), "request_edits")
        assert slow.writes() == [] and slow.post(post).status == "draft"  # type: ignore[union-attr]


def test_the_review_options_are_decisions(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Post", "Text.")
    result = _source(wordpress_conn).apply_decision(str(post), "Request edits", "Name the source of the quote.")
    assert (result.decision, wordpress.post(post).status) == ("request_edits", "pending")  # type: ignore[union-attr]


def test_a_user_who_may_not_edit_fails_with_wordpress_message(
    wordpress_fake: WordPressFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    wordpress_fake.add_user("writer", "pw", role="contributor")
    post = wordpress_fake.add_post("Post", "Text.")
    monkeypatch.setenv("AIRFLOW_CONN_WORDPRESS_WRITER", connection_env(wordpress_fake.url, "writer", "pw"))

    with pytest.raises(CmsError, match=r"403 to POST /wp-json/wp/v2/posts/\d+: rest_cannot_edit: Sorry, you are not"):
        _source("wordpress_writer").apply_decision(str(post), "publish")

    assert wordpress_fake.post(post).status == "draft" and wordpress_fake.writes() == []  # type: ignore[union-attr]


def test_a_retried_decision_is_done_once_and_reported_as_done(wordpress: WordPressFake, wordpress_conn: str) -> None:
    published, rejected = wordpress.add_post("Clean", "Text."), wordpress.add_post("Copied", "Text.")
    source = _source(wordpress_conn)

    # A task retried after its first answer was lost asks for the same decision again.
    first = [source.apply_decision(str(published), "publish"), source.apply_decision(str(rejected), "reject")]
    again = [source.apply_decision(str(published), "publish"), source.apply_decision(str(rejected), "reject")]

    assert [(r.outcome, r.status) for r in first + again] == [("updated", "publish"), ("updated", "trash")] * 2
    assert all("already" in r.message for r in again)
    assert [method for method, _, _ in wordpress.writes()] == ["POST", "DELETE"]


def test_a_post_someone_else_published_is_moved_not_published_by_the_gate(
    wordpress: WordPressFake, wordpress_conn: str
) -> None:
    post = wordpress.add_post("Clean", "Text.")
    checked = _source(wordpress_conn).get_draft(str(post)).modified_at  # type: ignore[union-attr]
    # An editor publishes it in WordPress (maybe after editing it) before the gate's task runs.
    wordpress.edit_post(post, status="publish")

    result = _source(wordpress_conn).apply_decision(
        str(post), "publish", "every Copyleaks check passed", checked_modified=checked
    )

    assert (result.outcome, result.status) == ("moved", "publish")
    assert wordpress.writes() == []


def test_a_second_request_for_edits_writes_its_new_note(wordpress: WordPressFake, wordpress_conn: str) -> None:
    post = wordpress.add_post("Copied", "Text.")
    source = _source(wordpress_conn)
    source.apply_decision(str(post), "request_edits", "Request edits by ann")

    again = source.apply_decision(str(post), "request_edits", "Request edits by bob")

    assert (again.outcome, again.status) == ("updated", "pending")
    assert "already" not in again.message
    assert wordpress.post(post).meta["copyleaks_review"] == "Request edits by bob"  # type: ignore[union-attr]


def test_a_retried_decision_with_its_note_is_done_once(wordpress: WordPressFake, wordpress_conn: str) -> None:
    published, rejected = wordpress.add_post("Clean", "Text."), wordpress.add_post("Copied", "Text.")
    source = _source(wordpress_conn)
    checked = source.get_draft(str(published)).modified_at  # type: ignore[union-attr]
    decisions = [(published, "publish", "every Copyleaks check passed"), (rejected, "reject", "Reject by ann")]

    first = [source.apply_decision(str(p), d, n, checked_modified=checked) for p, d, n in decisions]
    writes = len(wordpress.writes())
    again = [source.apply_decision(str(p), d, n, checked_modified=checked) for p, d, n in decisions]

    assert [(r.outcome, r.status) for r in first + again] == [("updated", "publish"), ("updated", "trash")] * 2
    assert all("already" in r.message for r in again)
    assert len(wordpress.writes()) == writes  # nothing written twice


def _draft_with_image(wordpress: WordPressFake, conn: str, **media: object) -> tuple[WordPressDraftSource, Any]:
    post = wordpress.add_post("Hero", "Text.", featured_media=wordpress.add_media("hero.png", PNG, **media))  # type: ignore[arg-type]
    source = _source(conn)
    return source, source.get_draft(str(post))


def test_a_hero_image_on_another_host_is_not_fetched(wordpress: WordPressFake, wordpress_conn: str) -> None:
    port = wordpress.url.rsplit(":", 1)[1]
    elsewhere = f"http://localhost:{port}/wp-content/uploads/2026/11/hero.png"  # the same fake, another name
    source, draft = _draft_with_image(wordpress, wordpress_conn, source_url=elsewhere)

    with pytest.raises(CmsError, match="'localhost'.*media_hosts"):
        source.read_hero_image(draft)
    assert not [path for _, path, _ in wordpress.requests if path.startswith("/wp-content/")]

    allowed = WordPressDraftSource(wordpress_conn, media_hosts=("localhost",))
    assert allowed.read_hero_image(draft) == PNG


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/hero.png"])
def test_a_hero_image_that_is_not_http_is_refused(wordpress: WordPressFake, wordpress_conn: str, url: str) -> None:
    source, draft = _draft_with_image(wordpress, wordpress_conn, source_url=url)

    with pytest.raises(CmsError, match="http"):
        source.read_hero_image(draft)


def test_a_hero_image_redirect_to_another_host_is_not_followed(wordpress: WordPressFake, wordpress_conn: str) -> None:
    port = wordpress.url.rsplit(":", 1)[1]
    wordpress.add_fault("/wp-content/uploads/", status=302, location=f"http://localhost:{port}/wp-json/wp/v2/users")
    source, draft = _draft_with_image(wordpress, wordpress_conn)

    with pytest.raises(CmsError, match="'localhost'"):
        source.read_hero_image(draft)
    assert [path for _, path, _ in wordpress.requests if "/users" in path] == []

    # A redirect on the site itself (a moved upload) is followed.
    wordpress.add_fault("/wp-content/uploads/", status=301, location="/wp-content/uploads/2026/11/hero.png")
    assert source.read_hero_image(draft) == PNG
