"""Image plagiarism checks (REFERENCE.md §10.1): the summary of a response and the product's spec."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_copyleaks import ids
from airflow_copyleaks import validation as v
from airflow_copyleaks.checks.figures import credits_of, number
from airflow_copyleaks.checks.inputs import ImageItem, image_items, load_image
from airflow_copyleaks.checks.policy import Bound
from airflow_copyleaks.checks.spec import CheckSpec, Prepared

if TYPE_CHECKING:
    from airflow_copyleaks.hooks.copyleaks import CopyleaksHook

MATCH_PAGES_MAX = 5
IMAGE_METRICS: dict[str, Bound] = {"full_matches": "max", "partial_matches": "max", "total_matches": "max"}


def summarize_image(response: Mapping[str, Any], *, max_matches: int) -> dict[str, Any]:
    """Full and partial matches (image URL, the pages showing it), capped; totals; credits."""
    matches = response.get("matches") or {}
    internet = [m for m in matches.get("internet") or [] if isinstance(m, Mapping)]
    score = matches.get("score") or {}
    full = [m for m in internet if int(number(m.get("matchType"), 1)) == 0]
    partial = [m for m in internet if int(number(m.get("matchType"), 1)) != 0]
    typed = [(m, "full") for m in full] + [(m, "partial") for m in partial]
    listed = [
        {
            "url": m.get("url"),
            "type": kind,
            "pages": [p.get("url") for p in (m.get("webPages") or []) if isinstance(p, Mapping)][:MATCH_PAGES_MAX],
        }
        for m, kind in typed[:max_matches]
    ]
    image = response.get("scannedImage") or {}
    return {
        "full_matches": int(number(score.get("fullMatches"), len(full))),
        "partial_matches": int(number(score.get("partialMatches"), len(partial))),
        "total_matches": int(number(score.get("totalMatches"), len(internet))),
        "matches": listed,
        "width": image.get("width"),
        "height": image.get("height"),
        "credits": credits_of(image),
    }


def image_values(summary: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(summary.get(k) or 0) for k in IMAGE_METRICS}


def prepare_image(item: ImageItem) -> Prepared:
    data, filename = load_image(item)
    # Validate here too, not only in the hook: a bad image must fail before its id is derived.
    v.validate_image_for_check(data, filename, field=f"images[{item.key}]")
    return Prepared(data, ids.content_sha256(data), filename)


def image_spec(*, max_details: int) -> CheckSpec:
    """The image plagiarism product."""

    def call(hook: CopyleaksHook, scan_id: str, prepared: Prepared, sandbox: bool | None) -> dict[str, Any]:
        assert prepared.filename is not None
        response = hook.check_image_plagiarism(scan_id, prepared.payload, prepared.filename, sandbox=sandbox)
        return {**summarize_image(response, max_matches=max_details), "filename": prepared.filename}

    def aggregate(summaries: list[Mapping[str, Any]]) -> dict[str, Any]:
        return {k: sum(int(x.get(k) or 0) for x in summaries) for k in ("full_matches", "partial_matches")}

    return CheckSpec(
        kind="image",
        id_prefix="img",
        bounds=dict(IMAGE_METRICS),
        default_thresholds={"full_matches": 0},
        collect=image_items,
        prepare=prepare_image,
        call=call,
        values=image_values,
        aggregate=aggregate,
    )
