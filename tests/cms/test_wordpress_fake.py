"""The WordPress fake answers in WordPress's documented shapes (what a real site would send)."""

from __future__ import annotations

import ast
from pathlib import Path

import requests

import airflow_copyleaks.testing.wordpress as fake_package
from airflow_copyleaks.testing.wordpress import WordPressFake
from tests.cms.conftest import APP_PASSWORD, EDITOR

AUTH = (EDITOR, APP_PASSWORD)


def test_the_fake_imports_nothing_from_the_provider_or_airflow() -> None:
    folder = Path(fake_package.__file__).parent
    allowed = ("airflow_copyleaks.testing.wordpress", "airflow_copyleaks.testing.serving")
    offending = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if (name.startswith("airflow_copyleaks") and not name.startswith(allowed)) or name.split(".")[
                    0
                ] == "airflow":
                    offending.append(f"{path.name}: {name}")
    assert offending == []


def test_a_post_has_wordpress_fields_and_pagination_headers(wordpress: WordPressFake) -> None:
    for n in range(5):
        wordpress.add_post(f"Draft {n}", "One.\n\nTwo.")

    response = requests.get(
        f"{wordpress.url}/wp-json/wp/v2/posts",
        params={"status": "draft", "per_page": 2, "page": 2},
        auth=AUTH,
        timeout=10,
    )

    assert response.status_code == 200
    assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("5", "3")
    assert 'rel="prev"' in response.headers["Link"] and 'rel="next"' in response.headers["Link"]
    post = response.json()[0]
    assert {"id", "title", "content", "status", "modified_gmt", "featured_media", "meta", "link"} <= set(post)
    assert post["content"]["rendered"] == "<p>One.</p>\n<p>Two.</p>\n"
    assert post["modified_gmt"].count(":") == 2 and "+" not in post["modified_gmt"]  # GMT without an offset


def test_errors_have_wordpress_codes(wordpress: WordPressFake) -> None:
    posts = f"{wordpress.url}/wp-json/wp/v2/posts"
    post = wordpress.add_post("Draft", "Text.")

    def answer(method: str, url: str, **kwargs: object) -> tuple[int, str]:
        response = requests.request(method, url, timeout=10, **kwargs)  # type: ignore[arg-type]
        return response.status_code, response.json()["code"]

    assert answer("GET", f"{wordpress.url}/wp-json/wp/v2/users/me") == (401, "rest_not_logged_in")
    assert answer("GET", posts, params={"status": "draft"}) == (400, "rest_invalid_param")
    anonymous = requests.get(posts, params={"status": "draft"}, timeout=10).json()
    assert anonymous["data"]["details"]["status"]["code"] == "rest_forbidden_status"
    assert answer("GET", posts, params={"status": "draft", "per_page": 101}, auth=AUTH) == (400, "rest_invalid_param")
    assert answer("GET", posts, params={"status": "draft", "page": 9}, auth=AUTH) == (
        400,
        "rest_post_invalid_page_number",
    )
    assert answer("POST", f"{posts}/{post}", json={"status": "publish"}) == (401, "rest_cannot_edit")
    assert answer("POST", f"{posts}/{post}", json={"status": "trash"}, auth=AUTH) == (400, "rest_invalid_param")
    assert answer("GET", f"{posts}/{post}", auth=(EDITOR, "wrong")) == (401, "incorrect_password")
    wordpress.add_user("guest", "pw", role="contributor")
    assert answer("POST", f"{posts}/{post}", json={"status": "publish"}, auth=("guest", "pw")) == (
        403,
        "rest_cannot_edit",
    )
    assert requests.delete(f"{posts}/{post}", auth=AUTH, timeout=10).json()["status"] == "trash"
    assert answer("DELETE", f"{posts}/{post}", auth=AUTH) == (410, "rest_already_trashed")
    assert requests.delete(f"{posts}/{post}", params={"force": "true"}, auth=AUTH, timeout=10).json()["deleted"] is True
    assert answer("GET", f"{posts}/{post}", auth=AUTH) == (404, "rest_post_invalid_id")
    assert wordpress.post(post) is None


def test_an_injected_fault_answers_before_anything_changes(wordpress: WordPressFake) -> None:
    post = wordpress.add_post("Draft", "Text.")
    wordpress.add_fault("/wp-json/wp/v2/posts", status=503, count=1)
    url = f"{wordpress.url}/wp-json/wp/v2/posts/{post}"

    first = requests.post(url, json={"status": "publish"}, auth=AUTH, timeout=10)
    assert first.status_code == 503 and "Service Temporarily Unavailable" in first.text
    assert wordpress.post(post).status == "draft"  # type: ignore[union-attr]
    assert requests.post(url, json={"status": "publish"}, auth=AUTH, timeout=10).json()["status"] == "publish"
