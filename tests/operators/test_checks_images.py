"""CopyleaksImageCheckOperator: inputs (path, ObjectStoragePath, bytes, base64), validation, policies."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_copyleaks.exceptions import CopyleaksPolicyViolation
from airflow_copyleaks.operators import CopyleaksImageCheckOperator
from tests.operators.conftest import png_image, png_with_header, run

HERO_URL = "https://photos.example.com/hero.png"
PAGES = ["https://news.example.com/story", "https://blog.example.org/post"]


def image_calls(emulator: Any) -> list[dict[str, Any]]:
    return [c for c in emulator.calls() if c["path"].startswith("/v1/image-plagiarism-detector/")]


@pytest.fixture
def hero(copyleaks_emulator: Any, tmp_path: Path) -> Path:
    data = png_image(96, 64, seed=3)
    copyleaks_emulator.add_image(HERO_URL, data, pages=PAGES, filename="hero.png")
    path = tmp_path / "hero.png"
    path.write_bytes(data)
    return path


def resized(path: Path, size: tuple[int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    with Image.open(path) as img:
        img.resize(size).save(out, format="JPEG", quality=90)
    return out.getvalue()


def test_full_copy_is_a_hit_with_its_pages(copyleaks_conn: str, hero: Path) -> None:
    report, _ = run(CopyleaksImageCheckOperator(task_id="img", images=str(hero)))
    (item,) = report["items"]
    assert item["verdict"] == "hit" and item["breaches"] == ["full_matches 1 > 0"]
    assert (item["full_matches"], item["partial_matches"], item["total_matches"]) == (1, 0, 1)
    assert item["matches"] == [{"url": HERO_URL, "type": "full", "pages": PAGES}]
    assert item["filename"] == "hero.png" and item["credits"] == 1
    assert (item["width"], item["height"]) == (96, 64)


def test_policy_fails_on_a_full_match(copyleaks_conn: str, hero: Path, ctx: Any) -> None:
    op = CopyleaksImageCheckOperator(
        task_id="img", images=[{"key": "article-9", "path": str(hero)}], policy={"on_hit": "fail"}
    )
    with pytest.raises(CopyleaksPolicyViolation, match=r"article-9 \(full_matches 1 > 0\)"):
        op.execute(ctx(op))


def test_partial_copy_passes_by_default_and_can_be_gated(copyleaks_conn: str, hero: Path) -> None:
    copy = resized(hero, (80, 54))
    report, _ = run(CopyleaksImageCheckOperator(task_id="img", images=copy))
    (item,) = report["items"]
    assert (item["full_matches"], item["partial_matches"]) == (0, 1) and item["verdict"] == "pass"
    assert item["matches"][0]["type"] == "partial" and item["filename"] == "image.jpeg"  # named from the header
    strict = CopyleaksImageCheckOperator(task_id="img2", images=copy, policy={"thresholds": {"total_matches": 0}})
    assert run(strict)[0]["items"][0]["verdict"] == "hit"


def test_every_input_form_in_one_batch(copyleaks_conn: str, hero: Path, tmp_path: Path) -> None:
    other = png_image(40, 40, seed=9)
    (tmp_path / "other.png").write_bytes(other)
    images = [
        ObjectStoragePath(f"file://{hero}"),
        {"key": "from-xcom", "base64": base64.b64encode(other).decode(), "filename": "other.png"},
        "data:image/png;base64," + base64.b64encode(other).decode(),
        {"key": "on-disk", "path": f"file://{tmp_path / 'other.png'}"},
    ]
    report, _ = run(CopyleaksImageCheckOperator(task_id="img", images=images))
    assert [i["status"] for i in report["items"]] == ["ok"] * 4
    assert [i["full_matches"] for i in report["items"]] == [1, 0, 0, 0]
    assert report["totals"]["full_matches"] == 1 and report["totals"]["credits"] == 4


def test_validation_happens_before_upload(copyleaks_conn: str, copyleaks_emulator: Any, tmp_path: Path) -> None:
    huge_header = png_with_header(10_000, 8_000)  # claims 80 megapixels in a ~60-byte file
    big_file = tmp_path / "big.png"
    with big_file.open("wb") as f:  # sparse: 21 MB on paper, nothing to read
        f.write(png_image(8, 8))
        f.truncate(21 * 1024 * 1024)
    images = [
        {"key": "80mp", "data": huge_header, "filename": "poster.png"},
        {"key": "21mb", "path": str(big_file)},
        {"key": "tiff", "data": png_image(8, 8), "filename": "scan.tiff"},
        {"key": "not-an-image", "data": b"hello, I am text", "filename": "x.png"},
        {"key": "bad-base64", "base64": "@@@"},
        {"key": "two-sources", "data": b"x", "base64": "eA=="},
        {"key": "missing", "path": str(tmp_path / "nope.png")},
        {"key": "fine", "data": png_image(16, 16, seed=5), "filename": "fine.png"},
    ]
    op = CopyleaksImageCheckOperator(task_id="img", images=images, policy={"fail_on_error": False})
    report, _ = run(op)
    errors = {i["key"]: i.get("error") for i in report["items"]}
    assert "80.0 megapixels" in errors["80mp"] and "75 megapixels" in errors["80mp"]
    assert "21.0 MB" in errors["21mb"] and "less than 20 MB" in errors["21mb"]
    assert "unsupported extension 'tiff'" in errors["tiff"]
    assert "not a readable" in errors["not-an-image"]
    assert "base64" in errors["bad-base64"] and "exactly one of" in errors["two-sources"]
    assert "cannot read" in errors["missing"]
    assert errors["fine"] is None and report["totals"]["errors"] == 7
    assert len(image_calls(copyleaks_emulator)) == 1  # only the valid image was uploaded


def test_image_sandbox_is_free(copyleaks_conn: str, copyleaks_emulator: Any) -> None:
    report, _ = run(CopyleaksImageCheckOperator(task_id="img", images=png_image(20, 20), sandbox=True))
    assert report["sandbox"] is True and report["items"][0]["credits"] == 0
    assert copyleaks_emulator.stats()["credits_used"] == 0
